/// Parses the expression language (precedence from loose to tight):
/// `or` < `and` < `not` < comparisons and `in` < `+ -` < `* / %` < unary `-` < calls, names, literals.
/// Strings take single or double quotes; `yes`/`true` and `no`/`false` are booleans.
public struct ExprParser {
    private enum Token: Equatable {
        case number(String), string(String), ident(String), op(String), lparen, rparen, lbracket, rbracket, comma, dot, end
    }

    private var tokens: [(Token, Int)] = []
    private var pos = 0
    /// Nesting limit: expressions are written by people, and a deep one is a mistake (or an attack).
    private static let maxDepth = 64
    /// Operator limit: a chain like `a and a and …` nests as deep as it is long, and checking,
    /// evaluating or freeing such a tree recurses once per operator.
    public static let maxOperators = 100
    private var depth = 0

    public static func parse(_ text: String) -> Result<Expr, ExprIssue> {
        var p = ExprParser()
        do {
            p.tokens = try tokenize(text)
            var operators = 0
            for (token, offset) in p.tokens {
                switch token {
                case .op: operators += 1
                case .ident(let w) where w == "and" || w == "or" || w == "not" || w == "in": operators += 1
                default: continue
                }
                if operators > maxOperators { throw ExprIssue("expr-too-long", ["max": String(maxOperators)], at: offset) }
            }
            let e = try p.parseOr()
            guard case .end = p.tokens[p.pos].0 else {
                throw ExprIssue("expr-unexpected", ["token": p.describe(p.tokens[p.pos].0)], at: p.tokens[p.pos].1)
            }
            return .success(e)
        } catch let issue as ExprIssue {
            return .failure(issue)
        } catch {
            return .failure(ExprIssue("expr-unexpected", ["token": "?"], at: 0))
        }
    }

    private static func tokenize(_ text: String) throws -> [(Token, Int)] {
        let chars = Array(text)
        var out: [(Token, Int)] = []
        var i = 0
        func isIdentStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
        func isIdent(_ c: Character) -> Bool { isIdentStart(c) || (c.isASCII && c.isNumber) }
        while i < chars.count {
            let c = chars[i]
            let start = i
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            if c.isASCII && c.isNumber {
                while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." { i += 1 }
                out.append((.number(String(chars[start..<i])), start))
                continue
            }
            if isIdentStart(c) {
                while i < chars.count, isIdent(chars[i]) { i += 1 }
                out.append((.ident(String(chars[start..<i])), start))
                continue
            }
            if c == "'" || c == "\"" {
                i += 1
                var s = ""
                while i < chars.count, chars[i] != c { s.append(chars[i]); i += 1 }
                guard i < chars.count else { throw ExprIssue("expr-unterminated-string", at: start) }
                i += 1
                out.append((.string(s), start))
                continue
            }
            let two = i + 1 < chars.count ? String([c, chars[i + 1]]) : ""
            if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
                out.append((.op(two == "&&" ? "and" : two == "||" ? "or" : two), start))
                i += 2
                continue
            }
            switch c {
            case "(": out.append((.lparen, start))
            case ")": out.append((.rparen, start))
            case "[": out.append((.lbracket, start))
            case "]": out.append((.rbracket, start))
            case ",": out.append((.comma, start))
            case ".": out.append((.dot, start))
            case "<", ">", "+", "-", "*", "/", "%": out.append((.op(String(c)), start))
            case "!": out.append((.op("not"), start))
            case "=": throw ExprIssue("expr-single-equals", at: start)
            default: throw ExprIssue("expr-bad-character", ["character": String(c)], at: start)
            }
            i += 1
        }
        out.append((.end, chars.count))
        return out
    }

    private func describe(_ t: Token) -> String {
        switch t {
        case .number(let s), .ident(let s), .op(let s): return s
        case .string(let s): return "'\(s)'"
        case .lparen: return "("
        case .rparen: return ")"
        case .lbracket: return "["
        case .rbracket: return "]"
        case .comma: return ","
        case .dot: return "."
        case .end: return "end of expression"
        }
    }

    private var current: Token { tokens[pos].0 }
    private var offset: Int { tokens[pos].1 }

    private func isWord(_ w: String) -> Bool {
        if case .ident(let s) = current, s == w { return true }
        if case .op(let s) = current, s == w { return true }
        return false
    }

    private mutating func expect(_ t: Token) throws {
        guard current == t else {
            throw ExprIssue("expr-expected", ["expected": describe(t), "token": describe(current)], at: offset)
        }
        pos += 1
    }

    private mutating func nested<T>(_ body: (inout ExprParser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw ExprIssue("expr-too-deep", at: offset) }
        return try body(&self)
    }

    private mutating func parseOr() throws -> Expr {
        var lhs = try parseAnd()
        while isWord("or") {
            let at = offset
            pos += 1
            let rhs = try parseAnd()
            lhs = Expr(.binary(.or, lhs, rhs), at: at)
        }
        return lhs
    }

    private mutating func parseAnd() throws -> Expr {
        var lhs = try parseNot()
        while isWord("and") {
            let at = offset
            pos += 1
            let rhs = try parseNot()
            lhs = Expr(.binary(.and, lhs, rhs), at: at)
        }
        return lhs
    }

    private mutating func parseNot() throws -> Expr {
        if isWord("not") {
            let at = offset
            pos += 1
            let inner = try nested { try $0.parseNot() }
            return Expr(.unary(.not, inner), at: at)
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws -> Expr {
        let lhs = try parseAdditive()
        let at = offset
        var op: BinaryOp?
        if case .op(let s) = current, let o = BinaryOp(rawValue: s), [.eq, .ne, .lt, .le, .gt, .ge].contains(o) { op = o }
        if isWord("in") { op = .in }
        guard let o = op else { return lhs }
        pos += 1
        let rhs = try parseAdditive()
        if case .op(let s) = current, let o2 = BinaryOp(rawValue: s), [.eq, .ne, .lt, .le, .gt, .ge].contains(o2) {
            throw ExprIssue("expr-chained-comparison", at: offset)
        }
        return Expr(.binary(o, lhs, rhs), at: at)
    }

    private mutating func parseAdditive() throws -> Expr {
        var lhs = try parseMultiplicative()
        while case .op(let s) = current, s == "+" || s == "-" {
            let at = offset
            pos += 1
            let rhs = try parseMultiplicative()
            lhs = Expr(.binary(s == "+" ? .add : .sub, lhs, rhs), at: at)
        }
        return lhs
    }

    private mutating func parseMultiplicative() throws -> Expr {
        var lhs = try parseUnary()
        while case .op(let s) = current, s == "*" || s == "/" || s == "%" {
            let at = offset
            pos += 1
            let rhs = try parseUnary()
            lhs = Expr(.binary(s == "*" ? .mul : s == "/" ? .div : .mod, lhs, rhs), at: at)
        }
        return lhs
    }

    private mutating func parseUnary() throws -> Expr {
        if case .op("-") = current {
            let at = offset
            pos += 1
            let inner = try nested { try $0.parseUnary() }
            return Expr(.unary(.negate, inner), at: at)
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws -> Expr {
        let at = offset
        switch current {
        case .number(let s):
            pos += 1
            if let i = Int(s) { return Expr(.literal(.int(i)), at: at) }
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, let d = Double(s) { return Expr(.literal(.decimal(d)), at: at) }
            throw ExprIssue("expr-bad-number", ["token": s], at: at)
        case .string(let s):
            pos += 1
            return Expr(.literal(.text(s)), at: at)
        case .lparen:
            pos += 1
            let e = try nested { try $0.parseOr() }
            try expect(.rparen)
            return e
        case .lbracket:
            pos += 1
            var items: [Expr] = []
            if current != .rbracket {
                items.append(try nested { try $0.parseOr() })
                while current == .comma {
                    pos += 1
                    items.append(try nested { try $0.parseOr() })
                }
            }
            try expect(.rbracket)
            return Expr(.list(items), at: at)
        case .ident(let name):
            pos += 1
            switch name {
            case "true", "yes": return Expr(.literal(.bool(true)), at: at)
            case "false", "no": return Expr(.literal(.bool(false)), at: at)
            case "null": return Expr(.null, at: at)
            default: break
            }
            if name == "settings", current == .dot {
                pos += 1
                guard case .ident(let key) = current else {
                    throw ExprIssue("expr-expected", ["expected": "setting name", "token": describe(current)], at: offset)
                }
                pos += 1
                return Expr(.setting(key), at: at)
            }
            if current == .lparen {
                pos += 1
                var args: [Expr] = []
                if current != .rparen {
                    args.append(try nested { try $0.parseOr() })
                    while current == .comma {
                        pos += 1
                        args.append(try nested { try $0.parseOr() })
                    }
                }
                try expect(.rparen)
                var call = Expr(.call(name, args), at: at)
                if name == "matches" { call.regex = try Self.compilePattern(args) }
                return call
            }
            return Expr(.name(name), at: at)
        default:
            throw ExprIssue("expr-unexpected", ["token": describe(current)], at: at)
        }
    }

    /// The pattern of `matches(text, 'PATTERN')`, compiled; a pattern that cannot be is refused
    /// here, at the character where it goes wrong. A pattern that is not a literal (or a call
    /// with the wrong number of arguments) is left to the type checker to report.
    private static func compilePattern(_ args: [Expr]) throws -> BoundedRegex? {
        guard args.count == 2, case .literal(.text(let pattern)) = args[1].node else { return nil }
        switch BoundedRegex.compile(pattern) {
        case .success(let regex): return regex
        case .failure(let refusal):
            // +1: the opening quote.
            throw ExprIssue(refusal.code, refusal.args, at: args[1].offset + 1 + refusal.position)
        }
    }
}
