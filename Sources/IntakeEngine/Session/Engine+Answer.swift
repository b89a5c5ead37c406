extension Engine {
    func answer(_ raw: String, _ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard state.phase == .asking, let path = state.current else {
            effects.append(.invalid(message("engine.review.finish_or_edit", state)))
            showCurrent(state, into: &effects)
            return
        }
        let text = raw.trimmingWhitespace
        if text.isEmpty {
            if state.reopened.contains(path) {
                // Enter on a question the person went back to keeps the answer given before.
                state.reopened.remove(path)
                state.pending = nil
                advance(&state, at: now, into: &effects)
            } else if path.isMorePrompt || dialog.index.question(path.id)?.required == false {
                skip(&state, at: now, into: &effects)
            } else {
                reject("engine.invalid.required", [:], &state, into: &effects)
            }
            return
        }
        if path.isSectionCheck {
            guard let yes = parseCheck(text, state) else {
                reject("engine.invalid.yesno", [:], &state, into: &effects)
                return
            }
            commit(.value(.bool(yes)), at: path, &state, now: now, into: &effects)
            return
        }
        if path.isMorePrompt {
            guard let yes = parseYesNo(text, state) else {
                reject("engine.invalid.yesno", [:], &state, into: &effects)
                return
            }
            commit(.value(.bool(yes)), at: path, &state, now: now, into: &effects)
            return
        }
        guard let q = dialog.index.question(path.id) else { return }
        if q.openEnded, !q.required, isOngoingWord(text, state) {
            // "現在": an end still running is no date: left open, as Enter leaves it.
            skip(&state, at: now, into: &effects)
            return
        }
        let folded = TextFolding.fold(text)
        if isDeclineWord(folded: folded, state) {
            // Also on a question that cannot be declined: say so, rather than store 答えない as the answer.
            decline(&state, at: now, into: &effects)
            return
        }
        switch parse(text, folded: folded, as: q.kind, state, question: q.id) {
        case .success(let v): accept(v, for: q, at: path, &state, now: now, into: &effects)
        case .failure(let problem): reject(problem.key, problem.args, &state, into: &effects)
        }
    }

    func answerValue(_ v: Value, _ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard state.phase == .asking, let path = state.current else {
            effects.append(.invalid(message("engine.review.finish_or_edit", state)))
            showCurrent(state, into: &effects)
            return
        }
        if path.isPrompt {
            // "Add another?" advertises the choices `yes` and `no` as well as taking true/false.
            let answer: Bool?
            switch v {
            case .bool(let b): answer = b
            case .text(let c), .choice(let c): answer = Self.yesNoChoice(c)
            default: answer = nil
            }
            guard let answer else { return reject("engine.invalid.yesno", [:], &state, into: &effects) }
            return commit(.value(.bool(answer)), at: path, &state, now: now, into: &effects)
        }
        guard let q = dialog.index.question(path.id) else { return }
        switch coerce(v, to: q.kind) {
        case .success(.text(let s)) where q.format != nil:
            // A phone number or an e-mail address sent as a value is read as if typed.
            guard let format = q.format, let normalized = format.normalize(s) else {
                return reject("engine.invalid." + (q.format?.rawValue ?? "type"), [:], &state, into: &effects)
            }
            accept(.text(normalized), for: q, at: path, &state, now: now, into: &effects)
        case .success(let typed): accept(typed, for: q, at: path, &state, now: now, into: &effects)
        case .failure(let problem): reject(problem.key, problem.args, &state, into: &effects)
        }
    }

    func decline(_ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard state.phase == .asking, let path = state.current else {
            effects.append(.invalid(message("engine.review.finish_or_edit", state)))
            return showCurrent(state, into: &effects)
        }
        guard !path.isMorePrompt, let q = dialog.index.question(path.id), q.declinable else {
            return reject("engine.decline.not_allowed", [:], &state, into: &effects)
        }
        commit(.declined, at: path, &state, now: now, into: &effects)
    }

    func skip(_ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard state.phase == .asking, let path = state.current else {
            effects.append(.invalid(message("engine.review.finish_or_edit", state)))
            return showCurrent(state, into: &effects)
        }
        if path.isMorePrompt {
            // Skipping "add another?" means no.
            return commit(.value(.bool(false)), at: path, &state, now: now, into: &effects)
        }
        guard let q = dialog.index.question(path.id), !q.required else {
            return reject("engine.invalid.required", [:], &state, into: &effects)
        }
        commit(.skipped, at: path, &state, now: now, into: &effects)
    }

    func confirm(_ reason: String?, _ state: inout SessionState, at now: Moment, into effects: inout [Effect]) {
        guard let pending = state.pending, pending.path == state.current else {
            effects.append(.invalid(message("engine.confirm.nothing", state)))
            return showCurrent(state, into: &effects)
        }
        let why = reason?.trimmingWhitespace
        for m in pending.messages {
            state.warnings.removeAll { $0.path == pending.path && $0.message == m }
            state.warnings.append(ConfirmedWarning(path: pending.path, message: m, value: pending.value,
                                                   at: now.epochMillis, reason: why?.isEmpty == false ? why : nil))
        }
        commit(.value(pending.value), at: pending.path, &state, now: now, into: &effects)
    }

    /// Checks a typed value against the question's limits and checks, then commits it or warns.
    private func accept(_ v: Value, for q: Question, at path: Path, _ state: inout SessionState, now: Moment,
                        into effects: inout [Effect]) {
        if let problem = limitProblem(v, q.kind, state) {
            return reject(problem.key, problem.args, &state, into: &effects)
        }
        // Checks see the answers as they would be with this one given: `count(group, pick) <= 3`
        // counts the instance being answered once, whether it is answered for the first time or again.
        var trial = state.answers
        if !q.checks.isEmpty { trial[path] = AnswerEntry(.value(v), at: now.epochMillis) }
        var evaluator = Evaluator(dialog: dialog, answers: trial, today: state.today, value: v)
        let scope = Scope(groups: dialog.index.entries[q.id]?.groups ?? [], indices: path.indices)
        var soft: [String] = []
        for check in q.checks {
            // A check that cannot be decided (an answer it needs is missing) does not block.
            guard (try? evaluator.evaluate(check.expect, in: scope)) == .bool(false) else { continue }
            if check.soft {
                soft.append(check.message)
            } else {
                return reject(check.message, [:], &state, into: &effects)
            }
        }
        if !soft.isEmpty {
            state.pending = PendingAnswer(path: path, value: v, messages: soft)
            effects.append(.warn(soft.map { message($0, state) }))
            return showCurrent(state, into: &effects)
        }
        // A new answer replaces any warning confirmed for the old one.
        state.warnings.removeAll { $0.path == path }
        commit(.value(v), at: path, &state, now: now, into: &effects)
    }

    func reject(_ key: String, _ args: [String: String], _ state: inout SessionState, into effects: inout [Effect]) {
        effects.append(.invalid(message(key, state, args)))
        showCurrent(state, into: &effects)
    }

    /// Stores an answer (the step's changes carry it; what it replaced is in the session's log) and moves on.
    func commit(_ answer: Answer, at path: Path, _ state: inout SessionState, now: Moment, into effects: inout [Effect]) {
        // Moving forward: a first answer to the question shown, nothing reopened, nothing answered after it.
        let forward = resumesWalks && state.current == path && state.answers[path] == nil && state.reopened.isEmpty && state.answersAfterCurrent == 0
        if answer.value == nil { state.warnings.removeAll { $0.path == path } }
        state.setAnswer(AnswerEntry(answer, at: now.epochMillis), at: path)
        state.reopened.remove(path)
        state.pending = nil
        state.trail.removeAll { $0 == path }
        state.trail.append(path)
        if path.isSectionCheck { settleCheck(path, &state) }
        advance(&state, at: now, into: &effects, resumingAfter: forward ? path : nil)
    }
}
