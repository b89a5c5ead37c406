/// What happened to a question: answered with a value, declined ("prefer not to answer"), or
/// skipped (an optional question left empty). Declined and skipped stay distinct in the record.
public enum Answer: Hashable, Sendable {
    case value(Value)
    case declined
    case skipped

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }
}

/// Stored (in logs, snapshots and saved sessions) in an explicit shape: `{"value": V}` (V: the
/// value's own tagged form), `"declined"` or `"skipped"`. The shape Swift once synthesized,
/// `{"value":{"_0":V}}`, `{"declined":{}}`, `{"skipped":{}}`, is still read.
extension Answer: Codable {
    private enum Keys: String, CodingKey { case value, declined, skipped, _0 }

    public init(from decoder: any Decoder) throws {
        // Most answers are values (an object): tried first, so that they cost no thrown error.
        guard let c = try? decoder.container(keyedBy: Keys.self) else {
            let single = try decoder.singleValueContainer()
            let word = try single.decode(String.self)
            switch word {
            case "declined": self = .declined
            case "skipped": self = .skipped
            default: throw DecodingError.dataCorruptedError(in: single, debugDescription: "unknown answer '\(word)'")
            }
            return
        }
        if c.contains(.value) {
            // Format 1 wrapped the value: {"value":{"_0":V}}.
            if let old = try? c.nestedContainer(keyedBy: Keys.self, forKey: .value), old.contains(._0) {
                self = .value(try old.decode(Value.self, forKey: ._0))
            } else {
                self = .value(try c.decode(Value.self, forKey: .value))
            }
        } else if c.contains(.declined) {
            self = .declined
        } else if c.contains(.skipped) {
            self = .skipped
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an answer"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .value(let v):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(v, forKey: .value)
        case .declined:
            var c = encoder.singleValueContainer()
            try c.encode("declined")
        case .skipped:
            var c = encoder.singleValueContainer()
            try c.encode("skipped")
        }
    }
}

/// An answer with the time it was given.
public struct AnswerEntry: Hashable, Sendable, Codable {
    public var answer: Answer
    /// Milliseconds since 1970 (UTC) when it was given.
    public var at: Int64

    public init(_ answer: Answer, at: Int64) {
        self.answer = answer
        self.at = at
    }
}

/// The current time, as the front end read it from its clock: the engine reads none.
public struct Moment: Hashable, Sendable, Codable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var epochMillis: Int64
    /// The office's offset from UTC in minutes (Japan: 540).
    public var utcOffsetMinutes: Int

    public init(epochMillis: Int64, utcOffsetMinutes: Int = 540) {
        self.epochMillis = epochMillis
        self.utcOffsetMinutes = utcOffsetMinutes
    }

    /// The office's calendar date at this moment.
    public var localDate: CivilDate {
        let local = epochMillis + Int64(utcOffsetMinutes) * 60_000
        let days = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        return CivilDate(daysSinceEpoch: Int(days))
    }

    /// The moment at noon, office time, of `date` (for tests and scripted conversations).
    public static func noon(of date: CivilDate, utcOffsetMinutes: Int = 540) -> Moment {
        let ms = (Int64(date.daysSinceEpoch) * 86_400 + 12 * 3600 - Int64(utcOffsetMinutes) * 60) * 1000
        return Moment(epochMillis: ms, utcOffsetMinutes: utcOffsetMinutes)
    }

    /// ISO 8601 with the office's offset, e.g. `2026-11-23T10:36:00+09:00`.
    public var iso: String {
        let local = epochMillis + Int64(utcOffsetMinutes) * 60_000
        let date = localDate
        var secs = Int((local % 86_400_000 + 86_400_000) % 86_400_000 / 1000)
        let h = secs / 3600; secs %= 3600
        let m = secs / 60, s = secs % 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let off = abs(utcOffsetMinutes)
        let sign = utcOffsetMinutes < 0 ? "-" : "+"
        return "\(date.iso)T\(two(h)):\(two(m)):\(two(s))\(sign)\(two(off / 60)):\(two(off % 60))"
    }
}
