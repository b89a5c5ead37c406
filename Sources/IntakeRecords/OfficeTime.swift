import Foundation
import IntakeEngine

/// The office's time zone, applied where records leave the program (CSV, FHIR, the monthly
/// report): every time is written in it, with its offset at that instant, whatever zone the
/// machine that took the session was in. The engine knows no zone; this is the edge.
public struct OfficeTime: Sendable {
    public let zone: TimeZone

    public init(_ zone: TimeZone) {
        self.zone = zone
    }

    /// A zone of a fixed offset from UTC, in minutes (540: Japan).
    public init(fixedOffsetMinutes: Int) {
        self.zone = TimeZone(secondsFromGMT: fixedOffsetMinutes * 60) ?? OfficeTime.tokyo.zone
    }

    /// Japan (Asia/Tokyo, +09:00 all year): the default office.
    public static let tokyo = OfficeTime(TimeZone(identifier: "Asia/Tokyo") ?? TimeZone(secondsFromGMT: 9 * 3600) ?? .current)

    /// The zone's offset from UTC in minutes at an instant.
    public func offsetMinutes(at epochMillis: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(epochMillis) / 1000)) / 60
    }

    /// An instant as the office's clock shows it.
    public func moment(_ epochMillis: Int64) -> Moment {
        Moment(epochMillis: epochMillis, utcOffsetMinutes: offsetMinutes(at: epochMillis))
    }

    /// The instant the office's day `date` begins (its local midnight), in epoch milliseconds.
    public func startOfDay(_ date: CivilDate) -> Int64 {
        let utcMidnight = Int64(date.daysSinceEpoch) * 86_400_000
        // The offset at the guess, then at the instant found (a change of offset that day moves it).
        var at = utcMidnight - Int64(offsetMinutes(at: utcMidnight)) * 60_000
        at = utcMidnight - Int64(offsetMinutes(at: at)) * 60_000
        return at
    }

    /// ISO 8601 with the office's offset (`2026-11-23T10:41:07+09:00`).
    public func iso(_ epochMillis: Int64) -> String {
        moment(epochMillis).iso
    }

    /// A timestamp as the records write it (`2026-11-23T01:41:07Z`, `…+09:00`) rewritten in the
    /// office's time zone; nil when it is not one.
    public func iso(rewriting timestamp: String) -> String? {
        OfficeTime.epochMillis(timestamp).map(iso)
    }

    /// Epoch milliseconds of an ISO 8601 timestamp `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
    public static func epochMillis(_ timestamp: String) -> Int64? {
        let chars = Array(timestamp.utf8)
        guard chars.count >= 20, let date = CivilDate(iso: String(decoding: chars[0..<10], as: UTF8.self)),
              chars[10] == UInt8(ascii: "T") || chars[10] == UInt8(ascii: " ") else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= chars.count else { return nil }
            var n = 0
            for c in chars[r] {
                guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
                n = n * 10 + Int(c - UInt8(ascii: "0"))
            }
            return n
        }
        guard let h = number(11..<13), chars[13] == UInt8(ascii: ":"), let m = number(14..<16), chars[16] == UInt8(ascii: ":"),
              let s = number(17..<19), h < 24, m < 60, s < 61 else { return nil }
        var i = 19
        var millis = 0
        if chars[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < chars.count, chars[i] >= UInt8(ascii: "0"), chars[i] <= UInt8(ascii: "9") {
                if digits < 3 { millis = millis * 10 + Int(chars[i] - UInt8(ascii: "0")) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        var offset = 0
        guard i < chars.count else { return nil }
        if chars[i] == UInt8(ascii: "Z") {
            guard i + 1 == chars.count else { return nil }
        } else {
            guard chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-"), i + 6 == chars.count,
                  let oh = number((i + 1)..<(i + 3)), chars[i + 3] == UInt8(ascii: ":"), let om = number((i + 4)..<(i + 6)),
                  oh < 24, om < 60 else { return nil }
            offset = (oh * 60 + om) * (chars[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(h * 3600 + m * 60 + s) - Int64(offset) * 60
        return seconds * 1000 + Int64(millis)
    }
}
