import Foundation
import IntakeEngine
import Yams

extension Project {
    /// Loads `DIR/<locale>.yaml`: nested mappings become dotted keys (`family.name.help`).
    mutating func loadLocales(_ directory: String) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory))?
            .filter { $0.hasSuffix(".yaml") }.sorted() ?? []
        if files.isEmpty {
            diagnostics.append(Diagnostic(.error, "no-locales", ["folder": directory], at: SourceRef(file: directory, line: 1, column: 1)))
            return
        }
        for name in files {
            let file = (directory as NSString).appendingPathComponent(name)
            let locale = String(name.dropLast(".yaml".count))
            guard let node = parse(file) else { continue }
            var reader = YAMLReader(file: file)
            var strings: [String: String] = [:]
            flatten(node, prefix: "", into: &strings, reader: &reader)
            diagnostics += reader.diagnostics
            for (k, v) in strings { catalog.set(k, v, in: locale) }
            for key in EngineStrings.keys where strings[key] == nil {
                diagnostics.append(Diagnostic(.error, "missing-translation", ["key": key, "locale": locale],
                                              at: SourceRef(file: file, line: 1, column: 1)))
            }
            if strings.isEmpty { catalog.set("", "", in: locale) }
        }
        if catalog.strings["ja"] == nil, let first = catalog.locales.first { catalog.fallback = first }
    }

    private func flatten(_ node: Node, prefix: String, into out: inout [String: String], reader: inout YAMLReader) {
        switch node {
        case .mapping(let m):
            for (k, v) in m {
                guard let key = k.scalar?.string else {
                    reader.error("expected-string-key", at: k)
                    continue
                }
                let full = prefix.isEmpty ? key : prefix + "." + key
                if case .scalar(let s) = v {
                    if out[full] != nil { reader.error("duplicate-key", ["key": full], at: k) }
                    out[full] = s.string
                } else {
                    flatten(v, prefix: full, into: &out, reader: &reader)
                }
            }
        case .scalar(let s):
            out[prefix] = s.string
        default:
            reader.error("expected-mapping", ["what": "locale"], at: node)
        }
    }
}
