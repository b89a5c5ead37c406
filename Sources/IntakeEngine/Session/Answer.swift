/// What happened to a question: answered with a value, declined ("prefer not to answer"), or
/// skipped (an optional question left empty). Declined and skipped stay distinct in the record.
public enum Answer: Hashable, Sendable, Codable {
    case value(Value)
    case declined
    case skipped

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
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
