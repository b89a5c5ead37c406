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
    /// How many of the answers given are at paths that currently apply (the progress shown).
    var applyingAnswers = 0
    /// Of those, how many come after the next question (none, when the person is moving forward).
    var answersAfterNext = 0
    var answered: Int { applyingAnswers }
    var remaining = 0
    /// Context labels (section titles, instance labels as keys + instance number) of the next question.
    var nextContext: [(key: String, n: Int?)] = []

    private var found = false
    private var stopped = false
    private var evaluator: Evaluator
    private let state: SessionState
    private let dialog: Dialog
    private let collectRelevant: Bool
    /// Walking on from a fresh answer: skip, without evaluating, everything before this path.
    private var resume: Path?
    private var resumeEntry: DialogIndex.Entry?

    /// Walks the dialog. The set of applying paths is built only when asked for: a step that adds
    /// an answer at the frontier leaves every earlier answer applying, which `allAnswersApply`
    /// tells without hashing every path twice.
    ///
    /// `resumingAfter`: the person just answered this question, which was the next one, and no
    /// answer lies after it. Nothing before it can change (a condition reads only earlier answers:
    /// lint enforces it), so the walk starts there and every answer counts as applying.
    init(dialog: Dialog, state: SessionState, collectRelevant: Bool = false, resumingAfter: Path? = nil) {
        self.dialog = dialog
        self.state = state
        self.collectRelevant = collectRelevant
        evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        if collectRelevant { relevant.reserveCapacity(state.answers.count + 8) }
        if let p = resumingAfter, let entry = dialog.index.entries[p.groupOfMorePrompt ?? p.id], !collectRelevant {
            resume = p
            resumeEntry = entry
        }
        var context: [(String, Int?)] = []
        walk(dialog.items, Scope.root, &context)
        if resumeEntry != nil {
            // Every answer before the resume point applies and was not visited.
            applyingAnswers = state.answers.count
        }
    }

    /// The instances of a group from `from` on, each after its "add another?" prompt, then the
    /// prompt that asks for one more.
    private mutating func walkInstances(_ g: RepeatGroup, _ scope: Scope, from: Int, count: Int, _ context: inout [(String, Int?)]) {
        for i in from..<max(from, count) {
            // The prompt before an instance being resumed into was settled before it.
            if case .addAnother = g.count, i >= g.min, resume == nil {
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
    }

    /// While resuming: whether `item` contains the resume point (or is it).
    private func leadsToResume(_ item: Item) -> Bool {
        guard let entry = resumeEntry, let p = resume else { return false }
        let id = item.id
        return id == (p.groupOfMorePrompt ?? p.id) || entry.sections.contains(id) || entry.groups.contains(id)
    }

    /// Every answer given is at a path that applies (so none has to be dropped).
    var allAnswersApply: Bool { applyingAnswers == state.answers.count }

    private mutating func applies(_ p: Path) {
        if collectRelevant { relevant.insert(p) }
        if state.answers[p] != nil {
            applyingAnswers += 1
            if found { answersAfterNext += 1 }
        }
    }

    private mutating func pending(_ p: Path, _ context: [(String, Int?)]) -> Bool {
        if collectRelevant { relevant.insert(p) }
        let given = state.answers[p] != nil
        if given {
            applyingAnswers += 1
            if found { answersAfterNext += 1 }
        }
        if !given || (!state.reopened.isEmpty && state.reopened.contains(p)) {
            remaining += 1
            if !found {
                found = true
                next = .ask(p)
                nextContext = context.map { (key: $0.0, n: $0.1) }
            }
            return true
        }
        return false
    }

    private mutating func walk(_ items: [Item], _ scope: Scope, _ context: inout [(String, Int?)]) {
        for item in items {
            if stopped { return }
            if resume != nil {
                guard leadsToResume(item) else { continue }
                resumeInto(item, scope, &context)
                continue
            }
            switch item {
            case .section(let s):
                guard evaluator.holds(s.when, in: scope) else { continue }
                context.append((s.title, nil))
                // A later visit: "is this still right?" before a module the last record holds.
                if context.count == 1, let revisit = state.revisit, revisit.sections.contains(s.id) {
                    _ = pending(.sectionCheck(s.id), context)
                }
                walk(s.items, scope, &context)
                context.removeLast()
            case .question(let q):
                guard evaluator.holds(q.when, in: scope) else { continue }
                let p = Path(q.id, scope.indices)
                if !state.mode.mayShow(q) {
                    applies(p)  // keep what a counselor entered; never ask it here
                    continue
                }
                _ = pending(p, context)
            case .group(let g):
                guard evaluator.holds(g.when, in: scope) else { continue }
                walkInstances(g, scope, from: 0, count: evaluator.instanceCount(g, outer: scope.indices), &context)
                if stopped { return }
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

    /// Goes down to the resume point through the sections and group instances that hold it,
    /// without evaluating what was settled before it, then walks on as usual.
    private mutating func resumeInto(_ item: Item, _ scope: Scope, _ context: inout [(String, Int?)]) {
        guard let p = resume else { return }
        switch item {
        case .section(let s):
            context.append((s.title, nil))
            walk(s.items, scope, &context)
            context.removeLast()
        case .question:
            // The question just answered: from here on, a normal walk.
            resume = nil
            walk([item], scope, &context)
        case .group(let g):
            let count = evaluator.instanceCount(g, outer: scope.indices)
            let depth = scope.indices.count
            // Inside instance k, or the "add another?" prompt before instance k, of this group.
            let k = min(p.indices.count > depth ? p.indices[depth] : 0, count)
            if p.groupOfMorePrompt == g.id && p.indices.count == depth + 1 { resume = nil }
            walkInstances(g, scope, from: k, count: count, &context)
        case .end:
            return
        }
    }
}
