/// Finds type errors, unknown names and unknown choice values in an expression before any session
/// runs it. Rules:
/// - a question inside a repeat group, or a value computed per instance of one, is visible to
///   conditions within that group (its current instance); from outside, only through
///   `count/any/all/min/max/sum(group, …)`;
/// - `value` is the answer being checked (only in `expect`), `today` the session's date;
/// - comparing a choice with a string checks the string is one of its values.
public struct TypeChecker {
    public let index: DialogIndex
    public let settings: [String: Value]
    /// Enclosing repeat groups of the place the expression is written, outermost first.
    public var scope: [String]
    /// The answer's type inside a check, nil elsewhere.
    public var valueType: ValueType?
    public internal(set) var issues: [ExprIssue] = []
    private var computedInProgress: Set<String> = []

    public init(index: DialogIndex, settings: [String: Value], scope: [String] = [], valueType: ValueType? = nil) {
        self.index = index
        self.settings = settings
        self.scope = scope
        self.valueType = valueType
    }

    /// Checks `e` and returns its type; problems accumulate in `issues`.
    public mutating func check(_ e: Expr, expecting expected: ValueType? = nil) -> ValueType {
        let t = type(of: e)
        if let expected, !t.isOpen, !compatible(t, expected) {
            issues.append(ExprIssue("expr-type", ["expected": expected.description, "found": t.description], at: e.offset))
        }
        return t
    }

    private func compatible(_ a: ValueType, _ b: ValueType) -> Bool {
        if a == b { return true }
        if a.isNumeric && b.isNumeric { return true }
        switch (a, b) {
        case (.choice, .choice), (.choices, .choices): return true
        default: return false
        }
    }

    private mutating func type(of e: Expr) -> ValueType {
        switch e.node {
        case .literal(let v): return ValueType.of(v)
        case .null: return .null
        case .list(let items):
            var element: ValueType = .unknown
            for item in items {
                let t = type(of: item)
                guard case .literal = item.node else {
                    issues.append(ExprIssue("expr-list-literal", at: item.offset))
                    continue
                }
                if element == .unknown { element = t } else if !compatible(element, t) {
                    issues.append(ExprIssue("expr-type", ["expected": element.description, "found": t.description], at: item.offset))
                }
            }
            return .list(element)
        case .name(let n): return typeOfName(n, at: e.offset)
        case .setting(let key):
            if let v = settings[key] { return ValueType.of(v) }
            issues.append(ExprIssue("expr-unknown-setting", ["name": key] + suggestion(key, among: Array(settings.keys)), at: e.offset))
            return .unknown
        case .unary(.not, let inner):
            _ = check(inner, expecting: .bool)
            return .bool
        case .unary(.negate, let inner):
            let t = check(inner, expecting: .decimal)
            return t == .int ? .int : .decimal
        case .binary(let op, let a, let b): return typeOfBinary(op, a, b, at: e.offset)
        case .call(let name, let args): return typeOfCall(name, args, at: e.offset)
        }
    }

    private mutating func typeOfName(_ n: String, at offset: Int) -> ValueType {
        if n == "value" {
            if let valueType { return valueType }
            issues.append(ExprIssue("expr-value-outside-check", at: offset))
            return .unknown
        }
        if n == "today" { return .date }
        if let entry = index.entries[n] {
            switch entry.item {
            case .question(let q):
                guard isVisible(entry.groups) else {
                    issues.append(ExprIssue("expr-out-of-scope", ["name": n, "group": entry.groups.last ?? ""], at: offset))
                    return .unknown
                }
                return q.kind.valueType
            case .group:
                return .group
            case .section, .end:
                issues.append(ExprIssue("expr-not-a-value", ["name": n], at: offset))
                return .unknown
            }
        }
        if let c = index.computed[n] {
            guard !computedInProgress.contains(n) else {
                issues.append(ExprIssue("expr-computed-cycle", ["name": n], at: offset))
                return .unknown
            }
            // A value computed per instance is read inside its group, or through an aggregate.
            guard isVisible(c.groups) else {
                issues.append(ExprIssue("expr-computed-out-of-scope", ["name": n, "group": c.groups.last ?? ""], at: offset))
                return .unknown
            }
            var inner = TypeChecker(index: index, settings: settings, scope: c.groups)
            inner.computedInProgress = computedInProgress.union([n])
            let t = inner.type(of: c.expr)
            // Errors inside the computed value are reported where it is declared.
            if inner.issues.contains(where: { $0.code == "expr-computed-cycle" }) {
                issues.append(ExprIssue("expr-computed-cycle", ["name": n], at: offset))
            }
            return t
        }
        issues.append(ExprIssue("expr-unknown-name", ["name": n] + suggestion(n, among: allNames()), at: offset))
        return .unknown
    }

    private func isVisible(_ groups: [String]) -> Bool {
        index.isVisible(groups, from: scope)
    }

    private func allNames() -> [String] {
        Array(index.entries.keys) + Array(index.computed.keys) + ["value", "today"]
    }

    private func suggestion(_ name: String, among candidates: [String]) -> [String: String] {
        if let s = Spelling.closest(to: name, in: candidates) { return ["suggestion": s] }
        return [:]
    }
}

extension Dictionary where Key == String, Value == String {
    static func + (a: [String: String], b: [String: String]) -> [String: String] {
        a.merging(b) { x, _ in x }
    }
}
