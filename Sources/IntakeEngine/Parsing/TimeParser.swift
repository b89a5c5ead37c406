/// Reads a time of day as people type it at a Japanese kiosk: "9", "9時", "8時半", "8:30", "８：３０",
/// "17時30分", "午後5時", "ごご5じはん", "5pm", "8.5" (hours). Hours 0–24 (24 only on the hour),
/// minutes 0–59. Anything else is nil.
public enum TimeParser {
    public struct Time: Equatable, Sendable {
        public var hour: Int
        public var minute: Int

        /// The time as hours: whole hours an integer (9), others a fraction (8:30 → 8.5).
        public var value: Value {
            minute == 0 ? .int(hour) : .decimal(Double(hour) + Double(minute) / 60)
        }
    }

    public static func parse(_ raw: String) -> Time? {
        var s = String(TextFolding.fold(raw).lowercased().filter { $0 != " " })
        // Before or after noon, at either end.
        var afternoon: Bool?
        for (words, pm) in [(["午前", "ごぜん", "am", "a.m."], false), (["午後", "ごご", "pm", "p.m."], true)] {
            for w in words {
                if s.hasPrefix(w) { s.removeFirst(w.count); afternoon = pm }
                else if s.hasSuffix(w) { s.removeLast(w.count); afternoon = pm }
            }
        }
        guard !s.isEmpty else { return nil }
        let chars = Array(s)
        var i = 0
        func digits(max: Int) -> Int? {
            var n = 0, count = 0
            while i < chars.count, count < max, let d = chars[i].wholeNumberValue, chars[i].isASCII {
                n = n * 10 + d
                i += 1
                count += 1
            }
            return count == 0 ? nil : n
        }
        func take(_ words: [String]) -> Bool {
            for w in words where String(chars[i...]).hasPrefix(w) {
                i += w.count
                return true
            }
            return false
        }
        guard var hour = digits(max: 2) else { return nil }
        var minute = 0
        if i < chars.count {
            if take([":", "："]) {
                guard let m = digits(max: 2), i == chars.count || take(["分", "ふん", "ぷん"]) else { return nil }
                minute = m
            } else if take(["."]) {
                // Hours with a fraction ("8.5"): whole minutes only.
                let start = i
                guard let f = digits(max: 2) else { return nil }
                let scaled = Double(f) / (i - start == 1 ? 10 : 100) * 60
                guard scaled == scaled.rounded() else { return nil }
                minute = Int(scaled)
            } else if take(["時", "じ"]) {
                if take(["半", "はん"]) {
                    minute = 30
                } else if i < chars.count {
                    guard let m = digits(max: 2), take(["分", "ふん", "ぷん"]) else { return nil }
                    minute = m
                }
            } else {
                return nil
            }
        }
        guard i == chars.count, minute < 60 else { return nil }
        if let afternoon {
            guard hour <= 12 else { return nil }
            if afternoon, hour < 12 { hour += 12 }
            if !afternoon, hour == 12 { hour = 0 }
        }
        guard hour < 24 || (hour == 24 && minute == 0) else { return nil }
        return Time(hour: hour, minute: minute)
    }

    /// Hours as a number (a JSON client's value: 9, 8.5) as a time, whole minutes only.
    public static func time(hours: Double) -> Time? {
        guard hours.isFinite, hours >= 0, hours <= 24 else { return nil }
        let minutes = (hours * 60).rounded()
        guard abs(minutes - hours * 60) < 1e-6 else { return nil }
        let t = Time(hour: Int(minutes) / 60, minute: Int(minutes) % 60)
        return t.hour < 24 || t.minute == 0 ? t : nil
    }

    /// How a time is shown: "9:00", "8:30".
    public static func display(_ v: Value) -> String? {
        let hours: Double
        switch v {
        case .int(let h): hours = Double(h)
        case .decimal(let d): hours = d
        default: return nil
        }
        guard let t = time(hours: hours) else { return nil }
        return String(t.hour) + ":" + (t.minute < 10 ? "0" : "") + String(t.minute)
    }
}
