import Foundation
import IntakeEngine
import Yams

extension Project {
    /// Loads `DIR/<locale>.yaml`, and every `DIR/<locale>/*.yaml` (strings kept beside the module
    /// they belong to): nested mappings become dotted keys (`family.name.help`). A key defined twice
    /// for one locale is an error.
    mutating func loadLocales(_ directory: String) {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        var sources: [(locale: String, file: String)] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: path, isDirectory: &isDir)
            if isDir.boolValue {
                let inner = ((try? fm.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
                sources += inner.map { (name, (path as NSString).appendingPathComponent($0)) }
            } else if name.hasSuffix(".yaml") {
                sources.append((String(name.dropLast(".yaml".count)), path))
            }
        }
        // Base files first, so a key repeated in a folder is reported there.
        sources = sources.filter { ($0.file as NSString).deletingLastPathComponent == directory }
            + sources.filter { ($0.file as NSString).deletingLastPathComponent != directory }
        if sources.isEmpty {
            diagnostics.append(Diagnostic(.error, "no-locales", ["folder": directory], at: SourceRef(file: directory, line: 1, column: 1)))
            return
        }
        var all: [String: [String: String]] = [:]
        var firstFile: [String: String] = [:]
        for (locale, file) in sources {
            if firstFile[locale] == nil { firstFile[locale] = file }
            guard let node = parse(file) else { continue }
            var reader = YAMLReader(file: file)
            var strings: [String: String] = [:]
            flatten(node, prefix: "", into: &strings, reader: &reader)
            for k in strings.keys.sorted() where all[locale]?[k] != nil {
                reader.diagnostics.append(Diagnostic(.error, "duplicate-key", ["key": k], at: SourceRef(file: file, line: 1, column: 1)))
            }
            diagnostics += reader.diagnostics
            all[locale, default: [:]].merge(strings) { old, _ in old }
        }
        for (locale, strings) in all.sorted(by: { $0.key < $1.key }) {
            for (k, v) in strings { catalog.set(k, v, in: locale) }
            if strings.isEmpty { catalog.set("", "", in: locale) }
            for key in EngineStrings.keys where strings[key] == nil {
                diagnostics.append(Diagnostic(.error, "missing-translation", ["key": key, "locale": locale],
                                              at: SourceRef(file: firstFile[locale] ?? directory, line: 1, column: 1)))
            }
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
