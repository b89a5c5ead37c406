/// What a session's mode may see and touch. The mode belongs to the channel the session runs over
/// (a kiosk, a counselor's terminal), not to the session: a session a counselor started and a
/// client resumed at a kiosk runs in kiosk mode from then on (`continuing(in:)`).
///
/// At a kiosk nothing of a counselor-only question shows: it is never asked, and its answer is in
/// no review, no "answer given before", no "what the last record says", no list of dropped
/// answers; a kiosk cannot go back or edit to it (so it cannot answer, change or decline it).
/// Everything that presents answers goes through `shows` (one policy, not checks per renderer).
extension SessionState.Mode {
    /// Whether a question may be asked, and its answer shown, in this mode.
    public func mayShow(_ q: Question) -> Bool {
        self == .counselor || q.audience != .counselor
    }
}

extension Engine {
    /// Whether the answer at `p` (a question or a prompt) may be shown or reached in the session's mode.
    public func shows(_ p: Path, in state: SessionState) -> Bool {
        guard state.mode == .kiosk, let q = dialog.index.question(p.id) else { return true }
        return state.mode.mayShow(q)
    }

    /// How many answers the person is told she has given (`Prompt.answered`). At a kiosk the
    /// counselor's answers are left out: their number would tell that they exist. After a step
    /// every answer applies (`advance` drops the others), so the walk's count less the hidden
    /// answers is exact.
    func answeredShown(_ walk: Walk, _ state: SessionState) -> Int {
        guard state.mode == .kiosk else { return walk.answered }
        var hidden = 0
        for p in counselorOnly.root where state.answers[p] != nil { hidden += 1 }
        if !counselorOnly.inGroups.isEmpty {
            for p in state.answers.keys where counselorOnly.inGroups.contains(p.id) { hidden += 1 }
        }
        return max(0, walk.answered - hidden)
    }

    /// The session goes on over a channel of `mode` (it was resumed at a kiosk, or at a counselor's
    /// terminal). When the mode changes, the dialog is walked again under it: at a kiosk, a
    /// counselor-only question that was showing gives way to the next question the kiosk may ask.
    /// The same step at the same moment on replay gives the same state.
    public func continuing(in mode: SessionState.Mode, _ state: SessionState, at now: Moment) -> Step {
        var state = state
        state.ledger = AnswerLedger()
        var effects: [Effect] = []
        guard mode != state.mode else {
            showCurrent(state, into: &effects)
            return Step(state: state, effects: effects)
        }
        state.mode = mode
        state.updated = now
        if let pending = state.pending, !shows(pending.path, in: state) { state.pending = nil }
        switch state.phase {
        case .asking, .reviewing: advance(&state, at: now, into: &effects)
        case .done: showCurrent(state, into: &effects)
        }
        return Step(state: state, effects: effects)
    }
}
