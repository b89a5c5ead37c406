extension Evaluator {
    /// The answers that make `e` come out as `outcome` in `scope` — what a suggestion cites as its
    /// reason — rather than every answer the condition read:
    /// - `a and b` true: both sides' reasons; false: the first side that is false;
    /// - `a or b` true: the first side that is true; false: both sides;
    /// - `not a`: the reasons `a` has the opposite outcome;
    /// - `any(g, c)` / `all(g, c)`: only the instances of `g` where `c` has the outcome (the
    ///   children who made `any(children, stage in […])` true, not every child);
    /// - a computed value: the reasons of its expression;
    /// - anything else (a comparison, `'x' in q`, `answered(q)`): the answers it reads, and of a
    ///   `count(g, c)` in it only the instances where `c` holds (unless none does).
    mutating func because(_ e: Expr, in scope: Scope, is outcome: Bool) throws -> [Path] {
        budget -= 1
        guard budget > 0 else { throw Failure() }
        switch e.node {
        case .unary(.not, let inner):
            return try because(inner, in: scope, is: !outcome)
        case .binary(let op, let a, let b) where op == .and || op == .or:
            // The outcome that one side settles alone: true for `or`, false for `and`.
            if outcome == (op == .or) {
                if try quietly(a, in: scope) == .bool(outcome) { return try because(a, in: scope, is: outcome) }
                return try because(b, in: scope, is: outcome)
            }
            return try because(a, in: scope, is: outcome) + because(b, in: scope, is: outcome)
        case .name(let n):
            // A computed value: the answers behind it (a question or group is read as it is).
            guard case .computed(let box)? = index.refs[n] else { return try reading(e, in: scope) }
            return try because(box.value.expr, in: box.value.scope(within: scope), is: outcome)
        case .call(let name, let args) where (name == "any" || name == "all") && args.count == 2:
            var out: [Path] = []
            var matching: [Scope] = []
            try eachInstance(args[0], in: scope) { ev, s in
                if try ev.quietly(args[1], in: s) == .bool(outcome) { matching.append(s) }
            }
            for s in matching { out += try because(args[1], in: s, is: outcome) }
            return out
        default:
            return try reading(e, in: scope)
        }
    }

    /// Evaluates `e` without recording what it reads.
    mutating func quietly(_ e: Expr, in scope: Scope) throws -> Value? {
        let saved = reads
        reads = nil
        defer { reads = saved }
        return try eval(e, in: scope)
    }

    /// The answers `e` reads when it is evaluated, each `count(g, c)` in it citing only the
    /// instances where `c` holds.
    private mutating func reading(_ e: Expr, in scope: Scope) throws -> [Path] {
        let saved = reads, savedMode = countsMatchingOnly
        reads = []
        countsMatchingOnly = true
        defer { reads = saved; countsMatchingOnly = savedMode }
        _ = try eval(e, in: scope)
        return reads ?? []
    }

    /// Calls `body` in each instance of the group named by `group` (a fresh scope each time).
    private mutating func eachInstance(_ group: Expr, in scope: Scope, _ body: (inout Evaluator, Scope) throws -> Void) throws {
        guard case .name(let n) = group.node, case .group(let g, let depth)? = index.refs[n],
              depth <= scope.indices.count else { throw Failure() }
        let outer = depth == scope.indices.count ? scope.indices : Array(scope.indices.prefix(depth))
        let saved = reads
        reads = nil
        let count = instanceCountWithinBudget(g, outer: outer)
        reads = saved
        for i in 0..<count { try body(&self, Scope(indices: outer + [i])) }
    }
}
