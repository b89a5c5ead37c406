/// How many terminal columns text takes: East Asian wide and full-width characters (kanji, kana,
/// full-width letters and punctuation, most emoji) take two, combining marks none, others one.
public enum TextWidth {
    public static func of(_ c: Character) -> Int {
        guard let first = c.unicodeScalars.first else { return 0 }
        return of(first)
    }

    public static func of(_ s: Substring) -> Int { s.reduce(0) { $0 + of($1) } }
    public static func of(_ s: String) -> Int { of(Substring(s)) }

    static func of(_ u: Unicode.Scalar) -> Int {
        let v = u.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        if v < 0x300 { return 1 }
        if isZero(v) { return 0 }
        return isWide(v) ? 2 : 1
    }

    private static func isZero(_ v: UInt32) -> Bool {
        (0x0300...0x036F).contains(v) || (0x200B...0x200F).contains(v) || (0xFE00...0xFE0F).contains(v)
            || (0x3099...0x309A).contains(v) || (0xE0100...0xE01EF).contains(v)
    }

    private static let wide: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0, 0x23F3...0x23F3,
        0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F, 0x2693...0x2693, 0x26A1...0x26A1,
        0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA,
        0x26F2...0x26F5, 0x26FA...0x26FD, 0x2705...0x2705, 0x270A...0x270B, 0x2728...0x2728, 0x274C...0x274C,
        0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797, 0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C,
        0x2B50...0x2B50, 0x2B55...0x2B55, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
        0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
        0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F004...0x1F004, 0x1F0CF...0x1F0CF, 0x1F18E...0x1F18E,
        0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F900...0x1F9FF,
        0x20000...0x3FFFD,
    ]

    private static func isWide(_ v: UInt32) -> Bool {
        var lo = 0, hi = wide.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if v < wide[mid].lowerBound { hi = mid - 1 } else if v > wide[mid].upperBound { lo = mid + 1 } else { return true }
        }
        return false
    }

    /// Characters that must not begin a line in Japanese (行頭禁則): they stay at the end of the line before.
    static let noLineStart: Set<Character> = ["、", "。", "，", "．", "」", "』", "）", "】", "〉", "》", "！", "？", "ー", "・",
                                             "…", "ぁ", "ぃ", "ぅ", "ぇ", "ぉ", "っ", "ゃ", "ゅ", "ょ", "ァ", "ィ", "ゥ", "ェ",
                                             "ォ", "ッ", "ャ", "ュ", "ョ", ",", ".", ")", "!", "?", ":", ";", "：", "；"]

    /// `text` in lines of at most `width` columns; a closing mark (、。」…) never begins a line (the
    /// character before it moves down with it). Latin words break at spaces; Japanese between any two characters. The
    /// first line starts with `indent`, the others with `hanging` (default: the same).
    public static func wrap(_ text: String, width: Int, indent: String = "", hanging: String? = nil) -> [String] {
        var out: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            out += wrapLine(paragraph, width: max(width, 8), indent: out.isEmpty ? indent : (hanging ?? indent),
                            hanging: hanging ?? indent)
        }
        return out
    }

    private static func wrapLine(_ text: Substring, width: Int, indent: String, hanging: String) -> [String] {
        // Leading spaces are the line's own indentation.
        let leading = text.prefix { $0 == " " }
        let text = text.dropFirst(leading.count)
        let indent = indent + leading
        // Units: a run of narrow non-space characters (a word), one wide character, or one space.
        var units: [Substring] = []
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == " " || of(c) == 2 {
                let next = text.index(after: i)
                units.append(text[i..<next])
                i = next
            } else {
                var j = text.index(after: i)
                while j < text.endIndex, text[j] != " ", of(text[j]) != 2 { j = text.index(after: j) }
                units.append(text[i..<j])
                i = j
            }
        }
        var lines: [String] = []
        var line = indent
        var used = of(indent)
        var prefix = used
        var empty = true
        func breakLine() {
            while line.hasSuffix(" ") && !empty { line.removeLast() }
            lines.append(line)
            line = hanging
            used = of(hanging)
            prefix = used
            empty = true
        }
        for unit in units {
            let w = of(unit)
            if unit == " " {
                if !empty && used + 1 <= width { line += " "; used += 1 }
                continue
            }
            if used + w > width && !empty {
                // A closing mark never begins a line: the character before it goes down with it.
                if let c = unit.first, unit.count == 1, noLineStart.contains(c) {
                    // Move down the character before it, and any closing marks just before that (）。).
                    var moved = ""
                    var movedWidth = 0
                    while let last = line.last, last != " ", used - movedWidth - of(last) > prefix {
                        if of(last) == 1 && !noLineStart.contains(last) {
                            // A Latin word, a number or a resume number goes down whole, or stays
                            // (the mark then begins the line): it is never cut.
                            let run = String(line.reversed().prefix { $0 != " " && of($0) == 1 }.reversed())
                            if used - movedWidth - run.count > prefix {
                                moved.insert(contentsOf: run, at: moved.startIndex)
                                movedWidth += run.count
                                line.removeLast(run.count)
                            }
                            break
                        }
                        moved.insert(last, at: moved.startIndex)
                        movedWidth += of(last)
                        line.removeLast()
                        if !noLineStart.contains(last) { break }
                    }
                    used -= movedWidth
                    breakLine()
                    line += moved
                    used += movedWidth
                    empty = moved.isEmpty
                } else {
                    breakLine()
                }
            }
            if used + w > width {
                // A word longer than the line: cut it.
                for c in unit {
                    if used + of(c) > width && !empty { breakLine() }
                    line.append(c)
                    used += of(c)
                    empty = false
                }
                continue
            }
            line += unit
            used += w
            empty = false
        }
        while line.hasSuffix(" ") { line.removeLast() }
        lines.append(line)
        return lines
    }
}
