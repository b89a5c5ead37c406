import IntakeEngine

/// A dialog's `when:` as FHIR R4 `Questionnaire.item.enableWhen`, where FHIR can say it: a
/// comparison of one question's answer with a constant (a literal, or one of the dialog's
/// settings), `'x' in a_multi_choice`, `a_choice in ['x', 'y']`, a yes/no question alone or
/// with `not`, `q != null` or `answered(q)` (exists) — or several of them joined all by `and` (enableBehavior
/// `all`) or all by `or` (`any`). Anything else (computed values, functions such as `count` or
/// `age`, arithmetic, `and` and `or` mixed) is left out: the item then carries no enableWhen,
/// and the responses still hold only what was asked.
extension FHIRExport {
    /// The enableWhen entries of a condition and the enableBehavior they need (nil with one
    /// entry); nil when FHIR cannot say it.
    /// `groups`: the repeat groups the item sits in; a question it reads must sit in no group, or
    /// in those same ones (FHIR reads it in the item's own instance; another group's instance — a
    /// child's age from the childcare group — it cannot name).
    static func enableWhen(_ when: Expr, dialog: Dialog, groups: [String]) -> (conditions: [JSON], behavior: String?)? {
        func flatten(_ e: Expr, _ op: BinaryOp) -> [Expr] {
            if case .binary(let o, let a, let b) = e.node, o == op { return flatten(a, op) + flatten(b, op) }
            return [e]
        }
        let all = flatten(when, .and), any = flatten(when, .or)
        if all.count > 1 {
            // Each part one comparison: `a in [x, y]` inside an `and` would need an `or` within.
            var out: [JSON] = []
            for part in all {
                guard let c = simple(part, dialog, groups), c.count == 1 else { return nil }
                out += c
            }
            return (out, "all")
        }
        var out: [JSON] = []
        for part in any {
            guard let c = simple(part, dialog, groups) else { return nil }
            out += c
        }
        return out.isEmpty ? nil : (out, out.count > 1 ? "any" : nil)
    }

    /// One comparison as enableWhen entries (several: `choice in [x, y]`, any of them); nil when
    /// it is not a simple one.
    private static func simple(_ e: Expr, _ dialog: Dialog, _ groups: [String]) -> [JSON]? {
        func question(_ e: Expr) -> Question? {
            guard case .name(let n) = e.node, let q = dialog.index.question(n), let its = dialog.index.entries[n]?.groups,
                  its.count <= groups.count, Array(groups.prefix(its.count)) == its else { return nil }
            return q
        }
        enum Constant { case value(Value), null }
        func constant(_ e: Expr) -> Constant? {
            switch e.node {
            case .literal(let v): return .value(v)
            case .null: return .null
            case .setting(let name): return dialog.settings[name].map(Constant.value)
            case .unary(.negate, let inner):
                if case .literal(.int(let i)) = inner.node { return .value(.int(-i)) }
                if case .literal(.decimal(let d)) = inner.node { return .value(.decimal(-d)) }
                return nil
            default: return nil
            }
        }
        func entry(_ q: Question, _ op: String, _ answer: (String, JSON)) -> JSON {
            .object([("question", .string(q.id)), ("operator", .string(op)), answer])
        }
        switch e.node {
        case .name:
            // A yes/no question alone: answered yes.
            guard let q = question(e), case .yesNo = q.kind else { return nil }
            return [entry(q, "=", ("answerBoolean", .bool(true)))]
        case .call("answered", let args) where args.count == 1:
            // Answered at all (not declined, not left empty): FHIR's exists.
            guard let q = question(args[0]) else { return nil }
            return [entry(q, "exists", ("answerBoolean", .bool(true)))]
        case .unary(.not, let inner):
            guard let q = question(inner), case .yesNo = q.kind else { return nil }
            return [entry(q, "=", ("answerBoolean", .bool(false)))]
        case .binary(.in, let left, let right):
            // 'x' in a multi choice: one of its answers is x.
            if let q = question(right), case .multi = q.kind, case .value(let v)? = constant(left),
               let answer = answerValue(v, q, dialog) {
                return [entry(q, "=", answer)]
            }
            // A single choice in a list of constants: any of them.
            guard let q = question(left), case .list(let items) = right.node, !items.isEmpty else { return nil }
            var out: [JSON] = []
            for item in items {
                guard case .value(let v)? = constant(item), let answer = answerValue(v, q, dialog) else { return nil }
                out.append(entry(q, "=", answer))
            }
            return out
        case .binary(let op, let left, let right):
            // The operator as seen from the question (`5 < x` is `x > 5`).
            let flipped: [BinaryOp: BinaryOp] = [.eq: .eq, .ne: .ne, .lt: .gt, .le: .ge, .gt: .lt, .ge: .le]
            guard let reversed = flipped[op] else { return nil }
            let side: (q: Question, c: Constant, o: BinaryOp)
            if let found = question(left), let value = constant(right) {
                side = (found, value, op)
            } else if let found = question(right), let value = constant(left) {
                side = (found, value, reversed)
            } else {
                return nil
            }
            let (q, c, o) = side
            guard case .value(let value) = c else {
                // Compared with null: answered (or not).
                guard o == .eq || o == .ne else { return nil }
                return [entry(q, "exists", ("answerBoolean", .bool(o == .ne)))]
            }
            // Codings, booleans and texts are equal or not, never ordered here.
            switch q.kind {
            case .multi, .month, .time: return nil
            case .yesNo, .single, .text: if o != .eq && o != .ne { return nil }
            case .integer, .decimal, .date: break
            }
            guard let answer = answerValue(value, q, dialog) else { return nil }
            return [entry(q, o == .eq ? "=" : o.rawValue, answer)]
        default:
            return nil
        }
    }

    /// A constant as the answer[x] of an enableWhen on question `q`; nil when its type does not fit.
    private static func answerValue(_ v: Value, _ q: Question, _ dialog: Dialog) -> (String, JSON)? {
        switch (q.kind, v) {
        case (.yesNo, .bool(let b)): return ("answerBoolean", .bool(b))
        case (.integer, .int(let i)): return ("answerInteger", .int(i))
        case (.decimal, .int(let i)): return ("answerDecimal", .number(Double(i)))
        case (.decimal, .decimal(let d)): return ("answerDecimal", .number(d))
        case (.date, .date(let d)): return ("answerDate", .string(d.iso))
        case (.single, .text(let s)), (.single, .choice(let s)), (.multi, .text(let s)), (.multi, .choice(let s)):
            guard q.kind.choices.contains(where: { $0.value == s }) else { return nil }
            return ("answerCoding", .object([("system", .string(system(dialog, q.id))), ("code", .string(s))]))
        case (.text, .text(let s)): return ("answerString", .string(s))
        default: return nil
        }
    }
}
