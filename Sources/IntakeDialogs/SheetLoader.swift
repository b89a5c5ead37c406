import Foundation
import IntakeEngine
import IntakeSheets
import Yams

/// Reads sheet definitions (`sheet:` at the top) and checks them against their dialog: every field
/// must exist, table columns must belong to the table's group, an anonymous sheet may name no
/// personal field, and every label must be translated.
struct SheetLoader {
    var r: YAMLReader
    let catalog: Catalog

    init(file: String, text: String?, catalog: Catalog) {
        r = YAMLReader(file: file, text: text)
        self.catalog = catalog
    }

    mutating func load(_ node: Node, dialogs: [String: Dialog]) -> SheetDefinition? {
        guard let m = r.members(node, allowed: ["format", "sheet", "title", "dialog", "anonymous", "only_if", "referral", "blocks"], what: "sheet"),
              let kind = r.string(m["sheet"], "sheet") else { return nil }
        if m["format"] == nil { r.error("missing-format", ["format": "1"], at: node) }
        let dialogID = r.string(m["dialog"], "dialog") ?? "intake"
        guard let dialog = dialogs[dialogID] else {
            var args = ["id": dialogID]
            if let s = Spelling.closest(to: dialogID, in: Array(dialogs.keys)) { args["suggestion"] = s }
            r.error("sheet-unknown-dialog", args, at: m["dialog"] ?? node)
            return nil
        }
        let title = r.string(m["title"], "title") ?? "sheet.\(kind).title"
        need(title, at: m["title"] ?? node)
        let anonymous = r.bool(m["anonymous"], "anonymous") ?? false
        var onlyIf: String?
        if let n = m["only_if"], let q = r.string(n, "only_if") {
            if field(q, in: dialog, at: n, anonymous: false), dialog.index.question(q)?.kind != .yesNo {
                r.error("sheet-only-if-yesno", ["field": q], at: n)
            }
            onlyIf = q
        }
        var referral: SheetDefinition.Referral?
        if let n = m["referral"] { referral = readReferral(n, dialog) }
        var blocks: [SheetDefinition.Block] = []
        for b in r.sequence(m["blocks"], "blocks") {
            if let block = readBlock(b, dialog, anonymous: anonymous) { blocks.append(block) }
        }
        return SheetDefinition(kind: kind, title: title, dialog: dialogID, anonymous: anonymous, onlyIf: onlyIf,
                               referral: referral, blocks: blocks, source: r.ref(node))
    }

    private mutating func readReferral(_ node: Node, _ dialog: Dialog) -> SheetDefinition.Referral? {
        guard let m = r.members(node, allowed: ["consent", "bodies"], what: "referral"),
              let consent = r.string(m["consent"], "consent") else { return nil }
        guard field(consent, in: dialog, at: m["consent"] ?? node, anonymous: false) else { return nil }
        let values: [String]
        if case .multi(let choices, _, _)? = dialog.index.question(consent)?.kind {
            values = choices.map(\.value)
        } else {
            r.error("sheet-consent-multi", ["field": consent], at: m["consent"] ?? node)
            return nil
        }
        // A body, or a list of the bodies that handle the suggestion in order of preference.
        var bodies: [(String, [String])] = []
        if case .mapping(let pairs)? = m["bodies"] {
            for (k, v) in pairs {
                guard let suggestion = k.scalar?.string else { continue }
                let targets: [Node]
                if case .sequence(let items) = v { targets = Array(items) } else { targets = [v] }
                if !dialog.suggestions.contains(where: { $0.id == suggestion }) {
                    var args = ["id": suggestion]
                    if let s = Spelling.closest(to: suggestion, in: dialog.suggestions.map(\.id)) { args["suggestion"] = s }
                    r.error("sheet-unknown-suggestion", args, at: k)
                }
                var names: [String] = []
                for t in targets {
                    guard let body = r.string(t, "body") else { continue }
                    if !values.contains(body) {
                        var args = ["value": body, "question": consent]
                        if let s = Spelling.closest(to: body, in: values) { args["suggestion"] = s }
                        r.error("expr-unknown-choice", args, at: t)
                    }
                    names.append(body)
                }
                if names.isEmpty { r.error("expected-string", ["key": suggestion], at: v) } else { bodies.append((suggestion, names)) }
            }
        } else {
            r.error("expected-mapping", ["what": "bodies"], at: m["bodies"] ?? node)
        }
        return SheetDefinition.Referral(consent: consent, bodies: bodies)
    }

    private mutating func readBlock(_ node: Node, _ dialog: Dialog, anonymous: Bool) -> SheetDefinition.Block? {
        guard let m = r.members(node, allowed: ["heading", "rows", "table", "columns", "suggestions", "notes", "text"], what: "block") else { return nil }
        let heading = r.string(m["heading"], "heading")
        if let h = heading { need(h, at: m["heading"] ?? node) }
        if let t = m["table"], let group = r.string(t, "table") {
            guard dialog.index.group(group) != nil else {
                var args = ["name": group]
                let groups = dialog.index.entries.compactMap { k, v -> String? in if case .group = v.item { return k } else { return nil } }
                if let s = Spelling.closest(to: group, in: groups) { args["suggestion"] = s }
                r.error("sheet-unknown-group", args, at: t)
                return nil
            }
            let columns = r.sequence(m["columns"], "columns").compactMap { readRow($0, dialog, anonymous: anonymous, table: group) }
            return .table(heading: heading, group: group, columns: columns)
        }
        if m["suggestions"] != nil { return .suggestions(heading: heading) }
        if m["notes"] != nil { return .notes(heading: heading) }
        if let t = m["text"], let key = r.string(t, "text") {
            need(key, at: t)
            return .text(heading: heading, key: key)
        }
        let rows = r.sequence(m["rows"], "rows").compactMap { readRow($0, dialog, anonymous: anonymous, table: nil) }
        return .rows(heading: heading, rows: rows)
    }

    private mutating func readRow(_ node: Node, _ dialog: Dialog, anonymous: Bool, table: String?) -> SheetDefinition.Row? {
        guard let m = r.members(node, allowed: ["field", "label", "show", "unit", "optional", "if_picked"], what: "row"),
              let label = r.string(m["label"], "label") else { return nil }
        // A field, or a list of fields of which the first answered one is shown.
        let fieldNodes: [Node]
        if case .sequence(let items)? = m["field"] { fieldNodes = Array(items) } else { fieldNodes = m["field"].map { [$0] } ?? [] }
        var fields: [String] = []
        for n in fieldNodes { if let f = r.string(n, "field") { fields.append(f) } }
        guard !fields.isEmpty else { return nil }
        need(label, at: m["label"] ?? node)
        var show = SheetDefinition.Show.value
        if let s = m["show"], let name = r.string(s, "show") {
            if let v = SheetDefinition.Show(rawValue: name) { show = v } else { r.error("sheet-unknown-show", ["show": name], at: s) }
        }
        var unit: String?
        if let n = m["unit"], let u = r.string(n, "unit") {
            if field(u, in: dialog, at: n, anonymous: anonymous) {
                if case .single? = dialog.index.question(u)?.kind {} else { r.error("sheet-unit-choice", ["field": u], at: n) }
            }
            unit = u
        }
        let optional = m["optional"].flatMap { r.bool($0, "optional") } ?? false
        // `if_picked: { contact_methods: post }`: the row shows only when that choice was picked.
        var ifPicked: (question: String, choice: String)?
        if let n = m["if_picked"] {
            if case .mapping(let pairs) = n, pairs.count == 1, let (k, v) = pairs.first,
               let q = r.string(k, "if_picked"), let c = r.string(v, "if_picked") {
                if field(q, in: dialog, at: k, anonymous: anonymous), let kind = dialog.index.question(q)?.kind {
                    let values = kind.choices.map(\.value)
                    if !values.contains(c) {
                        var args = ["value": c, "question": q]
                        if let s = Spelling.closest(to: c, in: values) { args["suggestion"] = s }
                        r.error("expr-unknown-choice", args, at: v)
                    }
                }
                ifPicked = (q, c)
            } else {
                r.error("expected-mapping", ["what": "if_picked"], at: n)
            }
        }
        for (f, at) in zip(fields, fieldNodes) {
            if f.hasPrefix("$") {
                if !["$date", "$body", "$counselor"].contains(f) { r.error("sheet-unknown-field", ["field": f], at: at) }
            } else if field(f, in: dialog, at: at, anonymous: anonymous) {
                let groups = dialog.index.entries[f]?.groups ?? []
                if let table {
                    // A column belongs to the table's group, or to a group that follows it, or stands outside groups.
                    if let inner = groups.last, !dialog.index.sameInstances(inner, table) || groups.count > 1 {
                        r.error("sheet-column-group", ["field": f, "group": table], at: at)
                    }
                } else if let g = groups.last {
                    r.error("sheet-field-in-group", ["field": f, "group": g], at: at)
                }
            }
        }
        return SheetDefinition.Row(fields: fields, label: label, show: show, unit: unit, optional: optional, ifPicked: ifPicked, source: r.ref(node))
    }

    /// Whether `id` is a question of the dialog or one of its dialog-wide computed values (reported
    /// otherwise), and allowed on this sheet. A computed value is what the record derives (contact
    /// to be kept discreet when a safety concern was raised): never personal, outside every group.
    private mutating func field(_ id: String, in dialog: Dialog, at node: Node, anonymous: Bool) -> Bool {
        guard let q = dialog.index.question(id) else {
            if dialog.computed.contains(where: { $0.id == id }) { return true }
            var args = ["field": id]
            if let s = Spelling.closest(to: id, in: dialog.index.questionOrder) { args["suggestion"] = s }
            r.error("sheet-unknown-field", args, at: node)
            return false
        }
        if anonymous && q.personal {
            r.error("sheet-personal-field", ["field": id], at: node)
            return false
        }
        return true
    }

    private mutating func need(_ key: String, at node: Node) {
        for locale in catalog.locales where !locale.isEmpty && !catalog.has(key, in: locale) {
            r.error("missing-translation", ["key": key, "locale": locale], at: node)
        }
    }
}

extension Project {
    /// The sheet of `kind` for `dialog`.
    public func sheet(_ kind: String, dialog: String) -> SheetDefinition? {
        sheets.first { $0.kind == kind && $0.dialog == dialog }
    }

    mutating func loadSheets(_ files: [(String, Node)]) {
        for (file, node) in files {
            var loader = SheetLoader(file: file, text: texts[file], catalog: catalog)
            let sheet = loader.load(node, dialogs: dialogs)
            diagnostics += loader.r.diagnostics
            guard let sheet else { continue }
            if let earlier = sheets.first(where: { $0.kind == sheet.kind && $0.dialog == sheet.dialog }) {
                diagnostics.append(Diagnostic(.error, "duplicate-id", ["id": sheet.kind, "first": earlier.source.description], at: sheet.source))
                continue
            }
            sheets.append(sheet)
        }
    }
}
