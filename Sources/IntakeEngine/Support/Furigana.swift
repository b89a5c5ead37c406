/// How the readings written over kanji in locale text (`{仕事|しごと}`) reach a reader.
///
/// The 2020 national guideline for やさしい日本語 ("limit the kanji, and give them furigana") gives
/// two forms for plain text: the kanji with its reading in brackets, and the reading alone.
public enum FuriganaStyle: String, Sendable { case brackets, reading, annotations }

/// Ruby groups in locale text: `{BASE|READING}`, e.g. `{仕事|しごと}`, `{子|こ}ども`, `お{金|かね}`.
///
/// Grammar (what `render` reads): `{`, a base, `|`, a reading, `}`, where neither part is empty or
/// holds `{`, `}` or `|`. Lint (`check`) further wants the base to be kanji only (CJK unified
/// ideographs and 々) and the reading kana only (hiragana, katakana, ー). Anything else in braces —
/// `{name}`, a placeholder — is not a ruby group and is left for `Catalog.fill`; text that is not a
/// well-formed group is left as written.
public enum Furigana {
    /// `template` with every ruby group written in `style`:
    /// - `.brackets`: 仕事（しごと）
    /// - `.reading`: しごと
    /// - `.annotations`: U+FFF9 仕事 U+FFFA しごと U+FFFB (the Unicode interlinear annotation
    ///   characters; a page turns them into `<ruby>`).
    ///
    /// A template without `|` is returned as it is, without a copy (the kiosk server renders
    /// thousands of strings a second, nearly all without ruby).
    @inlinable
    public static func render(_ template: String, _ style: FuriganaStyle) -> String {
        guard template.containsByte(UInt8(ascii: "|")) else { return template }
        return rendered(template, Form(style))
    }

    /// The forms a reader may type back for a text holding ruby groups (a choice label, はい): the
    /// reading alone, the kanji alone, and the kanji with its reading in brackets. One element,
    /// the template itself, when it holds no group.
    public static func forms(_ template: String) -> [String] {
        guard template.containsByte(UInt8(ascii: "|")) else { return [template] }
        var out: [String] = []
        for form in [Form.reading, .base, .brackets] {
            let s = rendered(template, form)
            if !out.contains(s) { out.append(s) }
        }
        return out
    }

    /// Whether `template` holds at least one ruby group.
    public static func hasGroups(_ template: String) -> Bool {
        guard template.containsByte(UInt8(ascii: "|")) else { return false }
        return scan(Array(template.utf8)).contains { if case .group = $0 { return true } else { return false } }
    }

    @usableFromInline
    enum Form {
        case brackets, reading, annotations, base

        @usableFromInline
        init(_ style: FuriganaStyle) {
            switch style {
            case .brackets: self = .brackets
            case .reading: self = .reading
            case .annotations: self = .annotations
            }
        }
    }

    /// A piece of a template: plain bytes, or a ruby group (byte ranges of its base and reading).
    enum Piece {
        case text(Range<Int>)
        case group(whole: Range<Int>, base: Range<Int>, reading: Range<Int>)
    }

    /// Splits UTF-8 bytes into text and ruby groups. (`{`, `|` and `}` never occur inside a
    /// multi-byte character, so byte offsets are character boundaries.)
    static func scan(_ bytes: [UInt8]) -> [Piece] {
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}"), bar = UInt8(ascii: "|")
        var pieces: [Piece] = []
        var textStart = 0
        var i = 0
        while i < bytes.count {
            guard bytes[i] == open else {
                i += 1
                continue
            }
            // Up to the first `}` or `{`; a group holds exactly one `|`, with something on each side.
            var j = i + 1
            var bars: [Int] = []
            while j < bytes.count, bytes[j] != close, bytes[j] != open {
                if bytes[j] == bar { bars.append(j) }
                j += 1
            }
            if j < bytes.count, bytes[j] == close, bars.count == 1, let b = bars.first, b > i + 1, b < j - 1 {
                if textStart < i { pieces.append(.text(textStart..<i)) }
                pieces.append(.group(whole: i..<(j + 1), base: (i + 1)..<b, reading: (b + 1)..<j))
                i = j + 1
                textStart = i
            } else {
                i += 1
            }
        }
        if textStart < bytes.count { pieces.append(.text(textStart..<bytes.count)) }
        return pieces
    }

    @usableFromInline
    static func rendered(_ template: String, _ form: Form) -> String {
        let bytes = Array(template.utf8)
        let pieces = scan(bytes)
        guard pieces.contains(where: { if case .group = $0 { return true } else { return false } }) else { return template }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        for piece in pieces {
            switch piece {
            case .text(let r):
                out += bytes[r]
            case .group(_, let base, let reading):
                switch form {
                case .brackets:
                    out += bytes[base]
                    out += "（".utf8
                    out += bytes[reading]
                    out += "）".utf8
                case .reading:
                    out += bytes[reading]
                case .base:
                    out += bytes[base]
                case .annotations:
                    out += "\u{FFF9}".utf8
                    out += bytes[base]
                    out += "\u{FFFA}".utf8
                    out += bytes[reading]
                    out += "\u{FFFB}".utf8
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - What lint checks

    /// A problem in a template's ruby markup, at a character offset of the template.
    public struct Issue: Sendable, Equatable {
        public enum Kind: String, Sendable {
            /// A `{` with no `}` before the next `{` or the end.
            case unclosed = "furigana-unclosed"
            /// `{|しごと}`, `{仕事|}`, or more than one `|` in one pair of braces.
            case malformed = "furigana-malformed"
            /// The base holds something other than kanji (`{しごと|しごと}`, `{Job|しごと}`).
            case baseNotKanji = "furigana-base-not-kanji"
            /// The reading holds something other than kana (`{仕事|shigoto}`, `{仕事|し ごと}`).
            case readingNotKana = "furigana-reading-not-kana"
            /// A kanji outside every ruby group (checked in ja-easy only).
            case bareKanji = "furigana-bare-kanji"
            /// Ruby markup in a locale that does not take it.
            case notHere = "furigana-not-here"
        }

        public var kind: Kind
        /// Characters (not bytes) from the start of the template.
        public var offset: Int
        /// What is wrong, as written (`{仕事|shigoto}`, the bare kanji run).
        public var text: String

        public init(_ kind: Kind, offset: Int, text: String) {
            self.kind = kind
            self.offset = offset
            self.text = text
        }
    }

    /// The markup problems of one template. `easy`: the template is in a locale written for
    /// readers of kana (ja-easy), where every kanji needs its reading; otherwise ruby groups are
    /// themselves a problem (`.notHere`).
    public static func check(_ template: String, easy: Bool) -> [Issue] {
        let bytes = Array(template.utf8)
        let hasBar = bytes.contains(UInt8(ascii: "|"))
        guard hasBar || easy || bytes.contains(UInt8(ascii: "{")) else { return [] }
        var issues: [Issue] = []
        func offset(_ byte: Int) -> Int { String(decoding: bytes[..<byte], as: UTF8.self).count }
        func string(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
        for piece in scan(bytes) {
            switch piece {
            case .group(let whole, let base, let reading):
                if !easy {
                    issues.append(Issue(.notHere, offset: offset(whole.lowerBound), text: string(whole)))
                    continue
                }
                if !string(base).unicodeScalars.allSatisfy(isKanji) {
                    issues.append(Issue(.baseNotKanji, offset: offset(whole.lowerBound), text: string(whole)))
                }
                if !string(reading).unicodeScalars.allSatisfy(isKana) {
                    issues.append(Issue(.readingNotKana, offset: offset(whole.lowerBound), text: string(whole)))
                }
            case .text(let r):
                issues += textIssues(bytes, r, easy: easy, offset: offset)
            }
        }
        return issues
    }

    /// In text outside the groups: braces that open no placeholder and no group, and (in ja-easy)
    /// runs of bare kanji.
    private static func textIssues(_ bytes: [UInt8], _ r: Range<Int>, easy: Bool, offset: (Int) -> Int) -> [Issue] {
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}"), bar = UInt8(ascii: "|")
        var issues: [Issue] = []
        // Plain stretches (outside broken braces, which are reported as such and not again for their kanji).
        var plain: [Range<Int>] = []
        var plainStart = r.lowerBound
        var i = r.lowerBound
        while i < r.upperBound {
            if bytes[i] == open {
                var j = i + 1
                while j < r.upperBound, bytes[j] != close, bytes[j] != open { j += 1 }
                var broken: Range<Int>?
                if j >= r.upperBound || bytes[j] == open {
                    issues.append(Issue(.unclosed, offset: offset(i), text: String(decoding: bytes[i..<j], as: UTF8.self)))
                    broken = i..<j
                } else if bytes[(i + 1)..<j].contains(bar) {
                    issues.append(Issue(.malformed, offset: offset(i), text: String(decoding: bytes[i...j], as: UTF8.self)))
                    broken = i..<(j + 1)
                }
                if let broken {
                    plain.append(plainStart..<broken.lowerBound)
                    plainStart = broken.upperBound
                }
                i = j
                continue
            }
            i += 1
        }
        plain.append(plainStart..<max(plainStart, r.upperBound))
        guard easy else { return issues }
        for stretch in plain where !stretch.isEmpty {
            let base = offset(stretch.lowerBound)
            var run = ""
            var runStart = 0
            var k = 0
            for c in String(decoding: bytes[stretch], as: UTF8.self) {
                if c.unicodeScalars.allSatisfy(isKanji) {
                    if run.isEmpty { runStart = k }
                    run.append(c)
                } else if !run.isEmpty {
                    issues.append(Issue(.bareKanji, offset: base + runStart, text: run))
                    run = ""
                }
                k += 1
            }
            if !run.isEmpty { issues.append(Issue(.bareKanji, offset: base + runStart, text: run)) }
        }
        return issues.sorted { $0.offset < $1.offset }
    }

    /// CJK unified ideographs (with extension A and the supplementary planes' extensions, and the
    /// compatibility ideographs) and the iteration mark 々.
    public static func isKanji(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x3005, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F: return true
        default: return false
        }
    }

    /// Hiragana, katakana and the marks that belong to them (ー, ゝ, ゞ, ヽ, ヾ, ・ is not one).
    public static func isKana(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x3041...0x3096, 0x309D...0x309E, 0x30A1...0x30FA, 0x30FC...0x30FE: return true
        default: return false
        }
    }
}
