import Foundation
import IntakeEngine
import Yams

extension DialogBuilder {
    static let questionKeys = ["id", "kind", "text", "help", "required", "decline", "audience", "personal", "when", "min", "max",
                               "max_length", "format", "open_ended", "choices", "min_picks", "max_picks", "checks", "derive", "variants"]
    static let kinds = ["text", "integer", "decimal", "yesno", "choice", "multi", "date", "month", "time"]

    /// Items of a dialog, section or group. `section` is the id that prefixes default locale keys.
    mutating func readItems(_ nodes: [Node], section: String, groups: [String], reader r: inout YAMLReader) -> [Item] {
        var items: [Item] = []
        var endedAt: SourceRef?
        for node in nodes {
            guard case .mapping(let mapping) = node else {
                r.error("expected-mapping", ["what": "item"], at: node)
                continue
            }
            let keys = Set(mapping.keys.compactMap { $0.scalar?.string })
            if let end = endedAt {
                r.warning("unreachable", ["end": end.description], at: node)
            }
            let item: Item?
            if keys.contains("include") {
                item = readInclude(node, groups: groups, reader: &r)
            } else if keys.contains("section") {
                item = readSection(node, groups: groups, reader: &r, file: r.file)
            } else if keys.contains("group") {
                item = readGroup(node, section: section, groups: groups, reader: &r)
            } else if keys.contains("end") {
                item = readEnd(node, section: section, groups: groups, reader: &r)
                if case .end(let e)? = item, e.when == nil { endedAt = e.source }
            } else if keys.contains("id") {
                item = readQuestion(node, section: section, groups: groups, reader: &r)
            } else {
                r.error("unknown-item", at: node)
                item = nil
            }
            if let item { items.append(item) }
        }
        return items
    }

    private mutating func readInclude(_ node: Node, groups: [String], reader r: inout YAMLReader) -> Item? {
        guard let m = r.members(node, allowed: ["include"], what: "include"),
              let name = r.string(m["include"], "include") else { return nil }
        let base = (r.file as NSString).deletingLastPathComponent
        let file = ((base as NSString).appendingPathComponent(name) as NSString).standardizingPath
        let known = parsed.keys.first { ($0 as NSString).standardizingPath == file }
        guard let known, let moduleNode = parsed[known], moduleNode["section"] != nil else {
            // A file with a syntax or encoding error already has its own diagnostic.
            if unreadable.contains(file) { return nil }
            let exists = FileManager.default.fileExists(atPath: file)
            r.error(exists ? "include-not-module" : "include-missing", ["file": name], at: m["include"] ?? node)
            return nil
        }
        if includeStack.contains(known) {
            r.error("include-cycle", ["cycle": (includeStack + [known]).map { ($0 as NSString).lastPathComponent }.joined(separator: " → ")],
                    at: m["include"] ?? node)
            return nil
        }
        includedFiles.insert(known)
        includeStack.append(known)
        defer { includeStack.removeLast() }
        var inner = YAMLReader(file: known, text: texts[known])
        let item = readSection(moduleNode, groups: groups, reader: &inner, file: known, isModule: true)
        diagnostics += inner.diagnostics
        return item
    }

    private mutating func readSection(_ node: Node, groups: [String], reader r: inout YAMLReader, file: String, isModule: Bool = false) -> Item? {
        var allowed = ["section", "title", "when", "items", "carry"]
        if isModule { allowed += ["format", "computed", "suggestions"] }
        guard let m = r.members(node, allowed: allowed, what: isModule ? "module" : "section"),
              let id = r.string(m["section"], "section") else { return nil }
        if isModule { checkFormat(m["format"], &r, at: node) }
        define(id, at: m["section"] ?? node, &r)
        let title = r.string(m["title"], "title") ?? "\(id).title"
        need(title, at: r.ref(m["title"] ?? m["section"] ?? node))
        let when = expr(m["when"], "when", &r, scope: groups, role: .when, owner: id, expected: .bool)
        let items = readItems(r.sequence(m["items"], "items"), section: id, groups: groups, reader: &r)
        if isModule {
            readModuleExtras(m, &r)
        }
        let carry = m["carry"] == nil ? true : (r.bool(m["carry"], "carry") ?? true)
        return .section(Section(id: id, title: title, when: when, items: items, carry: carry, source: r.ref(m["section"] ?? node)))
    }

    private mutating func readModuleExtras(_ m: [String: Node], _ r: inout YAMLReader) {
        computed += readComputed(r.sequence(m["computed"], "computed"), scope: [], &r)
        for node in r.sequence(m["suggestions"], "suggestions") {
            guard let s = r.members(node, allowed: ["id", "when", "message"], what: "suggestion"), let id = r.string(s["id"], "id") else { continue }
            if let first = suggestions.first(where: { $0.id == id }) {
                r.error("duplicate-id", ["id": id, "first": first.source.description], at: s["id"] ?? node)
            }
            let message = r.string(s["message"], "message") ?? "suggest.\(id)"
            need(message, at: r.ref(s["message"] ?? node))
            guard let e = expr(s["when"], "when", &r, scope: [], role: .suggestion, owner: nil, expected: .bool) else {
                if s["when"] == nil { r.error("missing-key", ["key": "when"], at: node) }
                continue
            }
            suggestions.append(SuggestionRule(id: id, when: e, message: message, source: r.ref(node)))
        }
    }

    private mutating func readGroup(_ node: Node, section: String, groups: [String], reader r: inout YAMLReader) -> Item? {
        guard let m = r.members(node, allowed: ["group", "title", "when", "count", "add_another", "each", "min", "max", "computed", "items"],
                                what: "group"),
              let id = r.string(m["group"], "group") else { return nil }
        define(id, at: m["group"] ?? node, &r)
        let title = r.string(m["title"], "title") ?? "\(section).\(id)"
        need(title, at: r.ref(m["title"] ?? m["group"] ?? node))
        let when = expr(m["when"], "when", &r, scope: groups, role: .when, owner: id, expected: .bool)
        let minimum = r.int(m["min"], "min") ?? 0
        let maximum = r.int(m["max"], "max") ?? 20
        if minimum < 0 { r.error("negative", ["key": "min"], at: m["min"] ?? node) }
        if maximum < 1 { r.warning("group-never-asked", ["group": id], at: m["max"] ?? node) }
        if minimum > maximum { r.error("min-above-max", ["min": String(minimum), "max": String(maximum)], at: m["min"] ?? node) }
        let count: RepeatCount
        let given = ["count", "add_another", "each"].filter { m[$0] != nil }
        guard given.count == 1 else {
            r.error(given.isEmpty ? "group-needs-count" : "group-count-and-add", ["group": id], at: node)
            return nil
        }
        if let c = m["count"] {
            guard let e = expr(c, "count", &r, scope: groups, role: .count, owner: id, expected: .int) else { return nil }
            count = .from(e)
        } else if let a = m["add_another"] {
            let key = a.scalar?.string == "true" ? "\(section).\(id).more" : (r.string(a, "add_another") ?? "\(section).\(id).more")
            need(key, at: r.ref(a))
            count = .addAnother(prompt: key)
        } else {
            guard let eachNode = m["each"], let source = r.string(eachNode, "each") else { return nil }
            eachSources.append((group: id, source: source, groups: groups, at: r.ref(eachNode)))
            count = .each(source)
        }
        let computed = readComputed(r.sequence(m["computed"], "computed"), scope: groups + [id], &r)
        let items = readItems(r.sequence(m["items"], "items"), section: section, groups: groups + [id], reader: &r)
        if items.isEmpty { r.error("empty-group", ["group": id], at: node) }
        return .group(RepeatGroup(id: id, title: title, when: when, count: count, min: minimum, max: maximum, items: items,
                                  computed: computed, source: r.ref(m["group"] ?? node)))
    }

    private mutating func readEnd(_ node: Node, section: String, groups: [String], reader r: inout YAMLReader) -> Item? {
        guard let m = r.members(node, allowed: ["end", "when", "message", "status"], what: "end"),
              let id = r.string(m["end"], "end") else { return nil }
        define(id, at: m["end"] ?? node, &r)
        let message = r.string(m["message"], "message") ?? "\(section).\(id)"
        need(message, at: r.ref(m["message"] ?? m["end"] ?? node))
        let when = expr(m["when"], "when", &r, scope: groups, role: .when, owner: id, expected: .bool)
        let status = r.string(m["status"], "status") ?? "stopped"
        return .end(EndItem(id: id, when: when, message: message, status: status, source: r.ref(m["end"] ?? node)))
    }
}
