extension Engine {
    /// Goes back to the last answer given before the current question; its answer is kept until replaced.
    func back(_ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        state.pending = nil
        guard let last = state.trail.last(where: {
            $0 != state.current && !state.reopened.contains($0) && state.answers[$0] != nil && shows($0, in: state)
        }) else {
            effects.append(.invalid(message("engine.back.none", state)))
            return showCurrent(state, into: &effects)
        }
        state.reopened.insert(last)
        advance(&state, at: now, into: &effects)
    }

    /// Reopens an earlier answer (by review number or path) or every answer of a repeat instance.
    func edit(_ target: String, _ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        let targetText = TextFolding.fold(target)
        var paths: [Path] = []
        if let n = Int(targetText) {
            let lines = answeredPaths(state)
            if n >= 1 && n <= lines.count { paths = [lines[n - 1]] }
        } else if let p = dialog.parsePath(targetText) {
            if dialog.index.group(p.id) != nil {
                paths = answeredPaths(state).filter { isInside($0, group: p.id, outer: Array(p.indices.dropLast()), instance: p.indices.last) }
            } else if state.answers[p] != nil && shows(p, in: state) {
                paths = [p]
            }
        }
        guard !paths.isEmpty else {
            effects.append(.invalid(message("engine.edit.unknown", state, ["target": target])))
            return showCurrent(state, into: &effects)
        }
        state.pending = nil
        state.reopened.formUnion(paths)
        advance(&state, at: now, into: &effects)
    }

    func addInstance(_ target: String, _ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard let (g, outer) = groupTarget(target, state) else {
            effects.append(.invalid(message("engine.add.unknown", state, ["target": target])))
            return showCurrent(state, into: &effects)
        }
        var evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        let count = evaluator.instanceCount(g, outer: outer)
        guard count < g.max else {
            effects.append(.invalid(message("engine.add.max", state, ["max": String(g.max)])))
            return showCurrent(state, into: &effects)
        }
        switch g.count {
        case .each:
            // Its instances follow another group's: add there.
            effects.append(.invalid(message("engine.add.not_possible", state)))
            return showCurrent(state, into: &effects)
        case .addAnother:
            commit(.value(.bool(true)), at: .morePrompt(g.id, outer: outer, instance: count), &state, now: now, into: &effects)
        case .from(let e):
            guard let source = countSource(e, outer: outer) else {
                effects.append(.invalid(message("engine.add.not_possible", state)))
                return showCurrent(state, into: &effects)
            }
            // The count question's own limit holds too.
            if case .integer(_, let hi?)? = dialog.index.question(source.id)?.kind, count + 1 > hi {
                effects.append(.invalid(message("engine.add.max", state, ["max": String(hi)])))
                return showCurrent(state, into: &effects)
            }
            commit(.value(.int(count + 1)), at: source, &state, now: now, into: &effects)
        }
    }

    func removeInstance(_ target: String, _ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard let p = dialog.parsePath(TextFolding.fold(target)), let g = dialog.index.group(p.id), let k = p.indices.last else {
            effects.append(.invalid(message("engine.remove.unknown", state, ["target": target])))
            return showCurrent(state, into: &effects)
        }
        let outer = Array(p.indices.dropLast())
        var evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        let count = evaluator.instanceCount(g, outer: outer)
        guard k < count else {
            effects.append(.invalid(message("engine.remove.unknown", state, ["target": target])))
            return showCurrent(state, into: &effects)
        }
        guard count > g.min else {
            effects.append(.invalid(message("engine.remove.min", state, ["min": String(g.min)])))
            return showCurrent(state, into: &effects)
        }
        if case .each = g.count {
            effects.append(.invalid(message("engine.remove.not_possible", state)))
            return showCurrent(state, into: &effects)
        }
        var newCount: (Path, Int)?
        if case .from(let e) = g.count {
            guard let source = countSource(e, outer: outer) else {
                effects.append(.invalid(message("engine.remove.not_possible", state)))
                return showCurrent(state, into: &effects)
            }
            newCount = (source, count - 1)
        }
        let depth = outer.count
        // Where each path goes: the removed instance's answers go away, later instances move up one.
        func remap(_ path: Path) -> Path? {
            if path.isMorePrompt, path.groupOfMorePrompt == g.id, Array(path.indices.prefix(depth)) == outer {
                return path  // the group's own prompts are handled below
            }
            // The groups that follow this one (`each:`) lose and shift the same instance.
            let moving = ([g.id] + (dialog.index.followers[g.id] ?? [])).contains { isInside(path, group: $0, outer: outer, instance: nil) }
            guard moving else { return path }
            let i = path.indices[depth]
            if i == k { return nil }
            var moved = path
            if i > k { moved.indices[depth] = i - 1 }
            return moved
        }
        var dropped: [AnswerLine] = []
        var answers: [Path: AnswerEntry] = [:]
        for p in sortedByOrder(state.answers.keys) {
            guard let entry = state.answers[p] else { continue }
            if let to = remap(p) {
                answers[to] = entry
            } else {
                if renders, !p.isPrompt, shows(p, in: state) { dropped.append(line(p, entry.answer, state, number: dropped.count + 1)) }
            }
        }
        if case .addAnother = g.count {
            let last = Path.morePrompt(g.id, outer: outer, instance: count - 1)
            let after = Path.morePrompt(g.id, outer: outer, instance: count)
            let closing = answers.removeValue(forKey: after)
            answers.removeValue(forKey: last)
            if let closing { answers[last] = closing }
        }
        if let (source, n) = newCount, answers[source] != nil {
            answers[source] = AnswerEntry(.value(.int(n)), at: now.epochMillis)
        }
        state.replaceAnswers(with: answers)
        state.trail = state.trail.compactMap(remap)
        state.reopened = Set(state.reopened.compactMap(remap))
        state.warnings = state.warnings.compactMap { w in remap(w.path).map { var w = w; w.path = $0; return w } }
        state.notes = state.notes.map { n in var n = n; n.path = n.path.flatMap(remap); return n }
        state.pending = nil
        if !dropped.isEmpty { effects.append(.dropped(dropped)) }
        advance(&state, at: now, into: &effects)
    }

    func finish(_ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard state.phase == .reviewing else {
            effects.append(.invalid(message("engine.finish.not_yet", state)))
            return showCurrent(state, into: &effects)
        }
        state.phase = .done(status: "complete")
        state.finished = now
        if renders { effects.append(.done(record(state))) }
    }

    /// Answered questions in dialog order (the numbering of the review), those the session's mode shows.
    func answeredPaths(_ state: SessionState) -> [Path] {
        sortedByOrder(state.answers.keys.filter { !$0.isPrompt && shows($0, in: state) })
    }

    /// Whether `path` lies within `group`'s instances inside `outer` (and within `instance`, if given).
    func isInside(_ path: Path, group: String, outer: [Int], instance: Int?) -> Bool {
        let base = path.groupOfMorePrompt ?? path.id
        guard let chain = dialog.index.entries[base]?.groups else { return false }
        let depth = outer.count
        guard depth < chain.count, chain[depth] == group, path.indices.count > depth,
              Array(path.indices.prefix(depth)) == outer else { return false }
        if let instance { return path.indices[depth] == instance }
        return true
    }

    /// `children`, `jobs[1].tasks`: a repeat group and the instances enclosing it.
    private func groupTarget(_ text: String, _ state: SessionState) -> (RepeatGroup, [Int])? {
        let folded = TextFolding.fold(text)
        guard let p = dialog.parsePath(folded + "[1]"), let g = dialog.index.group(p.id) else { return nil }
        return (g, Array(p.indices.dropLast()))
    }

    /// The integer question a repeat count is read from, when the count is just that question.
    private func countSource(_ e: Expr, outer: [Int]) -> Path? {
        guard case .name(let q) = e.node, let entry = dialog.index.entries[q], case .question(let question) = entry.item,
              case .integer = question.kind, entry.groups.count <= outer.count else { return nil }
        return Path(q, Array(outer.prefix(entry.groups.count)))
    }
}
