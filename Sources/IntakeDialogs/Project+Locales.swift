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
            let none = Diagnostic(.error, "no-locales", ["folder": directory], at: SourceRef(file: directory, line: 1, column: 1))
            diagnostics.append(none)
            // Every text would be missing: this is said alone, as a file that cannot be read is.
            unreadableFiles.append(none)
            return
        }
        var all: [String: [String: String]] = [:]
        var firstFile: [String: String] = [:]
        for (locale, file) in sources {
            if firstFile[locale] == nil { firstFile[locale] = file }
            guard let node = parse(file) else { continue }
            var reader = YAMLReader(file: file, text: texts[file])
            var strings: [String: String] = [:]
            flatten(node, prefix: "", locale: locale, into: &strings, reader: &reader)
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

    private func flatten(_ node: Node, prefix: String, locale: String, into out: inout [String: String], reader: inout YAMLReader) {
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
                    Project.checkFurigana(s, key: full, locale: locale, at: v, reader: &reader)
                } else {
                    flatten(v, prefix: full, locale: locale, into: &out, reader: &reader)
                }
            }
        case .scalar(let s):
            out[prefix] = s.string
            Project.checkFurigana(s, key: prefix, locale: locale, at: node, reader: &reader)
        default:
            reader.error("expected-mapping", ["what": "locale"], at: node)
        }
    }

    /// The locale that writes readings over its kanji (`{仕事|しごと}`), and wants one over every
    /// kanji its clients read.
    static let furiganaLocale = "ja-easy"

    /// ja-easy strings that no client reads as a sentence, where kanji stand without readings:
    /// labels of the printed sheets and of the office's monthly report (read by staff, in the
    /// words of ja), lint's own messages, and the word lists a client may type (`*words`: what she
    /// types may be in kanji, 答えない, 終わる).
    static func kanjiAllowed(_ key: String) -> Bool {
        key.hasPrefix("sheet.") || key.hasPrefix("report.") || key.hasPrefix("lint.") || key.hasSuffix("words")
    }

    /// Furigana markup in one locale string: well-formed groups (a kanji base, a kana reading) and
    /// no `{` left open, in every locale; groups only in ja-easy; and in ja-easy no kanji without
    /// its reading. Each problem at its line and column.
    static func checkFurigana(_ scalar: Node.Scalar, key: String, locale: String, at node: Node, reader: inout YAMLReader) {
        let easy = locale == furiganaLocale
        let issues = Furigana.check(scalar.string, easy: easy)
        guard !issues.isEmpty else { return }
        var start = reader.ref(node)
        if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { start = start.advanced(by: 1) }
        for issue in issues {
            if issue.kind == .bareKanji && kanjiAllowed(key) { continue }
            let at = reader.position(in: scalar, at: start, offset: issue.offset) ?? start
            let example = issue.kind == .baseNotKanji ? "お{金|かね}" : "{仕事|しごと}"
            reader.diagnostics.append(Diagnostic(.error, issue.kind.rawValue, ["key": key, "locale": locale, "text": issue.text, "example": example], at: at))
        }
    }
}
