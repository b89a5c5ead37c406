extension Evaluator {
    mutating func binary(_ op: BinaryOp, _ a: Expr, _ b: Expr, in scope: Scope) throws -> Value? {
        switch op {
        case .and, .or:
            let left = try eval(a, in: scope)
            if left == .bool(op == .or) { return left }  // short-circuit: false and …, true or …
            let right = try eval(b, in: scope)
            if right == .bool(op == .or) { return right }
            guard let l = left, let r = right else { return nil }
            guard case .bool = l, case .bool = r else { throw Failure() }
            return .bool(op == .and)
        case .eq, .ne:
            let l = try eval(a, in: scope), r = try eval(b, in: scope)
            let nullTest = a.isNullLiteral || b.isNullLiteral
            if nullTest { return .bool((l == nil && r == nil) == (op == .eq)) }
            guard let l, let r else { return nil }
            return .bool(try equal(l, r) == (op == .eq))
        case .lt, .le, .gt, .ge:
            guard let l = try eval(a, in: scope), let r = try eval(b, in: scope) else { return nil }
            let c = try order(l, r)
            switch op {
            case .lt: return .bool(c < 0)
            case .le: return .bool(c <= 0)
            case .gt: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case .in:
            guard let l = try eval(a, in: scope) else { return nil }
            if case .list(let items) = b.node {
                for item in items {
                    if let v = try eval(item, in: scope), try equal(l, v) { return .bool(true) }
                }
                return .bool(false)
            }
            switch try eval(b, in: scope) {
            case nil: return nil
            case .choices(let picked)?:
                guard let s = l.string else { throw Failure() }
                return .bool(picked.contains(s))
            case .text(let t)?:
                guard let s = l.string else { throw Failure() }
                return .bool(t.contains(s))
            default: throw Failure()
            }
        case .add, .sub, .mul, .div, .mod:
            guard let l = try eval(a, in: scope), let r = try eval(b, in: scope) else { return nil }
            return try arithmetic(op, l, r)
        }
    }

    /// `matches(text, 'PATTERN')`: whether the whole text matches, with the program compiled when
    /// the expression was parsed (never here); null when the text is.
    mutating func matches(_ args: [Expr], _ regex: BoundedRegex?, in scope: Scope) throws -> Value? {
        guard args.count == 2, let regex else { throw Failure() }
        switch try eval(args[0], in: scope) {
        case nil: return nil
        case .text(let s)?, .choice(let s)?: return .bool(regex.matches(s))
        default: throw Failure()
        }
    }

    func equal(_ l: Value, _ r: Value) throws -> Bool {
        if let x = l.number, let y = r.number { return x == y }
        if let x = l.string, let y = r.string { return x == y }
        switch (l, r) {
        case let (.bool(x), .bool(y)): return x == y
        case let (.date(x), .date(y)): return x == y
        case let (.choices(x), .choices(y)): return Set(x) == Set(y)
        default: throw Failure()
        }
    }

    /// -1, 0 or 1.
    func order(_ l: Value, _ r: Value) throws -> Int {
        if let x = l.number, let y = r.number { return x < y ? -1 : x > y ? 1 : 0 }
        switch (l, r) {
        case let (.date(x), .date(y)): return x < y ? -1 : x > y ? 1 : 0
        case let (.text(x), .text(y)): return x < y ? -1 : x > y ? 1 : 0
        default: throw Failure()
        }
    }

    func arithmetic(_ op: BinaryOp, _ l: Value, _ r: Value) throws -> Value? {
        switch (op, l, r) {
        case let (.add, .date(d), .int(n)): return .date(d.adding(days: n))
        case let (.sub, .date(d), .int(n)): return .date(d.adding(days: -n))
        case let (.sub, .date(x), .date(y)): return .int(x.daysSinceEpoch - y.daysSinceEpoch)
        case let (.add, .text(x), .text(y)): return .text(x + y)
        case let (_, .int(x), .int(y)):
            switch op {
            case .add: let (v, o) = x.addingReportingOverflow(y); return o ? nil : .int(v)
            case .sub: let (v, o) = x.subtractingReportingOverflow(y); return o ? nil : .int(v)
            case .mul: let (v, o) = x.multipliedReportingOverflow(by: y); return o ? nil : .int(v)
            case .mod: return y == 0 || (x == Int.min && y == -1) ? nil : .int(x % y)
            default: return y == 0 ? nil : .decimal(Double(x) / Double(y))
            }
        default:
            guard let x = l.number, let y = r.number else { throw Failure() }
            switch op {
            case .add: return .decimal(x + y)
            case .sub: return .decimal(x - y)
            case .mul: return .decimal(x * y)
            case .div: return y == 0 ? nil : .decimal(x / y)
            default: return y == 0 ? nil : .decimal(x.truncatingRemainder(dividingBy: y))
            }
        }
    }
}

extension Expr {
    var isNullLiteral: Bool {
        if case .null = node { return true }
        return false
    }
}
