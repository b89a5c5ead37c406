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
    /// Of those and the held ones, how many come after the next question (none, when the person
    /// is moving forward).
    var answersAfterNext = 0
    /// Answers given at questions after the next one whose condition is not decided yet: it reads
    /// an answer still to come (after a correction, "has worked before" asked again above the
    /// jobs she listed). They are kept, neither counted as answered nor asked again, until that
    /// answer decides them: kept if they apply, dropped if not. Not when `holding` is off.
    var heldAnswers = 0
    var answered: Int { applyingAnswers }
    /// An estimate of the questions still to come that does not grow when an answer opens a
    /// branch: after the next question, an item whose condition cannot be decided yet (it reads
    /// an answer still to come) counts as asked, and a group whose count is not known yet counts
    /// its least number of instances. It grows only when an answer adds instances (a number of
    /// children above one, "add another? — yes").
    var remaining = 0
    /// Context labels (section titles, instance labels as keys + instance number) of the next question.
    var nextContext: [(key: String, n: Int?)] = []

    private var found = false
    /// Where the next question stands in the dialog (its item's order), once found.
    private var nextOrder = Int.max
    private var nextIndices: [Int] = []
    private var nextGroups: [String] = []
    /// Inside an item that may apply (its condition not decided yet): only counted, never asked.
    private var speculative = 0
    private var stopped = false
    private var evaluator: Evaluator
    /// What the walk reads of the state and the dialog (not their copies: a walk is made at every
    /// step, and each field copied is a reference retained and released).
    private let answers: [Path: AnswerEntry]
    private let reopened: Set<Path>
    private let revisit: Revisit?
    private let mode: SessionState.Mode
    private let index: DialogIndex
    private let collectRelevant: Bool
    private let holding: Bool
    /// Walking on from a fresh answer: skip, without evaluating, everything before this path.
    private var resume: Path?
    /// The resume point's item id, then the sections and groups that hold it (set with `resume`).
    private var resumeChain: [String] = []
    /// The last walk's sums of the sections after its next question, when they can be used here
    /// (same mode).
    private let memo: WalkMemo?
    private let summing: Bool
    /// The sums of this walk's sections after the next question, for the walk after it.
    private(set) var sums: [Path: WalkMemo.Sum] = [:]
    /// Sections being summed (nested), each with the walk's counts when it began.
    private var frames: [(key: Path, consulted: Int, relations: Int, remaining: Int, applying: Int, afterNext: Int, held: Int)] = []
    /// Where the answers read by `mayApply` lie relative to the next question, while summing.
    private var relations: [WalkMemo.Relation] = []

    /// Walks the dialog. The set of applying paths is built only when asked for: a step that adds
    /// an answer at the frontier leaves every earlier answer applying, which `allAnswersApply`
    /// tells without hashing every path twice.
    ///
    /// `resumingAfter`: the person just answered this question, which was the next one, and no
    /// answer lies after it. Nothing before it can change (a condition reads only earlier answers:
    /// lint enforces it), so the walk starts there and every answer counts as applying.
    /// `summing`: take the sums of the sections after the next question, for the state this walk
    /// leaves (`leftMemo`); the memo already on the state is used either way.
    /// `holding`: keep answers whose condition is not decided yet (`heldAnswers`); off, they do not
    /// apply (a later visit's carried answers are kept only where they apply).
    init(dialog: Dialog, state: SessionState, collectRelevant: Bool = false, resumingAfter: Path? = nil, summing: Bool = false,
         holding: Bool = true) {
        index = dialog.index
        self.holding = holding
        answers = state.answers
        reopened = state.reopened
        revisit = state.revisit
        mode = state.mode
        self.collectRelevant = collectRelevant
        evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        memo = !collectRelevant && state.memo.mode == state.mode ? state.memo : nil
        self.summing = summing && !collectRelevant
        if collectRelevant { relevant.reserveCapacity(state.answers.count + 8) }
        if let p = resumingAfter, let entry = index.entries[p.groupOfMorePrompt ?? p.id], !collectRelevant {
            resume = p
            resumeChain = [p.groupOfMorePrompt ?? p.id] + entry.sections + entry.groups
        }
        var context: [(String, Int?)] = []
        walk(dialog.items, Scope.root, &context)
        if !resumeChain.isEmpty {
            // Every answer before the resume point applies and was not visited.
            applyingAnswers = answers.count
        }
    }

    /// The instances of a group from `from` on, each after its "add another?" prompt, then the
    /// prompt that asks for one more.
    private mutating func walkInstances(_ g: RepeatGroup, _ scope: Scope, from: Int, count: Int, _ context: inout [(String, Int?)]) {
        for i in from..<max(from, count) {
            if stopped { return }
            // The prompt before an instance being resumed into was settled before it.
            if case .addAnother = g.count, i >= g.min, resume == nil {
                applies(Path.morePrompt(g.id, outer: scope.indices, instance: i))
            }
            // The only instance of a counted group ("お子さん", not "1人目のお子さん") where the locale says it.
            let only = count == 1 && { if case .addAnother = g.count { return false } else { return true } }()
            context.append((only ? g.title + ".one" : g.title, i + 1))
            walk(g.items, scope.entering(g.id, i), &context)
            context.removeLast()
            if stopped { return }
        }
        if case .addAnother = g.count, count < g.max {
            context.append((g.title, count + 1))
            _ = pending(Path.morePrompt(g.id, outer: scope.indices, instance: count), context)
            context.removeLast()
        }
        // The count is not known yet (the number of children still to come): its least instances.
        let least = leastInstances(g)
        if found, !stopped, count < least {
            speculative += 1
            for i in max(from, count)..<least { walk(g.items, scope.entering(g.id, i), &context) }
            speculative -= 1
        }
    }

    /// The fewest instances a group has once its count is known (at least one for a count).
    private func leastInstances(_ g: RepeatGroup) -> Int {
        switch g.count {
        case .from: return max(g.min, 1)
        case .addAnother: return g.min
        case .each(let source):
            guard let other = index.group(source), other.id != g.id else { return g.min }
            if case .each = other.count { return g.min }
            return min(leastInstances(other), g.max)
        }
    }

    /// Whether an item's condition holds; after the next question, when it does not, also whether
    /// the item may still apply, because the condition reads an answer still to come. One
    /// evaluation tells both (the condition was evaluated a second time to collect what it reads).
    private mutating func decide(_ e: Expr?, _ scope: Scope) -> (holds: Bool, mayApply: Bool) {
        guard let e else { return (true, false) }
        guard found else { return (evaluator.holds(e, in: scope), false) }
        evaluator.reads = []
        evaluator.unsizedGroup = false
        let v = try? evaluator.evaluate(e, in: scope)
        let reads = evaluator.reads ?? []
        evaluator.reads = nil
        if v == .bool(true) { return (true, false) }
        // A group whose number of instances is still to come (`any(children, …)` before the count).
        if evaluator.unsizedGroup { return (false, true) }
        return (false, reads.contains { r in
            evaluator.consulted?.append(r.id)
            guard answers[r] == nil, let entry = index.entries[r.id] else { return false }
            // Not asked, but it follows from earlier answers (a child's stage from her age): known.
            if let q = index.question(r.id), let d = q.derive,
               ((try? evaluator.evaluate(d, in: Scope(indices: r.indices))) ?? nil) != nil { return false }
            let after = comesAfterNext(r.indices, entry.groups, entry.order)
            if !frames.isEmpty { relations.append(WalkMemo.Relation(indices: r.indices, groups: entry.groups, order: entry.order, after: after)) }
            return after
        })
    }

    /// Whether an answer's place is at or after the next question in walk order: instances of the
    /// groups they share first, then the dialog order of their items.
    private func comesAfterNext(_ indices: [Int], _ groups: [String], _ order: Int) -> Bool {
        var k = 0
        while k < groups.count, k < nextGroups.count, groups[k] == nextGroups[k],
              k < indices.count, k < nextIndices.count {
            if indices[k] != nextIndices[k] { return indices[k] > nextIndices[k] }
            k += 1
        }
        return order >= nextOrder
    }

    /// While resuming: whether `item` contains the resume point (or is it).
    private func leadsToResume(_ item: Item) -> Bool {
        resume != nil && resumeChain.contains(item.id)
    }

    /// Every answer given is at a path that applies or is held (so none has to be dropped).
    var allAnswersApply: Bool { applyingAnswers + heldAnswers == answers.count }

    private mutating func applies(_ p: Path) {
        if speculative > 0 { return hold(p) }
        if collectRelevant { relevant.insert(p) }
        evaluator.consulted?.append(p.id)
        if answers[p] != nil {
            applyingAnswers += 1
            if found { answersAfterNext += 1 }
        }
    }

    /// An answer at `p`, inside an item that may still apply, is kept (`heldAnswers`).
    private mutating func hold(_ p: Path) {
        evaluator.consulted?.append(p.id)
        guard holding, answers[p] != nil else { return }
        heldAnswers += 1
        answersAfterNext += 1
        if collectRelevant { relevant.insert(p) }
    }

    private mutating func pending(_ p: Path, _ context: [(String, Int?)]) -> Bool {
        evaluator.consulted?.append(p.id)
        if speculative > 0 {
            if answers[p] == nil { remaining += 1 } else { hold(p) }
            return false
        }
        if collectRelevant { relevant.insert(p) }
        let given = answers[p] != nil
        if given {
            applyingAnswers += 1
            if found { answersAfterNext += 1 }
        }
        if !given || (!reopened.isEmpty && reopened.contains(p)) {
            remaining += 1
            if !found {
                found = true
                next = .ask(p)
                nextOrder = index.entries[p.groupOfMorePrompt ?? p.id]?.order ?? Int.max
                nextIndices = p.indices
                nextGroups = index.entries[p.groupOfMorePrompt ?? p.id]?.groups ?? []
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
            // A section or repeat group wholly after the next question: what it adds up to follows from the
            // answers it looks at, so the last walk's sum serves while none of them changed.
            if found, speculative == 0, !collectRelevant, let id = Self.summable(item) {
                let key = Path(id, scope.indices)
                if let sum = memo?.sums[key], reusable(sum) {
                    remaining += sum.remaining
                    applyingAnswers += sum.applying
                    answersAfterNext += sum.afterNext
                    heldAnswers += sum.held
                    if sum.stops { stopped = true }
                    if !frames.isEmpty {
                        evaluator.consulted?.append(contentsOf: sum.consulted)
                        relations.append(contentsOf: sum.relations)
                    }
                    if summing { sums[key] = sum }
                    continue
                }
                guard summing else {
                    walkItem(item, scope, &context)
                    continue
                }
                if evaluator.consulted == nil { evaluator.consulted = [] }
                frames.append((key, evaluator.consulted?.count ?? 0, relations.count, remaining, applyingAnswers, answersAfterNext, heldAnswers))
                walkItem(item, scope, &context)
                let f = frames.removeLast()
                let consulted = Set(evaluator.consulted?[f.consulted...] ?? [])
                sums[key] = WalkMemo.Sum(remaining: remaining - f.remaining, applying: applyingAnswers - f.applying,
                                         afterNext: answersAfterNext - f.afterNext, held: heldAnswers - f.held, stops: stopped,
                                         consulted: consulted, relations: Array(relations[f.relations...]))
                if frames.isEmpty {
                    evaluator.consulted = nil
                    relations.removeAll(keepingCapacity: true)
                }
                continue
            }
            walkItem(item, scope, &context)
        }
    }

    /// A section or a repeat group (all its instances) is summed; a question is cheaper to walk.
    private static func summable(_ item: Item) -> String? {
        switch item {
        case .section(let s): return s.id
        case .group(let g): return g.id
        case .question, .end: return nil
        }
    }

    /// Whether the last walk's sum of a section holds now: none of the answers it looked at
    /// changed since, and the answers it counted as still to come are still after the next question.
    private func reusable(_ sum: WalkMemo.Sum) -> Bool {
        guard let memo else { return false }
        if memo.dirty.count <= sum.consulted.count {
            for id in memo.dirty where sum.consulted.contains(id) { return false }
        } else {
            for id in sum.consulted where memo.dirty.contains(id) { return false }
        }
        return sum.relations.allSatisfy { comesAfterNext($0.indices, $0.groups, $0.order) == $0.after }
    }

    /// The memo this walk leaves for the next one (for a state in `mode`).
    func leftMemo(mode: SessionState.Mode) -> WalkMemo {
        // A reopened answer counts as still to come wherever it lies: a sum that looked at it holds
        // while it stays reopened, and reopening or settling it marks it changed (`reopened`).
        WalkMemo(mode: mode, sums: sums)
    }

    private mutating func walkItem(_ item: Item, _ scope: Scope, _ context: inout [(String, Int?)]) {
        switch item {
        case .section(let s):
            let condition = decide(s.when, scope)
            guard condition.holds else {
                if condition.mayApply {
                    speculative += 1
                    walk(s.items, scope, &context)
                    speculative -= 1
                }
                return
            }
            context.append((s.title, nil))
            // A later visit: "is this still right?" before a module the last record holds.
            if context.count == 1, let revisit = revisit, revisit.sections.contains(s.id) {
                _ = pending(.sectionCheck(s.id), context)
            }
            walk(s.items, scope, &context)
            context.removeLast()
        case .question(let q):
            let p = Path(q.id, scope.indices)
            evaluator.consulted?.append(p.id)
            let condition = decide(q.when, scope)
            guard condition.holds else {
                if condition.mayApply {
                    if answers[p] == nil { remaining += 1 } else { hold(p) }
                }
                return
            }
            // Earlier answers decide it (a child's stage from her age): not asked.
            if let d = q.derive, ((try? evaluator.evaluate(d, in: scope)) ?? nil) != nil { return }
            if !mode.mayShow(q) {
                applies(p)  // keep what a counselor entered; never ask it here
                return
            }
            _ = pending(p, context)
        case .group(let g):
            let condition = decide(g.when, scope)
            guard condition.holds else {
                if condition.mayApply {
                    speculative += 1
                    walkInstances(g, scope, from: 0, count: evaluator.instanceCount(g, outer: scope.indices), &context)
                    speculative -= 1
                }
                return
            }
            walkInstances(g, scope, from: 0, count: evaluator.instanceCount(g, outer: scope.indices), &context)
            if stopped { return }
        case .end(let e):
            if speculative > 0 { return }
            guard evaluator.holds(e.when, in: scope) else { return }
            if !found {
                found = true
                next = .end(e.id)
            }
            stopped = true
            return
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

/// What the last walk found each section after its next question to add up to (questions still
/// to come, answers that apply), with the answers each sum depends on. The engine notes every
/// answer it changes (`dirty`); the next walk reuses a sum none of whose answers changed, and
/// walks the others. Derived from the state, kept beside it but never encoded or compared: a
/// restored session starts with none, and its first walk builds it again.
struct WalkMemo: Equatable, Sendable {
    struct Relation: Sendable {
        var indices: [Int]
        var groups: [String]
        var order: Int
        var after: Bool
    }

    struct Sum: Sendable {
        var remaining: Int
        var applying: Int
        var afterNext: Int
        var held: Int
        /// An end item in it stops the walk.
        var stops: Bool
        /// The ids of every answer looked at while walking it (given or not).
        var consulted: Set<String>
        /// Answers not given yet that counted as still to come (after the next question) or not.
        var relations: [Relation]
    }

    /// The mode the sums were taken in (what a kiosk may be asked differs); nil: no sums.
    var mode: SessionState.Mode?
    var sums: [Path: Sum] = [:]
    /// Ids of the answers changed, reopened or settled since the sums were taken.
    var dirty: Set<String> = []

    mutating func changed(_ path: Path) {
        if !sums.isEmpty { dirty.insert(path.id) }
    }

    static func == (_: WalkMemo, _: WalkMemo) -> Bool { true }
}
