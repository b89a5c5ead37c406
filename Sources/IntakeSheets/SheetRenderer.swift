import IntakeEngine

/// One rendered sheet: Markdown that prints well on A4 (headings, two-column tables).
public struct RenderedSheet: Sendable, Equatable {
    public var title: String
    public var markdown: String
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

    public func render(_ sheet: SheetDefinition, record: JSON, locale: String) -> SheetOutcome {
        let answers = record["answers"] ?? .object([])
        if let gate = sheet.onlyIf, dialog.recordValue(answers, gate) != .bool(true) {
            return SheetOutcome(sheets: [], withheld: [catalog.text("sheet.withheld.not_agreed", locale, ["sheet": catalog.text(sheet.title, locale)])])
        }
        guard let referral = sheet.referral else {
            return SheetOutcome(sheets: [page(sheet, record, locale, body: nil, reasons: [])], withheld: [])
        }
        let fired = firedSuggestions(record)
        let consented: Set<String> = {
            if case .array(let items)? = dialog.recordValue(answers, referral.consent) {
                return Set(items.compactMap { if case .string(let s) = $0 { return s } else { return nil } })
            }
            return []
        }()
        var sheets: [RenderedSheet] = []
        var withheld: [String] = []
        var bodies: [String] = []
        for (suggestion, body) in referral.bodies where fired.contains(where: { $0.id == suggestion }) && !bodies.contains(body) {
            bodies.append(body)
        }
        for body in bodies {
            let reasons = referral.bodies.filter { $0.body == body }.compactMap { pair in fired.first { $0.id == pair.suggestion } }
            let bodyName = choiceLabel(referral.consent, body, locale)
            if consented.contains(body) {
                sheets.append(page(sheet, record, locale, body: bodyName, reasons: reasons))
            } else {
                withheld.append(catalog.text("sheet.withheld.no_consent", locale, ["body": bodyName]))
            }
        }
        return SheetOutcome(sheets: sheets, withheld: withheld)
    }

    struct Fired {
        var id: String
        var json: JSON
    }

    func firedSuggestions(_ record: JSON) -> [Fired] {
        guard case .array(let items)? = record["suggestions"] else { return [] }
        return items.compactMap { item in
            guard case .string(let id)? = item["id"] else { return nil }
            return Fired(id: id, json: item)
        }
    }

    func choiceLabel(_ question: String, _ value: String, _ locale: String) -> String {
        guard let c = dialog.index.question(question)?.kind.choices.first(where: { $0.value == value }) else { return value }
        return catalog.text(c.label, locale)
    }

    private func page(_ sheet: SheetDefinition, _ record: JSON, _ locale: String, body: String?, reasons: [Fired]) -> RenderedSheet {
        let title = catalog.text(sheet.title, locale) + (body.map { "（\($0)）" } ?? "")
        var out = "# \(title)\n"
        for block in sheet.blocks {
            switch block {
            case .rows(let heading, let rows):
                out += heading.map { "\n## \(catalog.text($0, locale))\n" } ?? ""
                out += "\n| \(catalog.text("sheet.column.item", locale)) | \(catalog.text("sheet.column.content", locale)) |\n|---|---|\n"
                for row in rows where !(sheet.anonymous && isPersonal(row.field)) {
                    out += "| \(cell(catalog.text(row.label, locale))) | \(cell(value(row, record, locale, body: body, indices: []))) |\n"
                }
            case .table(let heading, let group, let columns):
                out += heading.map { "\n## \(catalog.text($0, locale))\n" } ?? ""
                let shown = columns.filter { !(sheet.anonymous && isPersonal($0.field)) }
                let n = dialog.recordInstances(record["answers"] ?? .object([]), group: group)
                if n == 0 {
                    out += "\n" + catalog.text("sheet.none", locale) + "\n"
                    continue
                }
                out += "\n| # | " + shown.map { cell(catalog.text($0.label, locale)) }.joined(separator: " | ") + " |\n"
                out += "|---|" + String(repeating: "---|", count: shown.count) + "\n"
                for i in 0..<n {
                    out += "| \(i + 1) | " + shown.map { cell(value($0, record, locale, body: body, indices: [i])) }.joined(separator: " | ") + " |\n"
                }
            case .suggestions(let heading):
                out += heading.map { "\n## \(catalog.text($0, locale))\n" } ?? ""
                let items = body == nil ? firedSuggestions(record) : reasons
                if items.isEmpty { out += "\n" + catalog.text("sheet.none", locale) + "\n" }
                out += "\n"
                for s in items { out += "- " + suggestionLine(s, record, locale) + "\n" }
            case .text(let heading, let key):
                out += heading.map { "\n## \(catalog.text($0, locale))\n" } ?? ""
                out += "\n" + catalog.text(key, locale) + "\n"
            }
        }
        // Printed or shown on a terminal: a client's text never acts on either (`ControlCharacters`).
        return RenderedSheet(title: ControlCharacters.visible(title), markdown: ControlCharacters.visible(out, keepingLineFeeds: true))
    }

    func isPersonal(_ field: String) -> Bool {
        dialog.index.question(field)?.personal ?? false
    }

    /// A field's value in words, or 答えない / a dash.
    func value(_ row: SheetDefinition.Row, _ record: JSON, _ locale: String, body: String?, indices: [Int]) -> String {
        switch row.field {
        case "$date":
            guard case .string(let started)? = record["started"], let d = CivilDate(iso: String(started.prefix(10))) else { return "—" }
            return date(d, locale)
        case "$body":
            return body ?? "—"
        default:
            break
        }
        let answers = record["answers"] ?? .object([])
        let depth = dialog.index.entries[row.field]?.groups.count ?? 0
        let at = Array(indices.prefix(depth))
        if let json = dialog.recordValue(answers, row.field, indices: at), let v = dialog.answerValue(json, question: row.field) {
            if row.show == .age, case .date(let born) = v, case .string(let started)? = record["started"],
               let on = CivilDate(iso: String(started.prefix(10))) {
                return catalog.text("sheet.date_age", locale, ["date": date(born, locale), "age": String(born.years(until: on))])
            }
            if case .date(let d) = v { return date(d, locale) }
            return engine.words(.value(v), question: row.field, locale: locale)
        }
        let display = dialog.display(Path(row.field, at))
        if case .array(let declined)? = record["declined"], declined.contains(.string(display)) {
            return catalog.text("engine.declined", locale)
        }
        return "—"
    }

    func date(_ d: CivilDate, _ locale: String) -> String {
        locale.hasPrefix("ja") ? (DateParser.wareki(d).map { "\($0)（\(d.iso)）" } ?? d.iso) : d.iso
    }

    private func suggestionLine(_ s: Fired, _ record: JSON, _ locale: String) -> String {
        var text = s.json["text"].flatMap { if case .string(let t) = $0 { return t } else { return nil } } ?? s.id
        if record["locale"] != .string(locale), case .string(let key)? = s.json["message"] {
            text = catalog.text(key, locale)
        }
        guard case .object(let because)? = s.json["because"], !because.isEmpty else { return text }
        let reasons = because.compactMap { (path, json) -> String? in
            guard let p = dialog.parsePath(path), let q = dialog.index.question(p.id) else { return nil }
            let shown = dialog.answerValue(json, question: p.id).map { engine.words(.value($0), question: p.id, locale: locale) }
                ?? catalog.text("sheet.none", locale)
            let label = catalog.text(q.text, locale, ["n": p.indices.last.map { String($0 + 1) } ?? "1"])
            return "\(label) → \(shown)"
        }
        return text + "  \n  " + catalog.text("sheet.because", locale) + " " + reasons.joined(separator: "／")
    }

    /// Table cells hold one line and no column separator.
    func cell(_ s: String) -> String {
        s.replacingAll("|", with: "｜").replacingAll("\n", with: " / ")
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
