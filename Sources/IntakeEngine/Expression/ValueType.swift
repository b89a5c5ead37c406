/// The static type of an expression, found by `TypeChecker` when a dialog is loaded.
public indirect enum ValueType: Equatable, Sendable, CustomStringConvertible {
    case bool, int, decimal, text, date
    /// A single choice, with the values it can take.
    case choice(Set<String>)
    /// A multi choice, with the values it can take.
    case choices(Set<String>)
    case list(ValueType)
    /// The literal `null`.
    case null
    /// A repeat group (only meaningful as the first argument of count/any/all/min/max/sum).
    case group
    /// Stands for an expression that already had an error, so one mistake reports once.
    case unknown

    public var description: String {
        switch self {
        case .bool: return "yes/no"
        case .int: return "integer"
        case .decimal: return "decimal"
        case .text: return "text"
        case .date: return "date"
        case .choice: return "choice"
        case .choices: return "multi choice"
        case .list(let t): return "list of \(t)"
        case .null: return "null"
        case .group: return "repeat group"
        case .unknown: return "unknown"
        }
    }

    var isNumeric: Bool { self == .int || self == .decimal }
    var isTextLike: Bool {
        if case .choice = self { return true }
        return self == .text
    }
    var isOpen: Bool { self == .unknown || self == .null }

    /// The type of a setting's value.
    static func of(_ v: Value) -> ValueType {
        switch v {
        case .bool: return .bool
        case .int: return .int
        case .decimal: return .decimal
        case .text: return .text
        case .date: return .date
        case .choice(let c): return .choice([c])
        case .choices(let c): return .choices(Set(c))
        }
    }
}
