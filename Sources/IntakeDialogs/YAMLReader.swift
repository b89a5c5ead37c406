import IntakeEngine
import Yams

/// Reads YAML nodes into model values, recording a diagnostic (with the node's line and column)
/// for every key it does not know and every value of the wrong shape.
public struct YAMLReader {
    public let file: String
    public var diagnostics: [Diagnostic] = []
    /// The file's lines, to point into expressions that span lines.
    let lines: [[Character]]

    public init(file: String, text: String? = nil) {
        self.file = file
        lines = text.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) } } ?? []
    }

    public func ref(_ node: Node) -> SourceRef {
        guard let m = node.mark else { return SourceRef(file: file, line: 1, column: 1) }
        return SourceRef(file: file, line: m.line, column: m.column)
    }

    public mutating func error(_ code: String, _ args: [String: String] = [:], at node: Node) {
        diagnostics.append(Diagnostic(.error, code, args, at: ref(node)))
    }

    public mutating func warning(_ code: String, _ args: [String: String] = [:], at node: Node) {
        diagnostics.append(Diagnostic(.warning, code, args, at: ref(node)))
    }

    /// A mapping's members by key; reports keys not in `allowed` (with a likely correction) and duplicates.
    public mutating func members(_ node: Node, allowed: [String], what: String) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            error("expected-mapping", ["what": what], at: node)
            return nil
        }
        var out: [String: Node] = [:]
        for (k, v) in mapping {
            guard let key = k.scalar?.string else {
                error("expected-string-key", at: k)
                continue
            }
            guard allowed.contains(key) else {
                var args = ["key": key, "what": what]
                if let s = Spelling.closest(to: key, in: allowed) { args["suggestion"] = s }
                error("unknown-key", args, at: k)
                continue
            }
            if out[key] != nil {
                error("duplicate-key", ["key": key], at: k)
                continue
            }
            out[key] = v
        }
        return out
    }

    public mutating func string(_ node: Node?, _ key: String) -> String? {
        guard let node else { return nil }
        guard let s = node.scalar?.string, !s.isEmpty else {
            error("expected-string", ["key": key], at: node)
            return nil
        }
        return s
    }

    public mutating func int(_ node: Node?, _ key: String) -> Int? {
        guard let node else { return nil }
        guard let s = node.scalar?.string, let i = Int(s) else {
            error("expected-integer", ["key": key, "found": node.scalar?.string ?? "…"], at: node)
            return nil
        }
        return i
    }

    public mutating func number(_ node: Node?, _ key: String) -> Double? {
        guard let node else { return nil }
        guard let s = node.scalar?.string, let d = NumberParser.parseDecimal(s) else {
            error("expected-number", ["key": key, "found": node.scalar?.string ?? "…"], at: node)
            return nil
        }
        return d
    }

    public mutating func bool(_ node: Node?, _ key: String) -> Bool? {
        guard let node else { return nil }
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            error("expected-bool", ["key": key, "found": node.scalar?.string ?? "…"], at: node)
            return nil
        }
    }

    public mutating func date(_ node: Node?, _ key: String) -> CivilDate? {
        guard let node else { return nil }
        guard let s = node.scalar?.string, let d = DateParser.parse(s) else {
            error("expected-date", ["key": key, "found": node.scalar?.string ?? "…"], at: node)
            return nil
        }
        return d
    }

    public mutating func sequence(_ node: Node?, _ key: String) -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let seq) = node else {
            error("expected-list", ["key": key], at: node)
            return []
        }
        return Array(seq)
    }

    /// Parses an expression written in a scalar; parse errors point at the character.
    public mutating func expression(_ node: Node?, _ key: String) -> (Expr, SourceRef)? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            error("expected-string", ["key": key], at: node)
            return nil
        }
        var start = ref(node)
        if scalar.style == .singleQuoted || scalar.style == .doubleQuoted { start = start.advanced(by: 1) }
        switch ExprParser.parse(scalar.string) {
        case .success(let e): return (e, start)
        case .failure(let issue):
            var d = Diagnostic(.error, "lint-expr", [:], at: start).with(issue)
            d.source = position(in: scalar, at: start, offset: issue.offset) ?? d.source
            diagnostics.append(d)
            return nil
        }
    }

    /// Where character `offset` of a scalar's value stands in the file, following the scalar over
    /// line breaks (folded or block style). nil when the file's text is not at hand.
    public func position(in scalar: Node.Scalar, at start: SourceRef, offset: Int) -> SourceRef? {
        guard !lines.isEmpty, start.line >= 1, start.line <= lines.count else { return nil }
        let value = Array(scalar.string)
        var line = start.line - 1
        var col = start.column - 1
        func nextLine() -> Bool {
            line += 1
            guard line < lines.count else { return false }
            col = lines[line].prefix { $0 == " " || $0 == "\t" }.count
            return true
        }
        if scalar.style == .literal || scalar.style == .folded { guard nextLine() else { return nil } }
        var i = 0
        while i < min(offset, value.count) {
            let chars = lines[line]
            if col < chars.count, chars[col] == value[i] {
                col += 1
                i += 1
            } else if col >= chars.count || chars[col...].allSatisfy({ $0 == " " || $0 == "\t" }) {
                // A line break: folded into a space (or kept as one in a literal block).
                guard nextLine() else { return nil }
                if value[i] == " " || value[i] == "\n" { i += 1 }
            } else if chars[col] == " " || chars[col] == "\t" {
                col += 1
            } else {
                col += 1  // an escape sequence in a quoted scalar: keep going
                i += 1
            }
        }
        if line < lines.count, col >= lines[line].count, i < value.count {
            _ = nextLine()
        }
        return SourceRef(file: file, line: line + 1, column: col + 1)
    }
}

extension Diagnostic {
    /// This diagnostic re-pointed at an expression issue (its code, words and column).
    func with(_ issue: ExprIssue) -> Diagnostic {
        Diagnostic(issue.isWarning ? .warning : .error, issue.code, issue.args, at: source.advanced(by: issue.offset))
    }
}
