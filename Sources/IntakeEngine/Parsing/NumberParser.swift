/// Parses numbers as people type them at a Japanese kiosk.
public enum NumberParser {
    /// Integers as typed: "3", "３", " 12 ", "1,000", "１，０００", "-2", "+5", optionally followed by one unit word
    /// (spaces before it allowed): 歳 才 人 円 万円 (×10000) 万 (×10000) 分 日 日間 時間 年 年間 か月 ヶ月 ヵ月 カ月 ケ月 箇月
    /// 回 件 社 週 週間 時, or the same in hiragana (さい にん えん まんえん ふん …) — e.g. "4歳", "4さい",
    /// "1,000円", "25万円" → 250000, "15分".
    /// Kanji numerals 〇一二三四五六七八九十 for 0...99 ("三", "十二", "二十五") are accepted too (unsigned).
    /// Commas must group thousands ("1,000", "12,345,678"; not "1,00").
    /// Rejects anything else ("3abc", "1.5", "", "--3", overflow beyond Int range).
    public static func parseInteger(_ raw: String) -> Int? {
        guard let (body, multiplier) = splitUnit(raw) else { return nil }
        let value: Int
        if let v = parseKanji(body) {
            value = v
        } else if let number = scan(body), number.fraction == nil {
            guard let v = accumulate(number.integerDigits, negative: number.negative) else { return nil }
            value = v
        } else {
            return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// Decimals: everything parseInteger accepts plus "1.5", "１．５", ".5", "0.25", "1,234.5", "1.5万円" → 15000.
    /// Integers too large for Int are accepted as Doubles. Rejects "1.2.3", "1.", "nan", "inf", "1e5", "0x10".
    public static func parseDecimal(_ raw: String) -> Double? {
        guard let (body, multiplier) = splitUnit(raw) else { return nil }
        if let v = parseKanji(body) { return Double(v * multiplier) }
        guard let number = scan(body) else { return nil }
        // The text is now known to be [-]?digits[.digits]: safe to hand to Double(String).
        var text = number.negative ? "-" : ""
        text += number.integerDigits.isEmpty ? "0" : String(number.integerDigits)
        if let fraction = number.fraction { text += "." + String(fraction) }
        guard let v = Double(text), v.isFinite else { return nil }
        let result = v * Double(multiplier)
        return result.isFinite ? result : nil
    }

    // MARK: - Units

    /// Longest first where one is a suffix of another (万円 before 円, 時間 before 時 ...).
    static let units: [(suffix: String, multiplier: Int)] = [
        ("万円", 10_000), ("時間", 1), ("日間", 1), ("年間", 1), ("週間", 1),
        ("か月", 1), ("ヶ月", 1), ("ヵ月", 1), ("カ月", 1), ("ケ月", 1), ("箇月", 1),
        ("万", 10_000), ("歳", 1), ("才", 1), ("人", 1), ("円", 1), ("分", 1), ("日", 1),
        ("年", 1), ("回", 1), ("件", 1), ("社", 1), ("週", 1), ("時", 1),
        (" years", 1), (" year", 1), (" yen", 1), ("yen", 1), (" minutes", 1), (" hours", 1), (" days", 1),
        // The same counters in hiragana, as typed in やさしい日本語 ("4さい", "２にん").
        ("まんえん", 10_000), ("しゅうかん", 1), ("ねんかん", 1), ("かげつ", 1), ("じかん", 1), ("にちかん", 1),
        ("まん", 10_000), ("さい", 1), ("にん", 1), ("えん", 1), ("ふん", 1), ("ぷん", 1), ("にち", 1), ("ねん", 1),
        ("かい", 1), ("けん", 1), ("しゃ", 1), ("しゅう", 1), ("じ", 1),
    ]

    /// Folds, then removes at most one trailing unit word. Returns the bare number text and the multiplier.
    static func splitUnit(_ raw: String) -> (body: Substring, multiplier: Int)? {
        let folded = TextFolding.fold(raw)
        var body = Substring(folded)
        // A currency sign in front: ¥1,000 (the full-width ￥ folds to the same).
        if let f = body.first, f == "¥" || f == "￥" || f == "\\" { body = body.dropFirst() }
        var multiplier = 1
        for unit in units where body.hasSuffix(unit.suffix) {
            body = body.dropLast(unit.suffix.count)
            multiplier = unit.multiplier
            break
        }
        while body.last == " " { body = body.dropLast() }
        return body.isEmpty ? nil : (body, multiplier)
    }

    // MARK: - Digits

    struct Scanned {
        var negative: Bool
        /// Digits of the integer part, commas removed (may be empty, e.g. ".5").
        var integerDigits: [Character]
        /// Digits after the decimal point, if there is one (never empty).
        var fraction: [Character]?
    }

    /// Validates `[+-]? int? ('.' digits+)?` where int is plain digits or comma-grouped thousands,
    /// and at least one digit is present before the point when there is no fraction.
    static func scan(_ body: Substring) -> Scanned? {
        var chars = Array(body)
        var negative = false
        if let first = chars.first, first == "+" || first == "-" {
            negative = first == "-"
            chars.removeFirst()
        }
        var integerPart = chars[...]
        var fraction: [Character]? = nil
        if let dot = chars.firstIndex(of: ".") {
            integerPart = chars[..<dot]
            let rest = chars[(dot + 1)...]
            guard !rest.isEmpty, rest.allSatisfy(isDigit) else { return nil }
            fraction = Array(rest)
        }
        guard let digits = groupedDigits(integerPart) else { return nil }
        if fraction == nil && digits.isEmpty { return nil }
        return Scanned(negative: negative, integerDigits: digits, fraction: fraction)
    }

    /// "1234" or "1,234,567" → the digits; "" → []; anything else → nil.
    private static func groupedDigits(_ part: ArraySlice<Character>) -> [Character]? {
        guard part.contains(",") else {
            return part.allSatisfy(isDigit) ? Array(part) : nil
        }
        let groups = part.split(separator: ",", omittingEmptySubsequences: false)
        guard let head = groups.first, (1...3).contains(head.count) else { return nil }
        for (index, group) in groups.enumerated() {
            guard group.allSatisfy(isDigit), index == 0 || group.count == 3 else { return nil }
        }
        return part.filter { $0 != "," }
    }

    private static func isDigit(_ c: Character) -> Bool {
        guard let a = c.asciiValue else { return false }
        return a >= 0x30 && a <= 0x39
    }

    /// Overflow-checked; accumulates negatively so that Int.min is representable.
    private static func accumulate(_ digits: [Character], negative: Bool) -> Int? {
        var value = 0
        for c in digits {
            guard let a = c.asciiValue else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = shifted.subtractingReportingOverflow(Int(a) - 0x30)
            if o1 || o2 { return nil }
            value = next
        }
        if negative { return value }
        let (positive, overflow) = (0).subtractingReportingOverflow(value)
        return overflow ? nil : positive
    }

    // MARK: - Kanji numerals

    private static let kanjiDigits: [Character: Int] = [
        "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    ]

    /// 0...99: "〇"…"九", "十", "十二", "二十", "二十五".
    static func parseKanji(_ body: Substring) -> Int? {
        let chars = Array(body)
        guard !chars.isEmpty, chars.count <= 3 else { return nil }
        guard let ten = chars.firstIndex(of: "十") else {
            guard chars.count == 1 else { return nil }
            return kanjiDigits[chars[0]]
        }
        let before = chars[..<ten], after = chars[(ten + 1)...]
        guard before.count <= 1, after.count <= 1 else { return nil }
        var tens = 1, ones = 0
        if let c = before.first {
            guard let v = kanjiDigits[c], v >= 1 else { return nil }
            tens = v
        }
        if let c = after.first {
            guard let v = kanjiDigits[c], v >= 1 else { return nil }
            ones = v
        }
        return tens * 10 + ones
    }
}
