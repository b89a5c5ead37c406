/// A typed answer, or the value of an expression.
///
/// Its `Codable` form is tagged (`{"int": 4}`) so that a saved session restores exactly the type
/// it held; the record uses the natural JSON form instead (see `Value.json`).
public enum Value: Hashable, Sendable {
    case bool(Bool)
    case int(Int)
    case decimal(Double)
    case text(String)
    case date(CivilDate)
    /// The value of a single-choice answer.
    case choice(String)
    /// The values of a multi-choice answer, in the dialog's choice order.
    case choices([String])
}

extension Value {
    /// A number as Double, for arithmetic and comparison across int/decimal.
    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .decimal(let d): return d
        default: return nil
        }
    }

    /// Text-like values (free text and single choice) compare with string literals.
    var string: String? {
        switch self {
        case .text(let s), .choice(let s): return s
        default: return nil
        }
    }

    /// The natural JSON form used in records and the kiosk protocol.
    public var json: JSON {
        switch self {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .decimal(let d): return .number(d)
        case .text(let s), .choice(let s): return .string(s)
        case .date(let d): return .string(d.iso)
        case .choices(let c): return .array(c.map { .string($0) })
        }
    }
}

extension Value: Codable {
    private enum Tag: String, CodingKey { case bool, int, decimal, text, date, choice, choices }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Tag.self)
        guard let key = c.allKeys.first, c.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a value has exactly one type tag"))
        }
        switch key {
        case .bool: self = .bool(try c.decode(Bool.self, forKey: key))
        case .int: self = .int(try c.decode(Int.self, forKey: key))
        case .decimal: self = .decimal(try c.decode(Double.self, forKey: key))
        case .text: self = .text(try c.decode(String.self, forKey: key))
        case .date: self = .date(try c.decode(CivilDate.self, forKey: key))
        case .choice: self = .choice(try c.decode(String.self, forKey: key))
        case .choices: self = .choices(try c.decode([String].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Tag.self)
        switch self {
        case .bool(let v): try c.encode(v, forKey: .bool)
        case .int(let v): try c.encode(v, forKey: .int)
        case .decimal(let v): try c.encode(v, forKey: .decimal)
        case .text(let v): try c.encode(v, forKey: .text)
        case .date(let v): try c.encode(v, forKey: .date)
        case .choice(let v): try c.encode(v, forKey: .choice)
        case .choices(let v): try c.encode(v, forKey: .choices)
        }
    }
}
