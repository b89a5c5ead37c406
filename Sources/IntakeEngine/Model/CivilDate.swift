/// A calendar date without time or time zone, in the proleptic Gregorian calendar, years 1...9999.
///
/// Codable as its ISO string "YYYY-MM-DD" (single value container); decoding an invalid
/// string throws `DecodingError.dataCorrupted`.
public struct CivilDate: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Validates the date: year 1...9999, month 1...12, day within the month (leap years included).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1,
              day <= CivilDate.daysInMonth(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Only for components already known to be valid.
    private init(validYear: Int, month: Int, day: Int) {
        self.year = validYear
        self.month = month
        self.day = day
    }

    /// The date `daysSinceEpoch` days after 1970-01-01 (which is 0), proleptic Gregorian
    /// (Howard Hinnant's `civil_from_days`). Values outside 0001-01-01...9999-12-31 are clamped to that range.
    public init(daysSinceEpoch: Int) {
        let days = min(max(daysSinceEpoch, CivilDate.minDaysSinceEpoch), CivilDate.maxDaysSinceEpoch)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(validYear: m <= 2 ? y + 1 : y, month: m, day: d)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var daysSinceEpoch: Int {
        CivilDate.daysFromCivil(year: year, month: month, day: day)
    }

    /// "2024-04-01", zero-padded.
    public var iso: String {
        CivilDate.pad(year, 4) + "-" + CivilDate.pad(month, 2) + "-" + CivilDate.pad(day, 2)
    }

    public var description: String { iso }

    /// Strict "YYYY-MM-DD" (ASCII digits, exactly 10 characters) that is a valid date.
    public init?(iso: String) {
        let b = Array(iso.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return v
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Whole years from `self` to `date`: the age on `date` of someone born on `self`.
    ///
    /// Rule: the birthday is reached when `(date.month, date.day) >= (self.month, self.day)`.
    /// Consequently someone born on 29 February reaches their birthday on 1 March in non-leap
    /// years (on 28 February they are still the younger age). This matches Japanese law
    /// (年齢計算ニ関スル法律 / 民法143条: the age is attained at the end of 28 February,
    /// i.e. from 1 March) at day granularity.
    ///
    /// If `date` is before `self` the result is negative and symmetric:
    /// `-(date.years(until: self))` (truncated toward zero).
    public func years(until date: CivilDate) -> Int {
        if date < self { return -date.years(until: self) }
        var n = date.year - year
        if (date.month, date.day) < (month, day) { n -= 1 }
        return n
    }

    /// The date `days` days later (earlier if negative), clamped to 0001-01-01...9999-12-31.
    public func adding(days: Int) -> CivilDate {
        let (sum, overflow) = daysSinceEpoch.addingReportingOverflow(days)
        if overflow {
            return CivilDate(daysSinceEpoch: days > 0 ? CivilDate.maxDaysSinceEpoch : CivilDate.minDaysSinceEpoch)
        }
        return CivilDate(daysSinceEpoch: sum)
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = CivilDate(iso: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "Invalid date \"\(text)\"; expected YYYY-MM-DD")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }

    // MARK: - Calendar helpers

    static func isLeapYear(_ y: Int) -> Bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    /// Days in the month, or 0 for an invalid month.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeapYear(year) ? 29 : 28
        default: return 0
        }
    }

    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0001-01-01.
    static let minDaysSinceEpoch = daysFromCivil(year: 1, month: 1, day: 1)
    /// 9999-12-31.
    static let maxDaysSinceEpoch = daysFromCivil(year: 9999, month: 12, day: 31)

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
