/// Evaluates expressions against a session's answers.
///
/// Missing, declined and skipped answers are `null`, and logic is three-valued as in SQL:
/// a comparison with `null` is `null`, `null and false` is `false`, `null or true` is `true`, and a
/// condition that ends `null` does not hold. So when a person declines a question, follow-ups
/// conditioned on its value are not asked, whichever way the condition is written.
/// `x == null` and `x != null` test for a missing answer. Over repeat groups, `any`, `all` and
/// `count` look only at instances where the condition can be decided: they are never null.
///
/// Evaluation is bounded: there are no loops, and each evaluation has a cost budget.
struct Evaluator {
    struct Failure: Error {}

    /// The dialog's index and settings, not the whole dialog: an evaluator is made at every
    /// step, and copying these retains two references.
    let index: DialogIndex
    let settings: [String: Value]
    let answers: [Path: AnswerEntry]
    let today: CivilDate
    var value: Value?
    /// Steps one top-level evaluation may take.
    static let maxCost = 200_000
    var budget = Evaluator.maxCost
    /// How deep evaluation is nested. A parsed expression is at most 64 deep, but a computed value
    /// or a group's count can lead back to itself (`count: any(children, …)` inside `children`,
    /// computed values naming each other): such a cycle fails here, long before the stack does.
    private var depth = 0
    static let maxDepth = 256
    /// When non-nil, every answer read is appended (the answers behind a suggestion).
    var reads: [Path]?
    /// While finding a suggestion's reasons (`because`): `count(g, c)` records the answers of only
    /// the instances where `c` holds (all of them when it holds in none).
    var countsMatchingOnly = false
    /// Set when a group's count was read while the answer giving it is still to come (the
    /// remaining-questions estimate counts what depends on it as possibly asked).
    var unsizedGroup = false

    /// When non-nil, the id of every answer looked at (given or not) is appended: what a walk's
    /// memo of a section depends on.
    var consulted: [String]?

    init(dialog: Dialog, answers: [Path: AnswerEntry], today: CivilDate, value: Value? = nil) {
        index = dialog.index
        settings = dialog.settings
        self.answers = answers
        self.today = today
        self.value = value
    }

    /// Evaluates one top-level expression (a condition, check or computed value) with a fresh budget,
    /// so that a runaway expression fails alone instead of starving the others this evaluator runs.
    mutating func evaluate(_ e: Expr, in scope: Scope) throws -> Value? {
        budget = Evaluator.maxCost
        return try eval(e, in: scope)
    }

    /// Whether a condition holds; an absent condition holds, an error or null does not.
    mutating func holds(_ e: Expr?, in scope: Scope) -> Bool {
        guard let e else { return true }
        return (try? evaluate(e, in: scope)) == .bool(true)
    }

    /// How many instances `group` has inside the `outer` instances of its enclosing groups.
    mutating func instanceCount(_ g: RepeatGroup, outer: [Int]) -> Int {
        budget = Evaluator.maxCost
        return countInstances(g, outer: outer)
    }

    /// `instanceCount` within an evaluation already under way (its budget goes on).
    mutating func instanceCountWithinBudget(_ g: RepeatGroup, outer: [Int]) -> Int {
        countInstances(g, outer: outer)
    }

    /// `instanceCount` within an evaluation already under way (its budget goes on). What the count
    /// reads is not among the answers behind a suggestion: the instances themselves are.
    private mutating func countInstances(_ g: RepeatGroup, outer: [Int]) -> Int {
        let saved = reads
        reads = nil
        defer { reads = saved }
        switch g.count {
        case .from(let e):
            let scope = Scope(indices: outer)
            let n: Int
            switch try? eval(e, in: scope) {
            case .int(let i)?: n = i
            case .decimal(let d)?: n = d.isFinite ? Int(d.rounded(.down)) : 0
            case nil: n = 0; unsizedGroup = true
            default: n = 0
            }
            return Swift.min(Swift.max(n, 0), g.max)
        case .each(let source):
            // Groups following each other in a circle have no instances (lint refuses them).
            guard let other = index.group(source), depth < Evaluator.maxDepth else { return 0 }
            depth += 1
            defer { depth -= 1 }
            return Swift.min(countInstances(other, outer: outer), g.max)
        case .addAnother:
            var n = g.min
            while n < g.max {
                let prompt = Path.morePrompt(g.id, outer: outer, instance: n)
                consulted?.append(prompt.id)
                guard answers[prompt]?.answer == .value(.bool(true)) else { break }
                n += 1
            }
            return n
        }
    }

    mutating func eval(_ e: Expr, in scope: Scope) throws -> Value? {
        budget -= 1
        guard budget > 0, depth < Evaluator.maxDepth else { throw Failure() }
        depth += 1
        defer { depth -= 1 }
        switch e.node {
        case .literal(let v): return v
        case .null: return nil
        case .list: throw Failure()  // only meaningful on the right of `in`
        case .setting(let key): return settings[key]
        case .name(let n):
            if e.builtin == .value { return value }
            if e.builtin == .today { return .date(today) }
            return try lookup(n, in: scope)
        case .unary(.not, let inner):
            guard let v = try eval(inner, in: scope) else { return nil }
            guard case .bool(let b) = v else { throw Failure() }
            return .bool(!b)
        case .unary(.negate, let inner):
            switch try eval(inner, in: scope) {
            case nil: return nil
            case .int(let i)?: return i == Int.min ? nil : .int(-i)
            case .decimal(let d)?: return .decimal(-d)
            default: throw Failure()
            }
        case .binary(let op, let a, let b): return try binary(op, a, b, in: scope)
        case .call(_, let args):
            guard let function = e.builtin else { throw Failure() }
            if function == .matches { return try matches(args, e.regex, in: scope) }
            return try call(function, args, in: scope)
        }
    }

    /// A question's answer or a computed value (`value` and `today` are read by `eval`).
    private mutating func lookup(_ n: String, in scope: Scope) throws -> Value? {
        switch index.refs[n] {
        case .question(let q, let depth)?:
            guard depth <= scope.indices.count else { throw Failure() }
            let path = Path(n, depth == scope.indices.count ? scope.indices : Array(scope.indices.prefix(depth)))
            reads?.append(path)
            consulted?.append(n)
            if let a = answers[path] { return a.answer.value }
            // Not answered: what follows from earlier answers, when the question says how.
            if let d = q.derive {
                return try eval(d, in: Scope(indices: path.indices)).map(q.coerceDerived)
            }
            return nil
        case .computed(let box)?:
            return try eval(box.value.expr, in: box.value.scope(within: scope))
        case .group?, .other?, nil:
            throw Failure()
        }
    }

    private func answerPath(_ e: Expr, in scope: Scope) throws -> Path {
        guard case .name(let n) = e.node, let entry = index.entries[n], entry.groups.count <= scope.indices.count else { throw Failure() }
        return Path(n, Array(scope.indices.prefix(entry.groups.count)))
    }

    /// The group named by `e`: the instances enclosing it and how many instances it has there.
    private mutating func instances(_ e: Expr, in scope: Scope) throws -> (outer: [Int], count: Int) {
        guard case .name(let n) = e.node, case .group(let g, let depth)? = index.refs[n],
              depth <= scope.indices.count else { throw Failure() }
        let outer = depth == scope.indices.count ? scope.indices : Array(scope.indices.prefix(depth))
        return (outer, countInstances(g, outer: outer))
    }

    /// Evaluates `body` once in each instance of the group named by `group` (one scope, reused).
    private mutating func forEachInstance(_ group: Expr, in scope: Scope, _ body: (inout Evaluator, Scope) throws -> Bool) throws {
        let (outer, count) = try instances(group, in: scope)
        guard count > 0 else { return }
        var inner = Scope(indices: outer + [0])
        for i in 0..<count {
            inner.indices[outer.count] = i
            guard try body(&self, inner) else { return }
        }
    }

    /// How many arguments each function takes (the type checker says so to the author; this keeps
    /// an expression that was never checked from reading past its arguments). A switch, not a
    /// dictionary: it is asked at every call evaluated, and hashing the name cost more than the call.
    static func arity(_ function: Expr.Builtin) -> ClosedRange<Int>? {
        switch function {
        case .count: return 1...2
        case .any, .all, .sum, .min, .max, .contains, .matches: return 2...2
        case .age, .year, .month, .answered, .declined, .len, .date: return 1...1
        case .if: return 3...3
        case .instance: return 0...0
        case .value, .today: return nil
        }
    }

    private mutating func call(_ function: Expr.Builtin, _ args: [Expr], in scope: Scope) throws -> Value? {
        guard let allowed = Self.arity(function), allowed.contains(args.count) else { throw Failure() }
        switch function {
        case .count:
            guard args.count == 2 else { return .int(try instances(args[0], in: scope).count) }
            var n = 0
            let matchingOnly = countsMatchingOnly && reads != nil
            var all: [Path] = [], held: [Path] = []
            try forEachInstance(args[0], in: scope) { ev, s in
                let before = ev.reads?.count ?? 0
                let holds = try ev.eval(args[1], in: s) == .bool(true)
                if holds { n += 1 }
                if matchingOnly, let r = ev.reads {
                    all += r[before...]
                    if holds { held += r[before...] }
                    ev.reads = Array(r[..<before])
                }
                return true
            }
            if matchingOnly { reads?.append(contentsOf: held.isEmpty ? all : held) }
            return .int(n)
        case .any, .all:
            // any: some instance where the condition holds; all: no instance where it fails.
            // An instance where it cannot be decided (a question not asked for that child) counts
            // for neither, so `not any(care, evening_care == 'none')` holds for older children.
            var decided: Bool?
            try forEachInstance(args[0], in: scope) { ev, s in
                switch try ev.eval(args[1], in: s) {
                case .bool(true)?: if function == .any { decided = true; return false }
                case .bool(false)?: if function == .all { decided = false; return false }
                case nil: break
                default: throw Failure()
                }
                return true
            }
            return .bool(decided ?? (function == .all))
        case .sum:
            var total: Value? = .int(0)
            try forEachInstance(args[0], in: scope) { ev, s in
                guard let v = try ev.eval(args[1], in: s), let t = total else { return true }
                // An Int overflow makes the sum null, as it does for `+`.
                total = try ev.arithmetic(.add, t, v)
                return total != nil
            }
            return total
        case .min, .max:
            if case .name(let n) = args[0].node, case .group? = index.refs[n] {
                var best: Value?
                try forEachInstance(args[0], in: scope) { ev, s in
                    guard let v = try ev.eval(args[1], in: s) else { return true }
                    if let b = best { best = (try ev.order(v, b) < 0) == (function == .min) ? v : b } else { best = v }
                    return true
                }
                return best
            }
            guard let a = try eval(args[0], in: scope), let b = try eval(args[1], in: scope) else { return nil }
            return (try order(a, b) < 0) == (function == .min) ? a : b
        case .age, .year, .month:
            guard let v = try eval(args[0], in: scope) else { return nil }
            guard case .date(let d) = v else { throw Failure() }
            switch function {
            case .age: return .int(d.years(until: today))
            case .year: return .int(d.year)
            default: return .int(d.month)
            }
        case .answered, .declined:
            let path = try answerPath(args[0], in: scope)
            reads?.append(path)
            consulted?.append(path.id)
            let a = answers[path]?.answer
            return .bool(function == .answered ? a?.value != nil : a == .declined)
        case .contains:
            return try binary(.in, args[1], args[0], in: scope)
        case .len:
            switch try eval(args[0], in: scope) {
            case nil: return nil
            case .text(let s)?: return .int(s.count)
            case .choices(let c)?: return .int(c.count)
            default: throw Failure()
            }
        case .if:
            return try eval(args[0], in: scope) == .bool(true) ? eval(args[1], in: scope) : eval(args[2], in: scope)
        case .instance:
            // The number (1-based) of the group instance being evaluated in; null outside any.
            return scope.indices.last.map { .int($0 + 1) }
        case .date:
            guard case .literal(.text(let s)) = args[0].node, let d = CivilDate(iso: s) else { throw Failure() }
            return .date(d)
        default:
            throw Failure()
        }
    }
}

extension ComputedValue {
    /// Where it is evaluated when read in `scope`: the root for a dialog-wide value; for a value
    /// computed per instance, the instance of its group that `scope` is in (a failure outside it).
    func scope(within scope: Scope) throws -> Scope {
        let depth = groups.count
        if depth == 0 { return .root }
        guard depth <= scope.indices.count else { throw Evaluator.Failure() }
        return depth == scope.indices.count ? scope : Scope(indices: Array(scope.indices.prefix(depth)))
    }
}

/// The repeat-group instances an expression is evaluated in: the instance index of each enclosing
/// group, outermost first (which groups they are follows from the names the expression uses).
struct Scope: Hashable {
    var indices: [Int]

    init(groups: [String] = [], indices: [Int]) {
        self.indices = indices
    }

    static let root = Scope(indices: [])

    func entering(_ group: String, _ index: Int) -> Scope {
        Scope(indices: indices + [index])
    }
}
