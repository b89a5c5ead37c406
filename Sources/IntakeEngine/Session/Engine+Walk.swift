/// One pass over the dialog tree under the current answers: which questions apply, which one comes
/// next, and how far along the person is.
struct Walk {
    enum Next: Equatable {
        case ask(Path)
        case end(String)  // id of the EndItem that fires
        case review
    }

    var next: Next = .review
    /// Paths of every question and add-another prompt that currently applies.
    var relevant: Set<Path> = []
    var answered = 0
    var remaining = 0
    /// Context labels (section titles, instance labels as keys + instance number) of the next question.
    var nextContext: [(key: String, n: Int?)] = []

    private var found = false
    private var stopped = false
    private var evaluator: Evaluator
    private let state: SessionState
    private let dialog: Dialog

    init(dialog: Dialog, state: SessionState) {
        self.dialog = dialog
        self.state = state
        evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        var context: [(String, Int?)] = []
        walk(dialog.items, Scope.root, &context)
    }

    private mutating func pending(_ p: Path, _ context: [(String, Int?)]) -> Bool {
        relevant.insert(p)
        if state.answers[p] == nil || state.reopened.contains(p) {
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
                    relevant.insert(p)  // keep what a counselor entered; never ask it here
                    continue
                }
                _ = pending(p, context)
            case .group(let g):
                guard evaluator.holds(g.when, in: scope) else { continue }
                let count = evaluator.instanceCount(g, outer: scope.indices)
                for i in 0..<count {
                    if case .addAnother = g.count, i >= g.min {
                        relevant.insert(Path.morePrompt(g.id, outer: scope.indices, instance: i))
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
