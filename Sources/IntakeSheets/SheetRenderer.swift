import IntakeEngine

/// One rendered sheet: its document, and the document as Markdown that prints well on A4
/// (headings, two-column tables). `SheetHTML` writes the same document as a printable page.
public struct RenderedSheet: Sendable, Equatable {
    public var title: String
    public var markdown: String
    public var document: SheetDocument

    public init(document: SheetDocument) {
        self.document = document
        // Printed or shown on a terminal: a client's text never acts on either (`ControlCharacters`).
        title = ControlCharacters.visible(document.title)
        markdown = ControlCharacters.visible(document.markdown, keepingLineFeeds: true)
    }
}

/// What rendering a sheet gave: the sheets, and what was left out and why (for the counselor).
public struct SheetOutcome: Sendable, Equatable {
    public var sheets: [RenderedSheet]
    /// Locale keys with arguments, e.g. a referral not shared because the client did not consent.
    public var withheld: [String]
}

/// Renders a record as a sheet, in a locale. Values are shown in words (choice labels, はい/いいえ,
/// dates in 和暦 in Japanese); a declined answer shows as declined, a missing one as a dash.
public struct SheetRenderer: Sendable {
    public let engine: Engine
    public var dialog: Dialog { engine.dialog }
    public var catalog: Catalog { engine.catalog }

    public init(dialog: Dialog, catalog: Catalog) {
        engine = Engine(dialog: dialog, catalog: catalog)
    }

    public func render(_ sheet: SheetDefinition, record: IntakeRecord, locale: String) -> SheetOutcome {
        let answers = record.answers
        if let gate = sheet.onlyIf, dialog.recordValue(answers, gate) != .bool(true) {
            return SheetOutcome(sheets: [], withheld: [catalog.text("sheet.withheld.not_agreed", locale, ["sheet": catalog.text(sheet.title, locale)])])
        }
        guard let referral = sheet.referral else {
            return SheetOutcome(sheets: [page(sheet, record, locale, body: nil, reasons: [])], withheld: [])
        }
        let fired = record.suggestions
        let consented: Set<String> = {
            if case .strings(let items)? = dialog.recordValue(answers, referral.consent) { return Set(items) }
            return []
        }()
        // Each suggestion that fired goes to the first body that handles it and that the client
        // consented to; when she consented to none of them, each is named as withheld.
        var routes: [(body: String, suggestion: IntakeRecord.Suggestion)] = []
        var refused: [String] = []
        for (suggestion, bodies) in referral.bodies {
            guard let f = fired.first(where: { $0.id == suggestion }) else { continue }
            if let body = bodies.first(where: { consented.contains($0) }) {
                routes.append((body, f))
            } else {
                for b in bodies where !refused.contains(b) { refused.append(b) }
            }
        }
        var bodies: [String] = []
        for r in routes where !bodies.contains(r.body) { bodies.append(r.body) }
        let sheets = bodies.map { body in
            page(sheet, record, locale, body: choiceLabel(referral.consent, body, locale),
                 reasons: routes.filter { $0.body == body }.map(\.suggestion))
        }
        let withheld = refused.filter { !bodies.contains($0) }.map {
            catalog.text("sheet.withheld.no_consent", locale, ["body": choiceLabel(referral.consent, $0, locale)])
        }
        return SheetOutcome(sheets: sheets, withheld: withheld)
    }

    func choiceLabel(_ question: String, _ value: String, _ locale: String) -> String {
        guard let c = dialog.index.question(question)?.kind.choices.first(where: { $0.value == value }) else { return value }
        return catalog.text(c.label, locale)
    }

    private func page(_ sheet: SheetDefinition, _ record: IntakeRecord, _ locale: String, body: String?, reasons: [IntakeRecord.Suggestion]) -> RenderedSheet {
        let title = catalog.text(sheet.title, locale) + (body.map { "（\($0)）" } ?? "")
        let none = catalog.text("sheet.none", locale)
        var sections: [SheetDocument.Section] = []
        for block in sheet.blocks {
            switch block {
            case .rows(let heading, let rows):
                let header = [catalog.text("sheet.column.item", locale), catalog.text("sheet.column.content", locale)]
                let shown: [[String]] = rows.filter { !(sheet.anonymous && isPersonal($0)) }.compactMap { row in
                    value(row, record, locale, body: body, indices: []).map { [catalog.text(row.label, locale), $0] }
                }
                sections.append(.init(heading: heading.map { catalog.text($0, locale) }, content: .pairs(header: header, rows: shown)))
            case .table(let heading, let group, let columns):
                let shown = columns.filter { !(sheet.anonymous && isPersonal($0)) }
                let n = dialog.recordInstances(record.answers, group: group)
                let content: SheetDocument.Content = n == 0 ? .empty(none) : .table(
                    header: ["#"] + shown.map { catalog.text($0.label, locale) },
                    rows: (0..<n).map { i in [String(i + 1)] + shown.map { value($0, record, locale, body: body, indices: [i]) ?? none } })
                sections.append(.init(heading: heading.map { catalog.text($0, locale) }, content: content))
            case .suggestions(let heading):
                let items = (body == nil ? record.suggestions : reasons).map { suggestionItem($0, record, locale) }
                sections.append(.init(heading: heading.map { catalog.text($0, locale) }, content: .items(items, empty: none)))
            case .notes(let heading):
                sections.append(.init(heading: heading.map { catalog.text($0, locale) }, content: .items(notes(record, locale), empty: none)))
            case .text(let heading, let key):
                sections.append(.init(heading: heading.map { catalog.text($0, locale) }, content: .text(catalog.text(key, locale))))
            }
        }
        return RenderedSheet(document: SheetDocument(title: title, sections: sections))
    }

    func isPersonal(_ row: SheetDefinition.Row) -> Bool {
        row.fields.contains { dialog.index.question($0)?.personal ?? false }
    }

    /// A row's value in words: the first of its fields with an answer, or 答えない when it was
    /// declined; a dash when none was — or nothing, for an optional row.
    func value(_ row: SheetDefinition.Row, _ record: IntakeRecord, _ locale: String, body: String?, indices: [Int]) -> String? {
        if let (question, choice) = row.ifPicked {
            switch dialog.recordValue(record.answers, question) {
            case .strings(let picked)? where picked.contains(choice): break
            case .string(choice)?: break
            default: return row.optional ? nil : "—"
            }
        }
        switch row.field {
        case "$date":
            guard let d = CivilDate(iso: String(record.started.prefix(10))) else { return "—" }
            return date(d, locale)
        case "$body":
            return body ?? "—"
        case "$counselor":
            // The identity that took the interview, as the stored record names it (never a typed name).
            guard let who = record.counselor, !who.isEmpty else { return row.optional ? nil : "—" }
            return who
        default:
            break
        }
        let answers = record.answers
        let declined = Set(record.declined)
        for field in row.fields {
            if dialog.index.question(field) == nil, let c = record.computed.first(where: { $0.name == field }) {
                // A computed value of the record: shown as an answer of its kind would be; none yet, the next field.
                switch c.value {
                case .null: continue
                case .bool(let b): return engine.words(.value(.bool(b)), question: field, locale: locale)
                case .int(let n): return String(n)
                case .number(let d): return engine.words(.value(.decimal(d)), question: field, locale: locale)
                case .string(let s): return s
                case .strings(let ss): return ss.joined(separator: catalog.text("engine.list_separator", locale))
                }
            }
            let depth = dialog.index.entries[field]?.groups.count ?? 0
            let at = Array(indices.prefix(depth))
            if let stored = dialog.recordValue(answers, field, indices: at), let v = dialog.answerValue(stored, question: field) {
                return words(v, row, field: field, record, locale, indices: at)
            }
            let display = dialog.display(Path(field, at))
            if declined.contains(display) {
                return catalog.text("engine.declined", locale)
            }
        }
        return row.optional ? nil : "—"
    }

    private func words(_ v: Value, _ row: SheetDefinition.Row, field: String, _ record: IntakeRecord, _ locale: String, indices: [Int]) -> String {
        switch (row.show, v) {
        case (.age, .date(let born)):
            if let on = CivilDate(iso: String(record.started.prefix(10))) {
                return catalog.text("sheet.date_age", locale, ["date": date(born, locale), "age": String(born.years(until: on))])
            }
        case (.amount, .int(let n)):
            return amount(n, unit: row.unit, record, locale, indices: indices)
        case (_, .date(let d)):
            return date(d, locale)
        default:
            break
        }
        if case .date(let d) = v { return date(d, locale) }
        return engine.words(.value(v), question: field, locale: locale)
    }

    /// An amount of yen with its digits grouped, and its unit as answered beside it: 時給 1,150円.
    /// The unit's words are `sheet.amount.<choice>`; a unit without them is shown by its label,
    /// no unit (not asked, declined) as the amount alone.
    func amount(_ n: Int, unit: String?, _ record: IntakeRecord, _ locale: String, indices: [Int]) -> String {
        let figure = Self.grouped(n)
        if let unit, let q = dialog.index.question(unit) {
            let at = Array(indices.prefix(dialog.index.entries[unit]?.groups.count ?? 0))
            if case .string(let choice)? = dialog.recordValue(record.answers, unit, indices: at) {
                let key = "sheet.amount.\(choice)"
                if catalog.has(key, in: locale) { return catalog.text(key, locale, ["amount": figure]) }
                if let c = q.kind.choices.first(where: { $0.value == choice }) {
                    return catalog.text("sheet.amount.with_unit", locale, ["amount": figure, "unit": catalog.text(c.label, locale)])
                }
            }
        }
        return catalog.text("sheet.amount.plain", locale, ["amount": figure])
    }

    /// 1150 → "1,150"; 220000 → "220,000".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    func date(_ d: CivilDate, _ locale: String) -> String {
        locale.hasPrefix("ja") ? (DateParser.wareki(d).map { "\($0)（\(d.iso)）" } ?? d.iso) : d.iso
    }

    /// A question's words on a sheet, for a path as the record writes it (`children[2].age`).
    private func questionLabel(_ display: String, _ locale: String) -> String? {
        guard let p = dialog.parsePath(display), let q = dialog.index.question(p.id) else { return nil }
        return catalog.text(q.text, locale, ["n": p.indices.last.map { String($0 + 1) } ?? "1"])
    }

    private func suggestionItem(_ s: IntakeRecord.Suggestion, _ record: IntakeRecord, _ locale: String) -> SheetDocument.Item {
        var text = s.text
        if record.locale != locale {
            text = filled(catalog.text(s.message, locale), record, locale)
        }
        guard !s.because.isEmpty else { return .init(text: text) }
        let reasons = s.because.compactMap { reason -> String? in
            let path = reason.name
            guard let p = dialog.parsePath(path), let label = questionLabel(path, locale) else { return nil }
            let shown = dialog.answerValue(reason.value, question: p.id).map { engine.words(.value($0), question: p.id, locale: locale) }
                ?? catalog.text("sheet.none", locale)
            return "\(label) → \(shown)"
        }
        return .init(text: text, detail: catalog.text("sheet.because", locale) + " " + reasons.joined(separator: "／"))
    }

    /// A suggestion's text in another locale than the record's: its `{settings.NAME}` (a local
    /// resource) and `{computed.NAME}` placeholders filled from the dialog and the record.
    private func filled(_ template: String, _ record: IntakeRecord, _ locale: String) -> String {
        guard template.contains("{") else { return template }
        var args = dialog.settingArguments(locale: locale, fallback: catalog.fallback, furigana: catalog.furigana) { v in
            switch v {
            case .text(let s): return s
            case .int(let i): return String(i)
            default: return nil
            }
        }
        for c in record.computed {
            switch c.value {
            case .string(let s): args["computed." + c.name] = s
            case .int(let i): args["computed." + c.name] = String(i)
            default: break
            }
        }
        return Catalog.fill(template, args)
    }

    /// The counselor's remarks (`:note`), in the order made, each with when and on which question.
    private func notes(_ record: IntakeRecord, _ locale: String) -> [SheetDocument.Item] {
        record.notes.map { note in
            let time = String(note.at.prefix(16)).replacingAll("T", with: " ")
            if let display = note.question, let label = questionLabel(display, locale) {
                return .init(text: note.text, detail: catalog.text("sheet.note.on", locale, ["time": time, "question": label]))
            }
            return .init(text: note.text, detail: catalog.text("sheet.note.general", locale, ["time": time]))
        }
    }
}
