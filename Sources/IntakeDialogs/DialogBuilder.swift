import Foundation
import IntakeEngine
import Yams

/// Builds one dialog from its root file and the modules it includes, collecting diagnostics.
struct DialogBuilder {
    /// An expression to type-check once the whole dialog (and so every name) is known.
    struct PendingExpr {
        enum Role { case when, count, check, computed, suggestion }
        var expr: Expr
        var at: SourceRef
        /// Where a character of the expression's text stands in the file.
        var locate: (Int) -> SourceRef
        var scope: [String]
        var valueType: ValueType?
        var expected: ValueType?
        /// The item it belongs to (for order checks); nil for computed values and suggestions.
        var owner: String?
        var role: Role
    }

    static let format = 1
    /// `^[a-z][a-z0-9_]*$`
    static func isValidID(_ id: String) -> Bool {
        guard let first = id.utf8.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z") else { return false }
        return id.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }

    let root: String
    let parsed: [String: Node]
    let texts: [String: String]
    let catalog: Catalog
    /// Files that could not be read or parsed (standardized paths); each has its own diagnostic.
    var unreadable: Set<String> = []
    var diagnostics: [Diagnostic] = []
    var includedFiles: Set<String> = []
    var includeStack: [String] = []
    var pending: [PendingExpr] = []
    var neededKeys: [(key: String, at: SourceRef, optional: Bool)] = []
    var firstDefinition: [String: SourceRef] = [:]
    var computed: [ComputedValue] = []
    var suggestions: [SuggestionRule] = []
    var settings: [String: Value] = [:]
    var settingTexts: [String: [String: String]] = [:]
    /// `each:` groups to check once every group is known: the group they follow, where they stand.
    var eachSources: [(group: String, source: String, groups: [String], at: SourceRef)] = []

    init(root: String, parsed: [String: Node], texts: [String: String] = [:], catalog: Catalog) {
        self.root = root
        self.parsed = parsed
        self.texts = texts
        self.catalog = catalog
    }

    mutating func buildDialog(_ node: Node) -> Dialog? {
        var r = YAMLReader(file: root, text: texts[root])
        defer { diagnostics += r.diagnostics }
        includeStack = [root]
        guard let m = r.members(node, allowed: ["format", "dialog", "version", "title", "settings", "items", "computed", "suggestions", "renamed", "private_when"],
                                what: "dialog") else { return nil }
        checkFormat(m["format"], &r, at: node)
        guard let id = r.string(m["dialog"], "dialog") else { return nil }
        validateID(id, at: m["dialog"] ?? node, &r)
        let version = r.string(m["version"], "version") ?? "1"
        if m["version"] == nil { r.warning("missing-version", at: node) }
        let title = r.string(m["title"], "title") ?? "\(id).title"
        need(title, at: r.ref(m["title"] ?? node))
        if let s = m["settings"] { readSettings(s, &r) }
        let items = readItems(r.sequence(m["items"], "items"), section: id, groups: [], reader: &r)
        computed += readComputed(r.sequence(m["computed"], "computed"), scope: [], &r)
        readSuggestions(r.sequence(m["suggestions"], "suggestions"), &r)
        var dialog = Dialog(id: id, version: version, format: Self.format, title: title, items: items, computed: computed,
                            suggestions: suggestions, settings: settings, source: r.ref(node))
        dialog.settingTexts = settingTexts
        dialog.renames = readRenames(m["renamed"], dialog, &r)
        if let node = m["private_when"] {
            dialog.privateWhen = expr(node, "private_when", &r, scope: [], role: .suggestion, owner: nil, expected: .bool)
        }
        diagnostics += r.diagnostics
        r.diagnostics = []
        checkSemantics(dialog)
        return dialog
    }

    mutating func checkFormat(_ node: Node?, _ r: inout YAMLReader, at parent: Node) {
        guard let node else {
            r.error("missing-format", ["format": String(Self.format)], at: parent)
            return
        }
        guard let f = r.int(node, "format") else { return }
        if f > Self.format {
            r.error("format-too-new", ["found": String(f), "supported": String(Self.format)], at: node)
        } else if f < 1 {
            r.error("format-unknown", ["found": String(f)], at: node)
        }
        // Older formats are migrated here when the format changes (none yet: 1 is the first).
    }

    mutating func validateID(_ id: String, at node: Node, _ r: inout YAMLReader) {
        if !Self.isValidID(id) {
            r.error("bad-id", ["id": id], at: node)
        } else if ReservedNames.words.contains(id) {
            r.error("reserved-id", ["id": id], at: node)
        }
    }

    /// Remembers an id; a second definition is an error that points back at the first.
    mutating func define(_ id: String, at node: Node, _ r: inout YAMLReader) {
        validateID(id, at: node, &r)
        if let first = firstDefinition[id] {
            r.error("duplicate-id", ["id": id, "first": first.description], at: node)
        } else {
            firstDefinition[id] = r.ref(node)
        }
    }

    mutating func need(_ key: String, at ref: SourceRef, optional: Bool = false) {
        neededKeys.append((key, ref, optional))
    }

    mutating func expr(_ node: Node?, _ key: String, _ r: inout YAMLReader, scope: [String], role: PendingExpr.Role,
                       owner: String?, expected: ValueType?, valueType: ValueType? = nil) -> Expr? {
        guard let (e, at) = r.expression(node, key) else { return nil }
        let reader = r
        let scalar = node?.scalar
        let locate: (Int) -> SourceRef = { offset in
            scalar.flatMap { reader.position(in: $0, at: at, offset: offset) } ?? at.advanced(by: offset)
        }
        pending.append(PendingExpr(expr: e, at: at, locate: locate, scope: scope, valueType: valueType, expected: expected,
                                   owner: owner, role: role))
        return e
    }

    /// `renamed: {old_id: new_id}` — questions (or add-another groups) renamed since an earlier
    /// version; sessions suspended under it keep their answers. The old id must be gone and the
    /// new one must exist.
    private mutating func readRenames(_ node: Node?, _ dialog: Dialog, _ r: inout YAMLReader) -> [String: String] {
        guard let node else { return [:] }
        guard case .mapping(let pairs) = node else {
            r.error("expected-mapping", ["what": "renamed"], at: node)
            return [:]
        }
        var out: [String: String] = [:]
        for (k, v) in pairs {
            guard let old = k.scalar?.string, let new = v.scalar?.string else { continue }
            if dialog.index.entries[old] != nil {
                r.error("rename-still-exists", ["id": old], at: k)
            } else if dialog.index.question(new) == nil && dialog.index.group(new) == nil {
                var args = ["field": new]
                if let s = Spelling.closest(to: new, in: dialog.index.questionOrder) { args["suggestion"] = s }
                r.error("sheet-unknown-field", args, at: v)
            } else {
                out[old] = new
            }
        }
        return out
    }

    private mutating func readSettings(_ node: Node, _ r: inout YAMLReader) {
        guard case .mapping(let m) = node else {
            r.error("expected-mapping", ["what": "settings"], at: node)
            return
        }
        for (k, v) in m {
            if let key = k.scalar?.string, case .mapping = v {
                // A text written per language.
                guard let forms = Project.settingTexts(key, v, catalog: catalog, &r) else { continue }
                settings[key] = .text(forms.fallback)
                settingTexts[key] = forms.byLocale
                continue
            }
            guard let key = k.scalar?.string, let s = v.scalar else {
                r.error("expected-setting", at: k)
                continue
            }
            if let i = Int(s.string) {
                settings[key] = .int(i)
            } else if let d = NumberParser.parseDecimal(s.string), s.string.contains(".") {
                settings[key] = .decimal(d)
            } else if let b = ["true": true, "false": false, "yes": true, "no": false][s.string] {
                settings[key] = .bool(b)
            } else {
                settings[key] = .text(s.string)
            }
        }
    }

    /// `computed:` of a dialog or module (`scope` empty), or of a repeat group (`scope`: the groups
    /// its values are computed in, that group last).
    mutating func readComputed(_ nodes: [Node], scope: [String], _ r: inout YAMLReader) -> [ComputedValue] {
        var out: [ComputedValue] = []
        for node in nodes {
            guard let m = r.members(node, allowed: ["id", "expr"], what: "computed value"),
                  let id = r.string(m["id"], "id") else { continue }
            define(id, at: m["id"] ?? node, &r)
            if m["expr"] == nil { r.error("missing-key", ["key": "expr"], at: node) }
            guard let e = expr(m["expr"], "expr", &r, scope: scope, role: .computed, owner: nil, expected: nil) else { continue }
            out.append(ComputedValue(id: id, expr: e, source: r.ref(node)))
        }
        return out
    }

    private mutating func readSuggestions(_ nodes: [Node], _ r: inout YAMLReader) {
        for node in nodes {
            guard let m = r.members(node, allowed: ["id", "when", "message"], what: "suggestion"),
                  let id = r.string(m["id"], "id") else { continue }
            if let first = suggestions.first(where: { $0.id == id }) {
                r.error("duplicate-id", ["id": id, "first": first.source.description], at: m["id"] ?? node)
            }
            let message = r.string(m["message"], "message") ?? "suggest.\(id)"
            need(message, at: r.ref(m["message"] ?? node))
            if m["when"] == nil { r.error("missing-key", ["key": "when"], at: node) }
            guard let e = expr(m["when"], "when", &r, scope: [], role: .suggestion, owner: nil, expected: .bool) else { continue }
            suggestions.append(SuggestionRule(id: id, when: e, message: message, source: r.ref(node)))
        }
    }
}
