extension TypeChecker {
    mutating func typeOfBinary(_ op: BinaryOp, _ a: Expr, _ b: Expr, at offset: Int) -> ValueType {
        switch op {
        case .and, .or:
            _ = check(a, expecting: .bool)
            _ = check(b, expecting: .bool)
            return .bool
        case .eq, .ne:
            let ta = check(a), tb = check(b)
            if ta.isOpen || tb.isOpen { return .bool }
            checkChoiceLiteral(a, ta, against: b)
            checkChoiceLiteral(b, tb, against: a)
            let ok = (ta.isNumeric && tb.isNumeric) || (ta.isTextLike && tb.isTextLike) || ta == tb
                || { if case .choices = ta, case .choices = tb { return true }; return false }()
            if !ok { mismatch(ta, tb, at: offset) }
            return .bool
        case .lt, .le, .gt, .ge:
            let ta = check(a), tb = check(b)
            if ta.isOpen || tb.isOpen { return .bool }
            let ok = (ta.isNumeric && tb.isNumeric) || (ta == .date && tb == .date) || (ta == .text && tb == .text)
            if !ok { mismatch(ta, tb, at: offset) }
            return .bool
        case .in:
            let ta = check(a), tb = check(b)
            if ta.isOpen || tb.isOpen { return .bool }
            switch tb {
            case .choices(let values):
                guard ta.isTextLike else { mismatch(ta, tb, at: offset); return .bool }
                if case .literal(.text(let s)) = a.node, !values.contains(s) { unknownChoice(s, of: b, values: values, at: a.offset) }
            case .list(let element):
                let ok = element == .unknown || (ta.isNumeric && element.isNumeric) || (ta.isTextLike && element.isTextLike) || ta == element
                if !ok { mismatch(ta, tb, at: offset) }
                if case .choice(let values) = ta, case .list(let items) = b.node {
                    for item in items {
                        if case .literal(.text(let s)) = item.node, !values.contains(s) { unknownChoice(s, of: a, values: values, at: item.offset) }
                    }
                }
            case .text:
                if !ta.isTextLike { mismatch(ta, tb, at: offset) }
            default:
                issues.append(ExprIssue("expr-in-needs-list", ["found": tb.description], at: b.offset))
            }
            return .bool
        case .add, .sub:
            let ta = check(a), tb = check(b)
            if ta.isOpen || tb.isOpen { return .unknown }
            if ta == .date && tb == .int { return .date }
            if op == .sub && ta == .date && tb == .date { return .int }
            if op == .add && ta == .text && tb == .text { return .text }
            guard ta.isNumeric && tb.isNumeric else { mismatch(ta, tb, at: offset); return .unknown }
            return ta == .int && tb == .int ? .int : .decimal
        case .mul, .div, .mod:
            let ta = check(a, expecting: .decimal), tb = check(b, expecting: .decimal)
            if op == .div { return .decimal }
            return ta == .int && tb == .int ? .int : .decimal
        }
    }

    private mutating func mismatch(_ a: ValueType, _ b: ValueType, at offset: Int) {
        issues.append(ExprIssue("expr-mismatch", ["left": a.description, "right": b.description], at: offset))
    }

    /// `reason == 'divorse'` → unknown choice 'divorse' for 'reason' (did you mean 'divorce'?)
    private mutating func checkChoiceLiteral(_ side: Expr, _ t: ValueType, against other: Expr) {
        guard case .choice(let values) = t, case .literal(.text(let s)) = other.node, !values.contains(s) else { return }
        unknownChoice(s, of: side, values: values, at: other.offset)
    }

    private mutating func unknownChoice(_ s: String, of side: Expr, values: Set<String>, at offset: Int) {
        var args = ["value": s, "question": "?"]
        if case .name(let n) = side.node { args["question"] = n }
        if let close = Spelling.closest(to: s, in: Array(values)) { args["suggestion"] = close }
        issues.append(ExprIssue("expr-unknown-choice", args, at: offset))
    }

    mutating func typeOfCall(_ name: String, _ args: [Expr], at offset: Int) -> ValueType {
        func arity(_ range: ClosedRange<Int>) -> Bool {
            guard range.contains(args.count) else {
                issues.append(ExprIssue("expr-arity", ["function": name, "count": String(args.count),
                                                        "expected": range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"], at: offset))
                return false
            }
            return true
        }
        switch name {
        case "count", "any", "all", "sum":
            guard arity(name == "count" ? 1...2 : 2...2) else { return name == "any" || name == "all" ? .bool : .int }
            guard let inner = groupScope(args[0]) else { return .unknown }
            if args.count == 2 {
                var sub = self
                sub.scope = inner
                let t = sub.check(args[1], expecting: name == "sum" ? .decimal : .bool)
                issues = sub.issues
                if name == "sum" { return t == .int ? .int : .decimal }
            }
            return name == "count" || name == "sum" ? .int : .bool
        case "min", "max":
            guard arity(2...2) else { return .unknown }
            if case .name(let g) = args[0].node, index.group(g) != nil {
                guard let inner = groupScope(args[0]) else { return .unknown }
                var sub = self
                sub.scope = inner
                let t = sub.check(args[1])
                issues = sub.issues
                if !(t.isNumeric || t == .date || t.isOpen) { issues.append(ExprIssue("expr-type", ["expected": "integer", "found": t.description], at: args[1].offset)) }
                return t
            }
            let ta = check(args[0]), tb = check(args[1])
            if !(ta.isNumeric || ta.isOpen) || !(tb.isNumeric || tb.isOpen) { mismatch(ta, tb, at: offset) }
            return ta == .int && tb == .int ? .int : .decimal
        case "age", "year", "month":
            guard arity(1...1) else { return .int }
            _ = check(args[0], expecting: .date)
            return .int
        case "answered", "declined":
            guard arity(1...1) else { return .bool }
            guard case .name(let q) = args[0].node, index.question(q) != nil else {
                issues.append(ExprIssue("expr-needs-question", ["function": name], at: args[0].offset))
                return .bool
            }
            _ = check(args[0])
            return .bool
        case "contains":
            guard arity(2...2) else { return .bool }
            return typeOfBinary(.in, args[1], args[0], at: offset)
        case "instance":
            _ = arity(0...0)
            return .int
        case "len":
            guard arity(1...1) else { return .int }
            let t = check(args[0])
            if !(t == .text || t.isOpen) { if case .choices = t {} else { issues.append(ExprIssue("expr-type", ["expected": "text", "found": t.description], at: args[0].offset)) } }
            return .int
        case "if":
            guard arity(3...3) else { return .unknown }
            _ = check(args[0], expecting: .bool)
            let ta = check(args[1]), tb = check(args[2])
            if !ta.isOpen && !tb.isOpen && !(ta == tb || (ta.isNumeric && tb.isNumeric) || (ta.isTextLike && tb.isTextLike)) { mismatch(ta, tb, at: offset) }
            return ta.isOpen ? tb : (ta == .int && tb == .decimal ? .decimal : ta)
        case "date":
            guard arity(1...1) else { return .date }
            guard case .literal(.text(let s)) = args[0].node, CivilDate(iso: s) != nil else {
                issues.append(ExprIssue("expr-bad-date", at: args[0].offset))
                return .date
            }
            return .date
        case "matches":
            guard arity(2...2) else { return .bool }
            let t = check(args[0])
            if !(t.isTextLike || t.isOpen) { issues.append(ExprIssue("expr-type", ["expected": "text", "found": t.description], at: args[0].offset)) }
            // The parser compiled (or refused) a literal pattern; anything else cannot be bounded at load.
            guard case .literal(.text) = args[1].node else {
                _ = check(args[1])
                issues.append(ExprIssue("expr-regex-literal", at: args[1].offset))
                return .bool
            }
            return .bool
        default:
            let known = ["count", "any", "all", "sum", "min", "max", "age", "year", "month", "answered", "declined", "contains", "len", "if", "date", "instance", "matches"]
            var a = ["function": name]
            if let s = Spelling.closest(to: name, in: known) { a["suggestion"] = s }
            issues.append(ExprIssue("expr-unknown-function", a, at: offset))
            return .unknown
        }
    }

    /// The scope inside `group` when `e` names a repeat group visible from here.
    private mutating func groupScope(_ e: Expr) -> [String]? {
        guard case .name(let g) = e.node, let entry = index.entries[g], case .group = entry.item else {
            issues.append(ExprIssue("expr-needs-group", [:], at: e.offset))
            return nil
        }
        guard entry.groups.count <= scope.count, zip(scope, entry.groups).allSatisfy({ index.sameInstances($0, $1) }) else {
            issues.append(ExprIssue("expr-out-of-scope", ["name": g, "group": entry.groups.last ?? ""], at: e.offset))
            return nil
        }
        return entry.groups + [g]
    }
}
