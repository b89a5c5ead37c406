/// Parses dates as people type them at a Japanese kiosk, including 和暦 (Japanese era) dates.
public enum DateParser {
    /// Parses a date as a person types it. Returns nil if it is not a valid date.
    /// Applies `TextFolding.fold` first (so full-width digits and punctuation work). Accepts:
    ///  - 2024-04-01, 2024/4/1, 2024.4.1, 2024年4月1日 (final 日 optional), 20240401;
    ///    the Gregorian year must have exactly 4 digits and separators must not be mixed.
    ///  - 和暦: 令和6年4月1日, 令和元年5月1日, 平成31年4月30日, 昭和64年1月7日, 大正15年12月25日, 明治45年7月29日;
    ///    abbreviations R6.4.1, R6/4/1, R06-04-01, H30.1.1, S60.12.3, T15.12.25, M45.7.29 (upper or lower case),
    ///    令6.4.1, 平30.1.1, 昭60.12.3, 大15.12.25, 明45.7.29. The era year has 1–2 digits or is 元 (= 1).
    ///  - Spaces between parts are allowed ("令和 6年 4月 1日", "2024 / 4 / 1").
    /// Era ranges: 明治 1873-01-01 (Gregorian calendar adopted, 明治6年) … 1912-07-29, 大正 1912-07-30 … 1926-12-24,
    /// 昭和 1926-12-25 … 1989-01-07, 平成 1989-01-08 … 2019-04-30, 令和 2019-05-01 … .
    /// A wareki date outside its era (平成32年, 昭和65年, 令和1年4月1日) is rejected.
    public static func parse(_ raw: String) -> CivilDate? {
        guard let parts = components(raw, withDay: true), let d = parts.day else { return nil }
        if let era = parts.era {
            guard parts.year >= 1, parts.year <= 99 else { return nil }
            let y = era.offset + parts.year
            guard let date = CivilDate(year: y, month: parts.month, day: d) else { return nil }
            let key = (date.year, date.month, date.day)
            guard key >= era.start, key <= era.end else { return nil }
            return date
        }
        return CivilDate(year: parts.year, month: parts.month, day: d)
    }

    /// A year in 和暦 as typed: "平成30年", "平成30", "H30", "令和元年", "へいせい 30ねん" → the
    /// Gregorian year, when some day of it lies in that era (昭和64年 is 1989; 平成32年 is none).
    public static func parseEraYear(_ raw: String) -> Int? {
        guard let tokens = tokenize(raw), tokens.count == 2 || tokens.count == 3, case .era(let index) = tokens[0] else { return nil }
        let year: Int
        switch tokens[1] {
        case .number(let v, let digits) where digits <= 2 && v >= 1: year = v
        case .gan: year = 1
        default: return nil
        }
        if tokens.count == 3 { guard tokens[2] == .nen else { return nil } }
        let era = eras[index], y = era.offset + year
        guard (y, 12, 31) >= era.start, (y, 1, 1) <= era.end else { return nil }
        return y
    }

    /// A date whose parts read (a year, a month 1–12 and a day 1–31) but whose day the month does
    /// not have ("2026年2月30日", "令和7年4月31日"): its month and day, to say that day does not exist.
    public static func impossibleDay(_ raw: String) -> (month: Int, day: Int)? {
        guard parse(raw) == nil, let parts = components(raw, withDay: true), let day = parts.day,
              (1...12).contains(parts.month), (1...31).contains(day) else { return nil }
        let year = parts.era.map { $0.offset + parts.year } ?? parts.year
        guard (1...9999).contains(year), day > CivilDate.daysInMonth(year: year, month: parts.month) else { return nil }
        return (parts.month, day)
    }

    /// Year and month only (for work history "from/to year-month"): "2019-04", "2019/4", "2019.4", "2019年4月",
    /// "201904", "平成31年4月", "H31.4", "令和元年5月". A wareki year-month is accepted when at least one day
    /// of that month lies inside the era (平成31年4月 and 令和元年5月 are valid, 令和1年4月 is not).
    public static func parseYearMonth(_ raw: String) -> (year: Int, month: Int)? {
        guard let parts = components(raw, withDay: false), parts.day == nil,
              (1...12).contains(parts.month) else { return nil }
        if let era = parts.era {
            guard parts.year >= 1, parts.year <= 99 else { return nil }
            let y = era.offset + parts.year
            let first = (y, parts.month, 1)
            let last = (y, parts.month, CivilDate.daysInMonth(year: y, month: parts.month))
            guard last >= era.start, first <= era.end else { return nil }
            return (y, parts.month)
        }
        guard (1...9999).contains(parts.year) else { return nil }
        return (parts.year, parts.month)
    }

    /// The date in 和暦, e.g. "令和6年4月1日", "令和元年5月1日", for display.
    /// nil before 1873-01-01 (the start of the Gregorian calendar in Japan).
    public static func wareki(_ date: CivilDate) -> String? {
        let key = (date.year, date.month, date.day)
        guard let era = eras.first(where: { key >= $0.start && key <= $0.end }) else { return nil }
        let n = date.year - era.offset
        return era.name + (n == 1 ? "元" : String(n)) + "年\(date.month)月\(date.day)日"
    }

    // MARK: - Eras

    struct Era: Sendable {
        let name: String
        /// Gregorian year = offset + era year.
        let offset: Int
        let start: (Int, Int, Int)
        let end: (Int, Int, Int)
        /// Accepted spellings, lower case.
        let spellings: [String]
    }

    static let eras: [Era] = [
        Era(name: "明治", offset: 1867, start: (1873, 1, 1), end: (1912, 7, 29), spellings: ["明治", "めいじ", "明", "m"]),
        Era(name: "大正", offset: 1911, start: (1912, 7, 30), end: (1926, 12, 24), spellings: ["大正", "たいしょう", "大", "t"]),
        Era(name: "昭和", offset: 1925, start: (1926, 12, 25), end: (1989, 1, 7), spellings: ["昭和", "しょうわ", "昭", "s"]),
        Era(name: "平成", offset: 1988, start: (1989, 1, 8), end: (2019, 4, 30), spellings: ["平成", "へいせい", "平", "h"]),
        Era(name: "令和", offset: 2018, start: (2019, 5, 1), end: (9999, 12, 31), spellings: ["令和", "れいわ", "令", "r"]),
    ]

    /// The words of a date written in hiragana (やさしい日本語: "へいせい 2ねん 4がつ 1にち"),
    /// longest first where one begins another.
    static let kanaWords: [(spelling: [Character], token: Token)] = [
        (Array("がんねん"), Token.gan), (Array("ねん"), Token.nen), (Array("がつ"), Token.tsuki), (Array("にち"), Token.nichi),
    ]

    // MARK: - Tokenizing

    enum Token: Equatable {
        case number(value: Int, digits: Int)
        case gan            // 元 (first year of an era)
        case nen, tsuki, nichi
        case separator(Character)
        case era(Int)       // index into `eras`
    }

    static func tokenize(_ raw: String) -> [Token]? {
        let chars = Array(TextFolding.fold(raw).lowercased())
        var tokens: [Token] = []
        var i = 0
        outer: while i < chars.count {
            let c = chars[i]
            if c == " " { i += 1; continue }
            if let dv = digitValue(c) {
                var value = dv, digits = 1
                i += 1
                while i < chars.count, let next = digitValue(chars[i]) {
                    guard digits < 9 else { return nil }
                    value = value * 10 + next
                    digits += 1
                    i += 1
                }
                tokens.append(.number(value: value, digits: digits))
                continue
            }
            switch c {
            case "年": tokens.append(.nen)
            case "月": tokens.append(.tsuki)
            case "日": tokens.append(.nichi)
            case "元": tokens.append(.gan)
            case "-", "/", ".": tokens.append(.separator(c))
            default:
                for word in kanaWords where i + word.spelling.count <= chars.count && Array(chars[i..<(i + word.spelling.count)]) == word.spelling {
                    tokens.append(word.token)
                    // 元年 in kana is one word: 元 and 年.
                    if word.token == .gan { tokens.append(.nen) }
                    i += word.spelling.count
                    continue outer
                }
                // Longest spelling first ("令和" before "令").
                for (index, era) in eras.enumerated() {
                    for spelling in era.spellings {
                        let s = Array(spelling)
                        if i + s.count <= chars.count, Array(chars[i..<(i + s.count)]) == s {
                            tokens.append(.era(index))
                            i += s.count
                            continue outer
                        }
                    }
                }
                return nil
            }
            i += 1
        }
        return tokens
    }

    private static func digitValue(_ c: Character) -> Int? {
        guard let a = c.asciiValue, a >= 0x30, a <= 0x39 else { return nil }
        return Int(a - 0x30)
    }

    // MARK: - Grammar

    struct Parts {
        var era: Era?
        var year: Int
        var month: Int
        var day: Int?
    }

    /// Matches `[era] Y 年 M 月 [D [日]]`, `[era] Y sep M [sep D]`, or (no era) YYYYMMDD / YYYYMM.
    /// `withDay` selects whether the day is required (true) or forbidden (false).
    static func components(_ raw: String, withDay: Bool) -> Parts? {
        guard var t = tokenize(raw)?[...], !t.isEmpty else { return nil }
        var era: Era? = nil
        if case .era(let index)? = t.first {
            era = eras[index]
            t = t.dropFirst()
        }
        let tokens = Array(t)

        // Compact digits: YYYYMMDD or YYYYMM (Gregorian only).
        if era == nil, tokens.count == 1, case .number(let v, let digits) = tokens[0] {
            if withDay, digits == 8 {
                return Parts(era: nil, year: v / 10_000, month: v / 100 % 100, day: v % 100)
            }
            if !withDay, digits == 6 {
                return Parts(era: nil, year: v / 100, month: v % 100, day: nil)
            }
            return nil
        }

        guard tokens.count >= 3 else { return nil }
        // Year.
        let year: Int
        switch tokens[0] {
        case .number(let v, let digits):
            if era == nil { guard digits == 4 else { return nil } } else { guard digits <= 2 else { return nil } }
            year = v
        case .gan:
            guard era != nil else { return nil }
            year = 1
        default:
            return nil
        }
        guard case .number(let month, let monthDigits) = tokens[2], monthDigits <= 2 else { return nil }

        switch tokens[1] {
        case .nen:
            // Y 年 M 月 [D [日]]
            if !withDay {
                guard tokens.count == 4, tokens[3] == .tsuki else { return nil }
                return Parts(era: era, year: year, month: month, day: nil)
            }
            guard tokens.count == 5 || tokens.count == 6, tokens[3] == .tsuki,
                  case .number(let day, let dayDigits) = tokens[4], dayDigits <= 2 else { return nil }
            if tokens.count == 6 { guard tokens[5] == .nichi else { return nil } }
            return Parts(era: era, year: year, month: month, day: day)
        case .separator(let sep):
            if !withDay {
                guard tokens.count == 3 else { return nil }
                return Parts(era: era, year: year, month: month, day: nil)
            }
            guard tokens.count == 5, tokens[3] == .separator(sep),
                  case .number(let day, let dayDigits) = tokens[4], dayDigits <= 2 else { return nil }
            return Parts(era: era, year: year, month: month, day: day)
        default:
            return nil
        }
    }
}
