/// A regular expression for `matches(text, 'PATTERN')`, matched in time bounded by the pattern's
/// size times the text's length, whatever both are: the pattern is compiled once, when the dialog
/// is loaded, to a small program (Thompson's construction), and a text is matched by running every
/// thread of that program side by side over the text (a Pike VM without captures), each
/// instruction at most once per character. Nothing backtracks, so `(a|a)*b` or `(a*)*b` against a
/// long run of `a` costs what `a*b` does.
///
/// - The pattern matches the **whole** text (as if written `^(…)$`): `[0-9]{3}` accepts `123`,
///   not `x1234`. Write `.*` at either end to look for a part.
/// - The unit is the **character** as a person sees it (an extended grapheme cluster, as `len()`
///   counts): `.` is one character, `が` typed as one scalar or as `か` + `゙` is the same
///   character, and `{m,n}` counts what is on the screen.
/// - What is refused, and why, is in `BoundedRegex.Refusal`; the syntax in Dialogs/FIELDS.md.
public struct BoundedRegex: Sendable {
    /// The largest count a repeat `{m,n}` may name.
    public static let maxRepeat = 100
    /// The largest program a pattern may compile to (its repeats written out).
    public static let maxProgram = 1_000
    /// How deep groups may nest.
    public static let maxNesting = 32

    enum Instruction: Sendable, Equatable {
        /// One character, equal to this one (canonically: composed or decomposed alike).
        case char(Character)
        /// Any character but a line break.
        case any
        /// A character of `classes[i]`.
        case set(Int)
        /// Goes on at both.
        case split(Int, Int)
        case jump(Int)
        /// `^` and `$`: only at the start, only at the end of the text.
        case atStart, atEnd
        case match
    }

    /// The pattern as written.
    public let pattern: String
    let program: [Instruction]
    let classes: [CharClass]

    /// How many instructions the pattern compiled to (the cost of one character of text is at most this).
    public var size: Int { program.count }

    /// The program for `pattern`, or why it is refused: not supported, not bounded, or not a pattern.
    public static func compile(_ pattern: String) -> Result<BoundedRegex, Refusal> {
        var parser = RegexParser(Array(pattern))
        do throws(Refusal) {
            let tree = try parser.parse()
            let size = tree.size(limit: maxProgram + 1) + 1
            guard size <= maxProgram else { throw Refusal("regex-too-large", ["max": String(maxProgram)], at: 0) }
            var program: [Instruction] = []
            program.reserveCapacity(size)
            tree.emit(into: &program)
            program.append(.match)
            return .success(BoundedRegex(pattern: pattern, program: program, classes: parser.classes))
        } catch {
            return .failure(error)
        }
    }

    /// Whether the whole of `text` matches.
    public func matches(_ text: String) -> Bool {
        let chars = Array(text)
        // `seen[pc] == generation`: pc is already in the list being built for this position.
        var seen = [Int](repeating: -1, count: program.count)
        var current: [Int] = [], next: [Int] = [], stack: [Int] = []
        current.reserveCapacity(program.count)
        next.reserveCapacity(program.count)
        follow(from: 0, position: 0, length: chars.count, seen: &seen, stack: &stack, into: &current)
        for (i, c) in chars.enumerated() {
            if current.isEmpty { return false }
            next.removeAll(keepingCapacity: true)
            for pc in current {
                let takes: Bool
                switch program[pc] {
                case .char(let x): takes = c == x
                case .any: takes = !c.isNewline
                case .set(let k): takes = classes[k].contains(c)
                default: takes = false
                }
                if takes { follow(from: pc + 1, position: i + 1, length: chars.count, seen: &seen, stack: &stack, into: &next) }
            }
            swap(&current, &next)
        }
        return current.contains { program[$0] == .match }
    }

    /// Adds to `list` every instruction that reads a character (or matches) reachable from `start`
    /// without reading one, at `position` of a text of `length` characters. Each instruction is
    /// visited at most once per position, so loops that match nothing (`(a*)*`) end.
    private func follow(from start: Int, position: Int, length: Int, seen: inout [Int], stack: inout [Int], into list: inout [Int]) {
        stack.append(start)
        while let pc = stack.popLast() {
            guard seen[pc] != position else { continue }
            seen[pc] = position
            switch program[pc] {
            case .jump(let to): stack.append(to)
            case .split(let a, let b):
                stack.append(b)
                stack.append(a)
            case .atStart: if position == 0 { stack.append(pc + 1) }
            case .atEnd: if position == length { stack.append(pc + 1) }
            case .char, .any, .set, .match: list.append(pc)
            }
        }
    }
}

extension BoundedRegex {
    /// Why a pattern is refused: `code` names a wording in Locales (`lint.CODE`), `args` fill it,
    /// `position` is the character of the pattern where the problem starts.
    public struct Refusal: Error, Sendable, Equatable {
        public var code: String
        public var args: [String: String]
        public var position: Int

        init(_ code: String, _ args: [String: String] = [:], at position: Int) {
            self.code = code
            self.args = args
            self.position = position
        }
    }
}

/// A bracket expression `[…]`, or `\d`, `\p{Han}`… standing alone.
struct CharClass: Sendable, Equatable {
    var negated: Bool
    var items: [Item]

    enum Item: Sendable, Equatable {
        case char(Character)
        /// Both ends included, in Unicode's canonical order.
        case range(Character, Character)
        case builtin(Builtin, negated: Bool)
    }

    func contains(_ c: Character) -> Bool {
        items.contains { item in
            switch item {
            case .char(let x): return c == x
            case .range(let lo, let hi): return lo <= c && c <= hi
            case .builtin(let b, let negated): return b.contains(c) != negated
            }
        } != negated
    }
}

/// `\d \s \w` and the scripts of `\p{…}`.
enum Builtin: Sendable, Equatable {
    case digit, space, word, hiragana, katakana, han

    static func script(_ name: String) -> Builtin? {
        switch name {
        case "Hiragana": return .hiragana
        case "Katakana": return .katakana
        case "Han": return .han
        default: return nil
        }
    }

    /// Scripts go by a character's first scalar (its base: `が` written `か` + `゙` is hiragana).
    /// The ranges are Unicode's Script property (Unicode 15); the prolonged sound mark `ー` and the
    /// middle dot `・` belong to no script (Common), as in every regex engine.
    func contains(_ c: Character) -> Bool {
        switch self {
        case .digit:
            guard let a = c.asciiValue else { return false }
            return a >= 0x30 && a <= 0x39
        case .space: return c.isWhitespace
        case .word: return c.isLetter || c.isNumber || c == "_"
        case .hiragana, .katakana, .han:
            guard let u = c.unicodeScalars.first?.value else { return false }
            let ranges = self == .hiragana ? Builtin.hiraganaRanges : self == .katakana ? Builtin.katakanaRanges : Builtin.hanRanges
            return ranges.contains { $0.contains(u) }
        }
    }

    static let hiraganaRanges: [ClosedRange<UInt32>] = [
        0x3041...0x3096, 0x309D...0x309F, 0x1B001...0x1B11F, 0x1B132...0x1B132, 0x1B150...0x1B152, 0x1F200...0x1F200,
    ]
    static let katakanaRanges: [ClosedRange<UInt32>] = [
        0x30A1...0x30FA, 0x30FD...0x30FF, 0x31F0...0x31FF, 0x32D0...0x32FE, 0x3300...0x3357, 0xFF66...0xFF6F,
        0xFF71...0xFF9D, 0x1AFF0...0x1AFFE, 0x1B000...0x1B000, 0x1B120...0x1B122, 0x1B155...0x1B155, 0x1B164...0x1B167,
    ]
    static let hanRanges: [ClosedRange<UInt32>] = [
        0x2E80...0x2E99, 0x2E9B...0x2EF3, 0x2F00...0x2FD5, 0x3005...0x3005, 0x3007...0x3007, 0x3021...0x3029,
        0x3038...0x303B, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFA6D, 0xFA70...0xFAD9, 0x16FE2...0x16FE3,
        0x16FF0...0x16FF1, 0x20000...0x2A6DF, 0x2A700...0x2EE5D, 0x2F800...0x2FA1D, 0x30000...0x323AF,
    ]
}
