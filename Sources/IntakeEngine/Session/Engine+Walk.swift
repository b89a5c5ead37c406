/// One pass over the dialog tree under the current answers: which questions apply, which one comes
/// next, and how far along the person is.
struct Walk {
    enum Next: Equatable {
        case ask(Path)
        case end(String)  // id of the EndItem that fires
        case review
    }

    var next: Next = .review
    /// Paths of every question and add-another prompt that currently applies (only collected when
    /// `collectRelevant`; otherwise see `allAnswersApply`).
    var relevant: Set<Path> = []
    /// How many of the answers given are at paths that currently apply.
    var applyingAnswers = 0
    var answered = 0
    var remaining = 0
    /// Context labels (section titles, instance labels as keys + instance number) of the next question.
    var nextContext: [(key: String, n: Int?)] = []

    private var found = false
    private var stopped = false
    private var evaluator: Evaluator
    private let state: SessionState
    private let dialog: Dialog
    private let collectRelevant: Bool

    /// Walks the dialog. The set of applying paths is built only when asked for: a step that adds
    /// an answer at the frontier leaves every earlier answer applying, which `allAnswersApply`
    /// tells without hashing every path twice.
    init(dialog: Dialog, state: SessionState, collectRelevant: Bool = false) {
        self.dialog = dialog
        self.state = state
        self.collectRelevant = collectRelevant
        evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        if collectRelevant { relevant.reserveCapacity(state.answers.count + 8) }
        var context: [(String, Int?)] = []
        walk(dialog.items, Scope.root, &context)
    }

    /// Every answer given is at a path that applies (so none has to be dropped).
    var allAnswersApply: Bool { applyingAnswers == state.answers.count }

    private mutating func applies(_ p: Path) {
        if collectRelevant { relevant.insert(p) }
        if state.answers[p] != nil { applyingAnswers += 1 }
    }

    private mutating func pending(_ p: Path, _ context: [(String, Int?)]) -> Bool {
        if collectRelevant { relevant.insert(p) }
        let given = state.answers[p] != nil
        if given { applyingAnswers += 1 }
        if !given || (!state.reopened.isEmpty && state.reopened.contains(p)) {
            remaining += 1
            if !found {
                found = true
                next = .ask(p)
                nextContext = context.map { (key: $0.0, n: $0.1) }
            }
            return true
        }
        answered += 1
        return false
    }

    private mutating func walk(_ items: [Item], _ scope: Scope, _ context: inout [(String, Int?)]) {
        for item in items {
            if stopped { return }
            switch item {
            case .section(let s):
                guard evaluator.holds(s.when, in: scope) else { continue }
                context.append((s.title, nil))
                walk(s.items, scope, &context)
                context.removeLast()
            case .question(let q):
                guard evaluator.holds(q.when, in: scope) else { continue }
                let p = Path(q.id, scope.indices)
                if q.audience == .counselor && state.mode == .kiosk {
                    applies(p)  // keep what a counselor entered; never ask it here
                    continue
                }
                _ = pending(p, context)
            case .group(let g):
                guard evaluator.holds(g.when, in: scope) else { continue }
                let count = evaluator.instanceCount(g, outer: scope.indices)
                for i in 0..<count {
                    if case .addAnother = g.count, i >= g.min {
                        applies(Path.morePrompt(g.id, outer: scope.indices, instance: i))
                    }
                    context.append((g.title, i + 1))
                    walk(g.items, scope.entering(g.id, i), &context)
                    context.removeLast()
                    if stopped { return }
                }
                if case .addAnother = g.count, count < g.max {
                    context.append((g.title, count + 1))
                    _ = pending(Path.morePrompt(g.id, outer: scope.indices, instance: count), context)
                    context.removeLast()
                }
            case .end(let e):
                guard evaluator.holds(e.when, in: scope) else { continue }
                if !found {
                    found = true
                    next = .end(e.id)
                }
                stopped = true
                return
            }
        }
    }
}
