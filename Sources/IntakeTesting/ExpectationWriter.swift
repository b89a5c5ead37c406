import IntakeEngine

/// Writes an `expect:` block as YAML (for diffs and `--update`).
public enum ExpectationWriter {
    public static func lines(_ e: Conversation.Expectation, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var out: [String] = []
        if let s = e.status { out.append(pad + "status: " + quote(s)) }
        if !e.answers.isEmpty {
            out.append(pad + "answers:")
            for (k, v) in e.answers { out.append(pad + "  " + quote(k) + ": " + value(v)) }
        }
        if !e.computed.isEmpty {
            out.append(pad + "computed:")
            for (k, v) in e.computed { out.append(pad + "  " + quote(k) + ": " + (v == "null" ? "null" : value(v))) }
        }
        for (name, list) in [("declined", e.declined), ("skipped", e.skipped), ("suggestions", e.suggestions), ("warnings", e.warnings),
                           ("changed", e.changed)] {
            guard let list else { continue }
            out.append(pad + name + ": [" + list.map(quote).joined(separator: ", ") + "]")
        }
        return out
    }

    /// A list value `[a, b]` stays a flow list; everything else is a quoted scalar unless plainly safe.
    static func value(_ v: String) -> String {
        if v.hasPrefix("["), v.hasSuffix("]") {
            let inner = v.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingCharacters(in: " ") }
            return "[" + inner.filter { !$0.isEmpty }.map(quote).joined(separator: ", ") + "]"
        }
        return quote(v)
    }

    static func quote(_ s: String) -> String {
        // Answers compare as the text of the YAML scalar, so plain `true`, `4` and `2024-04-01` are fine.
        let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
            && s.first != "-" && s.first != "." && s.lowercased() != "null" && s != "~"
        // A JSON string is a YAML double-quoted scalar.
        return plain ? s : JSON.string(s).rendered()
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
