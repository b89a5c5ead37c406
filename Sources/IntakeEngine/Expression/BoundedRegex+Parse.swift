/// A pattern read into a tree, before it is written out as a program.
indirect enum RegexNode: Sendable {
    case empty
    case char(Character)
    case any
    case set(Int)
    case atStart, atEnd
    case concat([RegexNode])
    case alt([RegexNode])
    /// `max` nil: no upper bound.
    case `repeat`(RegexNode, min: Int, max: Int?)

    /// How many instructions `emit` writes, or `limit` when that many or more (so `((a{100}){100}){100}`
    /// is measured without being written out).
    func size(limit: Int) -> Int {
        let n: Int
        switch self {
        case .empty: n = 0
        case .char, .any, .set, .atStart, .atEnd: n = 1
        case .concat(let items): n = items.reduce(0) { Swift.min($0 + $1.size(limit: limit), limit) }
        case .alt(let branches): n = branches.reduce(2 * (branches.count - 1)) { Swift.min($0 + $1.size(limit: limit), limit) }
        case .repeat(let x, let lo, let hi):
            let s = x.size(limit: limit)
            if s == 0 { return 0 }
            // lo, hi ≤ maxRepeat and s ≤ limit: no overflow.
            n = lo * s + (hi.map { ($0 - lo) * (s + 1) } ?? s + 2)
        }
        return Swift.min(n, limit)
    }

    /// Thompson's construction. Only called once `size` is known to be within bounds; a repeat of
    /// something that writes nothing writes nothing, so every step of the walk writes something.
    func emit(into p: inout [BoundedRegex.Instruction]) {
        switch self {
        case .empty: break
        case .char(let c): p.append(.char(c))
        case .any: p.append(.any)
        case .set(let k): p.append(.set(k))
        case .atStart: p.append(.atStart)
        case .atEnd: p.append(.atEnd)
        case .concat(let items): for i in items { i.emit(into: &p) }
        case .alt(let branches):
            var exits: [Int] = []
            for (k, b) in branches.enumerated() {
                guard k < branches.count - 1 else { b.emit(into: &p); break }
                let split = p.count
                p.append(.split(split + 1, -1))
                b.emit(into: &p)
                exits.append(p.count)
                p.append(.jump(-1))
                p[split] = .split(split + 1, p.count)
            }
            for e in exits { p[e] = .jump(p.count) }
        case .repeat(let x, let lo, let hi):
            guard x.size(limit: 1) > 0 else { return }
            for _ in 0..<lo { x.emit(into: &p) }
            if let hi {
                // x? written out (hi - lo) times, each skippable.
                for _ in lo..<hi {
                    let split = p.count
                    p.append(.split(split + 1, -1))
                    x.emit(into: &p)
                    p[split] = .split(split + 1, p.count)
                }
            } else {
                let loop = p.count
                p.append(.split(loop + 1, -1))
                x.emit(into: &p)
                p.append(.jump(loop))
                p[loop] = .split(loop + 1, p.count)
            }
        }
    }
}

/// Reads a pattern (see Dialogs/FIELDS.md for what it may hold). Every refusal names the
/// character where the problem starts.
struct RegexParser {
    typealias Refusal = BoundedRegex.Refusal

    private let chars: [Character]
    private var pos = 0
    private var depth = 0
    private(set) var classes: [CharClass] = []

    init(_ chars: [Character]) {
        self.chars = chars
    }

    mutating func parse() throws(Refusal) -> RegexNode {
        let tree = try parseAlternation()
        if pos < chars.count {
            // parseAlternation stops only at the end or at a ')' without its '('.
            throw Refusal("regex-unopened-group", at: pos)
        }
        return tree
    }

    private var current: Character? { pos < chars.count ? chars[pos] : nil }

    private func peek(_ k: Int) -> Character? { pos + k < chars.count ? chars[pos + k] : nil }

    private func text(_ from: Int, _ to: Int) -> String {
        String(chars[Swift.max(0, from)..<Swift.min(to, chars.count)])
    }

    private mutating func parseAlternation() throws(Refusal) -> RegexNode {
        var branches = [try parseSequence()]
        while current == "|" {
            pos += 1
            branches.append(try parseSequence())
        }
        return branches.count == 1 ? branches[0] : .alt(branches)
    }

    private mutating func parseSequence() throws(Refusal) -> RegexNode {
        var items: [RegexNode] = []
        while let c = current, c != "|", c != ")" {
            let atom = try parseAtom()
            items.append(try parseQuantifier(atom))
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    private mutating func parseAtom() throws(Refusal) -> RegexNode {
        let start = pos
        guard let c = current else { return .empty }
        switch c {
        case "(":
            if peek(1) == "?" {
                switch peek(2) {
                case ":": pos += 3
                case "=", "!":
                    throw Refusal("regex-lookaround", ["text": text(start, start + 3)], at: start)
                case "<" where peek(3) == "=" || peek(3) == "!":
                    throw Refusal("regex-lookaround", ["text": text(start, start + 4)], at: start)
                default:
                    throw Refusal("regex-unsupported-group", ["text": text(start, start + 3)], at: start)
                }
            } else {
                pos += 1
            }
            depth += 1
            defer { depth -= 1 }
            guard depth <= BoundedRegex.maxNesting else {
                throw Refusal("regex-too-deep", ["max": String(BoundedRegex.maxNesting)], at: start)
            }
            let inner = try parseAlternation()
            guard current == ")" else { throw Refusal("regex-unclosed-group", at: start) }
            pos += 1
            return inner
        case "[":
            return .set(try parseClass())
        case ".":
            pos += 1
            return .any
        case "^":
            pos += 1
            return .atStart
        case "$":
            pos += 1
            return .atEnd
        case "*", "+", "?", "{":
            throw Refusal("regex-nothing-to-repeat", ["text": String(c)], at: start)
        case "\\":
            switch try parseEscape() {
            case .char(let x): return .char(x)
            case .builtin(let b, let negated):
                classes.append(CharClass(negated: false, items: [.builtin(b, negated: negated)]))
                return .set(classes.count - 1)
            case .range: return .empty  // parseEscape never gives a range
            }
        default:
            pos += 1
            return .char(c)
        }
    }

    /// `*`, `+`, `?` or `{m}`, `{m,}`, `{m,n}` after an atom; a lazy `?` after one is accepted
    /// (whether a whole text matches does not depend on it), a possessive `+` is not.
    private mutating func parseQuantifier(_ atom: RegexNode) throws(Refusal) -> RegexNode {
        let start = pos
        guard let c = current else { return atom }
        let lo: Int, hi: Int?
        switch c {
        case "*": lo = 0; hi = nil; pos += 1
        case "+": lo = 1; hi = nil; pos += 1
        case "?": lo = 0; hi = 1; pos += 1
        case "{": (lo, hi) = try parseBraces()
        default: return atom
        }
        switch atom {
        case .atStart, .atEnd:
            throw Refusal("regex-nothing-to-repeat", ["text": text(start, pos)], at: start)
        default: break
        }
        if current == "?" {
            pos += 1
        } else if current == "+" {
            throw Refusal("regex-possessive", ["text": text(start, pos + 1)], at: start)
        }
        if let next = current, "*+?{".contains(next) {
            throw Refusal("regex-nothing-to-repeat", ["text": String(next)], at: pos)
        }
        return .repeat(atom, min: lo, max: hi)
    }

    private mutating func parseBraces() throws(Refusal) -> (Int, Int?) {
        let start = pos
        pos += 1
        func number() -> Int? {
            var n = 0, digits = 0
            while let c = current, let d = c.asciiValue, d >= 0x30, d <= 0x39 {
                // More than four digits is past any allowed count; keep reading without overflow.
                if digits < 5 { n = n * 10 + Int(d - 0x30) }
                digits += 1
                pos += 1
            }
            return digits == 0 ? nil : (digits > 4 ? Int.max : n)
        }
        func bad() -> Refusal {
            var end = pos
            while end < chars.count, chars[end] != "}", end - start < 12 { end += 1 }
            return Refusal("regex-bad-repeat", ["text": text(start, end + 1)], at: start)
        }
        guard let lo = number() else { throw bad() }
        var hi: Int? = lo
        if current == "," {
            pos += 1
            hi = number()
        }
        guard current == "}" else { throw bad() }
        pos += 1
        if let hi, hi < lo { throw Refusal("regex-bad-repeat", ["text": text(start, pos)], at: start) }
        if lo > BoundedRegex.maxRepeat || (hi ?? 0) > BoundedRegex.maxRepeat {
            throw Refusal("regex-repeat-too-large", ["text": text(start, pos), "max": String(BoundedRegex.maxRepeat)], at: start)
        }
        return (lo, hi)
    }

    /// After a backslash: a class (`\d`, `\p{Han}`…), a control character, or a symbol taken as itself.
    private mutating func parseEscape() throws(Refusal) -> CharClass.Item {
        let start = pos
        pos += 1
        guard let c = current else { throw Refusal("regex-trailing-backslash", at: start) }
        pos += 1
        switch c {
        case "d", "D": return .builtin(.digit, negated: c == "D")
        case "s", "S": return .builtin(.space, negated: c == "S")
        case "w", "W": return .builtin(.word, negated: c == "W")
        case "n": return .char("\n")
        case "t": return .char("\t")
        case "r": return .char("\r")
        case "p", "P":
            guard current == "{" else { throw Refusal("regex-unknown-property", ["name": ""], at: start) }
            let nameStart = pos + 1
            var end = nameStart
            while end < chars.count, chars[end] != "}", end - nameStart < 40 { end += 1 }
            let name = text(nameStart, end)
            guard end < chars.count, chars[end] == "}", let script = Builtin.script(name) else {
                throw Refusal("regex-unknown-property", ["name": name], at: start)
            }
            pos = end + 1
            return .builtin(script, negated: c == "P")
        case "1", "2", "3", "4", "5", "6", "7", "8", "9":
            throw Refusal("regex-backreference", ["text": "\\" + String(c)], at: start)
        case "k" where current == "<" || current == "{" || current == "'":
            throw Refusal("regex-backreference", ["text": text(start, pos + 1)], at: start)
        default:
            // Any symbol stands for itself (`\.`, `\(`, `\-`); a letter or digit with no meaning is
            // refused rather than guessed at (`\b`, `\A`, `\u`).
            if c.isLetter || c.isNumber { throw Refusal("regex-unknown-escape", ["text": "\\" + String(c)], at: start) }
            return .char(c)
        }
    }

    /// `[…]` with ranges, `^` to negate, classes and escapes inside; `]` first and `-` at either
    /// end stand for themselves. Returns the class's index.
    private mutating func parseClass() throws(Refusal) -> Int {
        let start = pos
        pos += 1
        var negated = false
        if current == "^" {
            negated = true
            pos += 1
        }
        var items: [CharClass.Item] = []
        var first = true
        while true {
            guard let c = current else { throw Refusal("regex-unclosed-class", at: start) }
            if c == "]" && !first { pos += 1; break }
            first = false
            let itemStart = pos
            let item = try classAtom()
            if current == "-", let after = peek(1), after != "]" {
                pos += 1
                let hi = try classAtom()
                guard case .char(let a) = item, case .char(let b) = hi, a <= b else {
                    throw Refusal("regex-bad-range", ["text": text(itemStart, pos)], at: itemStart)
                }
                items.append(.range(a, b))
            } else {
                items.append(item)
            }
        }
        classes.append(CharClass(negated: negated, items: items))
        return classes.count - 1
    }

    private mutating func classAtom() throws(Refusal) -> CharClass.Item {
        guard let c = current else { throw Refusal("regex-unclosed-class", at: pos) }
        if c == "\\" { return try parseEscape() }
        pos += 1
        return .char(c)
    }
}
