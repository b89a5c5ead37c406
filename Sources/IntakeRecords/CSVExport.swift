import Foundation
import IntakeEngine

/// Records of one dialog as a CSV table: one row per record, one column per question of the
/// dialog — the columns come from the dialog, not from the records, so the header is the same every
/// month whatever was answered. A repeat group gives numbered columns up to the most instances the
/// dialog allows (its `max`; a group that follows another with `each:` at most as many as that
/// one): `children[1].age` … `children[10].age`.
///
/// The columns: `session`, `office`, `client` (her number at that office), `counselor` (who took
/// the session: the store's identity; empty for a kiosk session nobody took over), `dialog`,
/// `version`, `status`, `started`, `finished` (in the office's time zone, ISO 8601 with its
/// offset), one per question, then `suggestions` (the ids of the suggestions that fired, `;`
/// between them) and `notes` (the counselor's `:note` remarks, one a line, each after the question
/// it was made at).
///
/// Two modes. Codes (the default, for programs): headers are question ids, values as stored
/// (choice values, multi choices joined with `;`, dates YYYY-MM-DD, yes/no as true/false), declined
/// answers `(declined)`. Labels (`labels`, for people and Excel): headers are the short labels of
/// the office's sheets or else the question's text, in the office's language (a group's title before
/// a question inside it); choices, yes/no, statuses and declined answers in words; suggestions as
/// their sentences; times `YYYY-MM-DD HH:MM:SS` (office time), which Excel reads as a date and time.
///
/// Quoted as RFC 4180 says (CRLF between rows), so LibreOffice and pandas read it; with `bom`, a
/// UTF-8 byte-order mark first — Excel opens a UTF-8 file without one as Shift_JIS (mojibake).
///
/// A client's text is data, never a formula or a terminal command: control and bidi characters
/// are made visible (`ControlCharacters`, line feeds kept), and a text cell that begins with `=`,
/// `+`, `-`, `@` (or their full-width forms), TAB or CR, after any spaces, gets a leading `'`
/// (OWASP, "CSV Injection") — every text cell, headers and labels included. Numbers are written as numbers: a
/// negative number stays `-2` (a cell the export writes from a JSON number holds only digits, a
/// sign and a point, so it cannot be a formula).
public enum CSVExport {
    /// How a table is written.
    public struct Options: Sendable {
        /// A UTF-8 byte-order mark first.
        public var bom: Bool
        /// The office's time zone: `started`, `finished` are written in it.
        public var time: OfficeTime
        /// Headers and values in words (nil: ids and codes).
        public var labels: Labels?

        public init(bom: Bool = false, time: OfficeTime = .tokyo, labels: Labels? = nil) {
            self.bom = bom
            self.time = time
            self.labels = labels
        }
    }

    /// Where the words of the labels mode come from: the catalog in `locale`, and short labels for
    /// questions (question id → locale key: the row labels of the office's sheets, `氏名` rather
    /// than `お名前を教えてください`).
    public struct Labels: Sendable {
        public var catalog: Catalog
        public var locale: String
        public var short: [String: String]

        public init(catalog: Catalog, locale: String, short: [String: String] = [:]) {
            self.catalog = catalog
            self.locale = locale
            self.short = short
        }
    }

    /// The fixed columns before the questions, and those after them.
    public static let leadingColumns = ["session", "office", "client", "counselor", "dialog", "version", "status", "started", "finished"]
    public static let trailingColumns = ["suggestions", "notes"]

    /// A question's column: its id, the instance of each group it sits in, and the groups.
    struct Column {
        var question: Question
        var indices: [Int]
        var groups: [RepeatGroup]
        var code: String
    }

    /// Every question column of `dialog`, in the dialog's order, groups up to their maximum.
    static func columns(_ dialog: Dialog) -> [Column] {
        var out: [Column] = []
        func add(_ items: [Item], _ prefix: String, _ indices: [Int], _ groups: [RepeatGroup]) {
            for item in items {
                switch item {
                case .section(let s): add(s.items, prefix, indices, groups)
                case .question(let q): out.append(Column(question: q, indices: indices, groups: groups, code: prefix + q.id))
                case .group(let g):
                    for i in 0..<maximum(g, in: dialog) {
                        add(g.items, prefix + "\(g.id)[\(i + 1)].", indices + [i], groups + [g])
                    }
                case .end: continue
                }
            }
        }
        add(dialog.items, "", [], [])
        return out
    }

    /// The most instances a group can have: its `max`, and for a group that follows another
    /// (`each:`), no more than that one's.
    public static func maximum(_ group: RepeatGroup, in dialog: Dialog) -> Int {
        var seen: Set<String> = []
        var g = group
        var most = group.max
        while case .each(let other) = g.count, seen.insert(g.id).inserted, let next = dialog.index.group(other) {
            most = min(most, next.max)
            g = next
        }
        return max(0, most)
    }

    /// The header row's texts (not yet made inert or quoted).
    public static func header(dialog: Dialog, labels: Labels? = nil) -> [String] {
        let questions = columns(dialog)
        guard let labels else { return leadingColumns + questions.map(\.code) + trailingColumns }
        let c = labels.catalog, lang = labels.locale
        var seen: Set<String> = []
        var out: [String] = []
        func unique(_ text: String, _ code: String) -> String {
            let t = seen.contains(text) ? c.text("export.duplicate", lang, ["label": text, "code": code]) : text
            seen.insert(t)
            return t
        }
        for key in leadingColumns { out.append(unique(c.text("export.column." + key, lang), key)) }
        for col in questions {
            let q = col.question
            let n = col.indices.last.map { String($0 + 1) } ?? "1"
            let shortKey = labels.short[q.id].flatMap { c.optionalText($0, lang) != nil ? $0 : nil }
            var label = c.text(shortKey ?? q.text, lang, ["n": n])
            // The groups around it, outermost first; the innermost only when the text does not say which instance.
            let saysInstance = shortKey == nil && (c.strings[lang]?[q.text] ?? c.strings[c.fallback]?[q.text])?.contains("{n}") == true
            for (depth, g) in col.groups.enumerated().reversed() where !(saysInstance && depth == col.groups.count - 1) {
                label = c.text("export.in_group", lang, ["group": c.text(g.title, lang, ["n": String(col.indices[depth] + 1)]), "label": label])
            }
            out.append(unique(label, col.code))
        }
        for key in trailingColumns { out.append(unique(c.text("export.column." + key, lang), key)) }
        return out
    }

    /// The table: a header row, then a row per record.
    public static func table(dialog: Dialog, records: [ExportedRecord], options: Options = Options()) -> String {
        let questions = columns(dialog)
        var out = options.bom ? "\u{FEFF}" : ""
        out += row(header(dialog: dialog, labels: options.labels).map(inert))
        for exported in records {
            out += row(cells(exported, dialog: dialog, questions: questions, options: options))
        }
        return out
    }

    /// Compatibility: codes, with or without a byte-order mark, in Japan's time.
    public static func table(dialog: Dialog, records: [ExportedRecord], bom: Bool) -> String {
        table(dialog: dialog, records: records, options: Options(bom: bom))
    }

    static func row(_ cells: [String]) -> String {
        cells.map(quote).joined(separator: ",") + "\r\n"
    }

    /// One record's cells, each already inert.
    static func cells(_ exported: ExportedRecord, dialog: Dialog, questions: [Column], options: Options) -> [String] {
        let record = exported.record
        let labels = options.labels
        let declined = Set(record.declined)
        func time(_ t: String?) -> String {
            guard let t else { return "" }
            guard let ms = OfficeTime.epochMillis(t) else { return t }
            let iso = options.time.iso(ms)
            // Labels: "2026-11-23 10:41:07", which Excel reads as a date and time (office time).
            return labels == nil ? iso : String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
        }
        let status = record.status
        var row = [exported.session, exported.office ?? "", exported.client ?? "", exported.counselor ?? "",
                   record.dialog.id, record.dialog.version,
                   labels.map { $0.catalog.optionalText("export.status." + status, $0.locale) ?? status } ?? status,
                   time(record.started), time(record.finished)].map(inert)
        for c in questions {
            if let v = dialog.recordValue(record.answers, c.question.id, indices: c.indices) {
                row.append(labels.map { words(v.json, c.question, $0) } ?? cell(v.json))
            } else if declined.contains(dialog.display(Path(c.question.id, c.indices))) {
                row.append(inert(labels.map { $0.catalog.text("engine.declined", $0.locale) } ?? "(declined)"))
            } else {
                row.append("")
            }
        }
        // Suggestions: ids (codes) or their sentences in the office's language (labels).
        var fired: [String] = []
        let settings = labels.map { dialog.settingArguments(locale: $0.locale, fallback: $0.catalog.fallback, furigana: $0.catalog.furigana, settingText) } ?? [:]
        for s in record.suggestions {
            guard let labels else { fired.append(s.id); continue }
            fired.append(labels.catalog.optionalText(s.message, labels.locale, settings) ?? s.text)
        }
        row.append(inert(fired.joined(separator: labels == nil ? ";" : "\n")))
        // The counselor's notes, one a line, each after the question it was made at.
        var notes: [String] = []
        for n in record.notes {
            guard let at = n.question else { notes.append(n.text); continue }
            var name = at
            if let labels, let path = dialog.parsePath(at), let q = dialog.index.question(path.id) {
                name = labels.catalog.text(q.text, labels.locale, ["n": String((path.indices.last ?? 0) + 1)])
            }
            notes.append(name + ": " + n.text)
        }
        row.append(inert(notes.joined(separator: "\n")))
        return row
    }

    /// A value's cell in words (labels mode): choice labels, はい/いいえ, numbers and dates as
    /// written; any text made inert.
    static func words(_ json: JSON, _ q: Question, _ labels: Labels) -> String {
        switch json {
        case .int, .number: return cell(json)
        default: return inert(spelled(json, q, labels))
        }
    }

    static func spelled(_ json: JSON, _ q: Question, _ labels: Labels) -> String {
        let c = labels.catalog, lang = labels.locale
        func choice(_ code: String) -> String {
            q.kind.choices.first { $0.value == code }.map { c.text($0.label, lang) } ?? code
        }
        switch (q.kind, json) {
        case (.yesNo, .bool(let b)): return c.text(b ? "engine.yes" : "engine.no", lang)
        case (.single, .string(let s)): return choice(s)
        case (.multi, .array(let items)):
            return items.map { if case .string(let s) = $0 { return choice(s) } else { return text($0) } }
                .joined(separator: c.optionalText("engine.list_separator", lang) ?? ";")
        default: return text(json)
        }
    }

    static func settingText(_ v: Value) -> String {
        switch v {
        case .text(let s), .choice(let s): return s
        case .int(let i): return String(i)
        case .decimal(let d): return text(.number(d))
        case .bool(let b): return b ? "true" : "false"
        case .date(let d): return d.iso
        case .choices(let list): return list.joined(separator: ";")
        }
    }

    /// A value's cell text: a number as written, any text made inert (`inert`).
    public static func cell(_ json: JSON) -> String {
        switch json {
        case .int, .number, .bool: return text(json)
        default: return inert(text(json))
        }
    }

    /// Text that a spreadsheet shows and a terminal prints, and neither runs: control and bidi
    /// characters made visible, and a leading `'` before what would start a formula.
    public static func inert(_ s: String) -> String {
        let shown = ControlCharacters.visible(s, keepingLineFeeds: true)
        // Spaces before a formula do not make it text: a spreadsheet that trims a cell's spaces
        // on import (LibreOffice's "Trim spaces") reads ` =HYPERLINK(…)` as one.
        guard let first = s.unicodeScalars.first(where: { formulaStarts.contains($0) || !$0.properties.isWhitespace }),
              formulaStarts.contains(first) else { return shown }
        return "'" + shown
    }

    /// What makes a spreadsheet read a cell as a formula (OWASP), with the full-width forms a
    /// Japanese keyboard types.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]

    static func text(_ json: JSON?) -> String {
        switch json {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .number(let d)?: return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .bool(let b)?: return b ? "true" : "false"
        case .array(let items)?: return items.map { text($0) }.joined(separator: ";")
        default: return ""
        }
    }

    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.hasPrefix(" ") || s.hasSuffix(" ") else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A finished record as it is exported: its session, whose record it is (her office and her number
/// there, when the session names them), who took it, and the record.
public struct ExportedRecord: Sendable, Equatable {
    public var session: String
    public var office: String?
    public var client: String?
    /// The counselor's identity (login or account) that took the session; nil: a kiosk session.
    public var counselor: String?
    public var record: IntakeRecord

    public init(session: String, office: String? = nil, client: String? = nil, counselor: String? = nil, record: IntakeRecord) {
        self.session = session
        self.office = office
        self.client = client
        self.counselor = counselor
        self.record = record
    }
}
