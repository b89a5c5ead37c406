/// An expression of the dialog language, as written in `when`, `expect`, `count` and `computed`.
///
/// ```
/// reason == 'divorce' and any(children, age <= settings.young_child_age)
/// count(children, stage in ['0-2', '3-5']) > 0
/// age(birth_date) >= 18
/// ```
public struct Expr: Sendable {
    public indirect enum Node: Sendable {
        case literal(Value)
        case null
        case list([Expr])
        /// A question, computed value, repeat group, or `value` / `today`.
        case name(String)
        /// `settings.NAME`
        case setting(String)
        case unary(UnaryOp, Expr)
        case binary(BinaryOp, Expr, Expr)
        case call(String, [Expr])
    }

    public var node: Node {
        didSet { builtin = Builtin(node) }
    }
    /// Characters from the start of the expression's text to this node.
    public var offset: Int
    /// On `matches(text, 'PATTERN')`: the pattern, compiled once when the expression is parsed, so
    /// that no step compiles it again. nil everywhere else (and when the pattern is not a literal).
    public internal(set) var regex: BoundedRegex?
    /// The function a call names, or `value` / `today` for those names: read once when the node is
    /// set, so that evaluating compares no strings. nil for any other node or name.
    private(set) var builtin: Builtin?

    public init(_ node: Node, at offset: Int) {
        self.node = node
        self.offset = offset
        builtin = Builtin(node)
    }

    /// The functions of the language, and the two names with a fixed meaning.
    enum Builtin: UInt8, Sendable {
        case count, any, all, sum, min, max, age, year, month, answered, declined, contains, len, `if`, date, instance, matches
        case value, today

        init?(_ node: Node) {
            switch node {
            case .call(let name, _):
                switch name {
                case "count": self = .count
                case "any": self = .any
                case "all": self = .all
                case "sum": self = .sum
                case "min": self = .min
                case "max": self = .max
                case "age": self = .age
                case "year": self = .year
                case "month": self = .month
                case "answered": self = .answered
                case "declined": self = .declined
                case "contains": self = .contains
                case "len": self = .len
                case "if": self = .if
                case "date": self = .date
                case "instance": self = .instance
                case "matches": self = .matches
                default: return nil
                }
            case .name("value"): self = .value
            case .name("today"): self = .today
            default: return nil
            }
        }
    }

    /// Names the expression mentions (questions, computed values, groups), for dependency checks.
    public var names: [(name: String, offset: Int)] {
        var out: [(String, Int)] = []
        collectNames(into: &out)
        return out
    }

    private func collectNames(into out: inout [(String, Int)]) {
        switch node {
        case .literal, .null, .setting: break
        case .name(let n): out.append((n, offset))
        case .list(let items): for i in items { i.collectNames(into: &out) }
        case .unary(_, let e): e.collectNames(into: &out)
        case .binary(_, let a, let b): a.collectNames(into: &out); b.collectNames(into: &out)
        case .call(_, let args): for a in args { a.collectNames(into: &out) }
        }
    }
}

public enum UnaryOp: String, Sendable {
    case not
    case negate = "-"
}

public enum BinaryOp: String, Sendable {
    case or, and
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case `in`
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%"
}

/// A problem found while parsing or type-checking an expression. `code` names a wording in
/// Locales (`lint.CODE`); `args` fill its placeholders.
public struct ExprIssue: Error, Sendable, Equatable {
    public var code: String
    public var args: [String: String]
    public var offset: Int
    public var isWarning: Bool

    public init(_ code: String, _ args: [String: String] = [:], at offset: Int, warning: Bool = false) {
        self.code = code
        self.args = args
        self.offset = offset
        self.isWarning = warning
    }
}

/// Names with a fixed meaning inside expressions or test conversations; no question may use them as its id.
public enum ReservedNames {
    public static let words: Set<String> = ["value", "today", "settings", "and", "or", "not", "in",
                                            "true", "false", "null", "yes", "no",
                                            "invalid", "warn", "dropped", "notice", "review", "done"]
}
