extension Engine {
    /// How a record writes the readings of the texts it keeps (warnings, suggestions): kanji with
    /// the reading in brackets, whatever style the screen uses, so that the same answers give the
    /// same record at a terminal and on the kiosk page, and exports and sheets hold plain text.
    static let recordFurigana = FuriganaStyle.brackets

    static func recordCatalog(_ catalog: Catalog) -> Catalog {
        guard catalog.furigana != recordFurigana else { return catalog }
        var c = catalog
        c.furigana = recordFurigana
        return c
    }

    /// The record of a session: answers nested by section (repeat groups as arrays), computed
    /// values, what was declined or skipped, confirmed warnings, notes, and the suggestions that
    /// fired with the answers that triggered each. Its `json` is the typed record's rendering
    /// (`intakeRecord`).
    public func record(_ state: SessionState) -> Record {
        let (typed, fired) = intakeRecordAndSuggestions(state)
        return Record(typed, shown: fired.map(\.shown))
    }

    /// The record of a session as a typed value (what `record(_:)` stores as JSON).
    public func intakeRecord(_ state: SessionState) -> IntakeRecord {
        intakeRecordAndSuggestions(state).0
    }

    private func intakeRecordAndSuggestions(_ state: SessionState) -> (IntakeRecord, [Fired]) {
        // Mid-session (a sheet printed during an interview), answers kept while a question still
        // to come decides whether they apply (`Walk.heldAnswers`) are not in the record yet.
        var state = state
        if case .done = state.phase {} else {
            let held = Walk(dialog: dialog, state: state)
            if held.heldAnswers > 0 {
                let walk = Walk(dialog: dialog, state: state, collectRelevant: true, holding: false)
                state.replaceAnswers(with: state.answers.filter { walk.relevant.contains($0.key) })
            }
        }
        var evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        let status: String
        switch state.phase {
        case .done(let s): status = s
        case .asking, .reviewing: status = "in_progress"
        }
        let answers = members(dialog.items, .root, state, &evaluator)
        var computed: [RecordField] = []
        for c in dialog.computed {
            computed.append(RecordField(c.id, RecordValue((try? evaluator.evaluate(c.expr, in: .root)) ?? nil)))
        }
        let paths = sortedByOrder(state.answers.keys)
        let declined = paths.filter { state.answers[$0]?.answer == .declined }.map { dialog.display($0) }
        let skipped = paths.filter { state.answers[$0]?.answer == .skipped }.map { dialog.display($0) }
        let warnings = state.warnings.map { w in
            IntakeRecord.Warning(question: dialog.display(w.path), message: w.message,
                                 text: Engine.recordCatalog(catalog).text(w.message, state.locale), value: RecordValue(w.value), reason: w.reason)
        }
        let fired = suggestions(state)
        let notes = state.notes.map { n in
            IntakeRecord.Note(question: n.path.map { dialog.display($0) }, text: n.text,
                              at: Moment(epochMillis: n.at, utcOffsetMinutes: state.started.utcOffsetMinutes).iso)
        }
        let record = IntakeRecord(
            dialog: IntakeRecord.DialogRef(id: dialog.id, version: state.dialogVersion, earlierVersions: state.earlierVersions),
            status: status, locale: state.locale, mode: state.mode.rawValue, started: state.started.iso, finished: state.finished?.iso,
            answers: answers, computed: computed, declined: declined, skipped: skipped, warnings: warnings,
            suggestions: fired.map(\.suggestion), notes: notes, visit: state.revisit.map { visit($0, state) })
        return (record, fired)
    }

    private func members(_ items: [Item], _ scope: Scope, _ state: SessionState, _ ev: inout Evaluator) -> RecordAnswers {
        var out: [RecordMember] = []
        for item in items {
            switch item {
            case .section(let s):
                guard ev.holds(s.when, in: scope) else { continue }
                let inner = members(s.items, scope, state, &ev)
                if !inner.isEmpty { out.append(RecordMember(s.id, .section(inner))) }
            case .question(let q):
                if let a = state.answers[Path(q.id, scope.indices)] {
                    if let v = a.answer.value { out.append(RecordMember(q.id, .value(RecordValue(v)))) }
                } else if let d = q.derive, ev.holds(q.when, in: scope), let v = (try? ev.evaluate(d, in: scope)) ?? nil {
                    // Not asked because earlier answers decide it (a child's stage from her age).
                    out.append(RecordMember(q.id, .value(RecordValue(q.coerceDerived(v)))))
                }
            case .group(let g):
                // A group that does not apply has no instances (an add-another group would otherwise show `min` empty ones).
                guard ev.holds(g.when, in: scope) else { continue }
                let count = ev.instanceCount(g, outer: scope.indices)
                if count > 0 {
                    out.append(RecordMember(g.id, .group((0..<count).map { members(g.items, scope.entering(g.id, $0), state, &ev) })))
                }
            case .end(let e):
                // Where the dialog stopped, nothing after it applies.
                if ev.holds(e.when, in: scope) { return RecordAnswers(out) }
            }
        }
        return RecordAnswers(out)
    }

    struct Fired {
        var suggestion: IntakeRecord.Suggestion
        /// The text as this engine's screens show it (the catalog's furigana style).
        var shown: String
    }

    /// Suggestion rules that hold, each with the answers that made its condition true (`Evaluator.because`:
    /// only the children who matched, only the side of an `or` that held), else every answer it read.
    func suggestions(_ state: SessionState) -> [Fired] {
        var out: [Fired] = []
        for rule in dialog.suggestions {
            var ev = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
            ev.reads = []
            guard (try? ev.eval(rule.when, in: .root)) == .bool(true) else { continue }
            let read = ev.reads ?? []
            ev.reads = nil
            ev.budget = Evaluator.maxCost
            let reasons = (try? ev.because(rule.when, in: .root, is: true)) ?? read
            var seen: Set<Path> = []
            var because: [RecordField] = []
            for p in reasons where seen.insert(p).inserted {
                // A derived answer (a child's stage from her age) shows as the value it stands for.
                var v = state.answers[p]?.answer.value
                if state.answers[p] == nil, let q = dialog.index.question(p.id), let d = q.derive {
                    v = ((try? ev.evaluate(d, in: Scope(indices: p.indices))) ?? nil).map(q.coerceDerived)
                }
                because.append(RecordField(dialog.display(p), RecordValue(v)))
            }
            let text = render(rule.message, state, furigana: Engine.recordFurigana)
            out.append(Fired(suggestion: IntakeRecord.Suggestion(id: rule.id, message: rule.message, text: text, because: because),
                             shown: catalog.furigana == Engine.recordFurigana ? text : render(rule.message, state)))
        }
        return out
    }
}

extension Engine {
    /// Whether the dialog's `private_when` holds over `state`'s answers: the record is private to
    /// the counselor who took it (and a supervisor). False when the dialog declares none, and when
    /// the condition cannot be decided (an unanswered or declined question).
    public func isPrivate(_ state: SessionState) -> Bool {
        guard let condition = dialog.privateWhen else { return false }
        var ev = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        return ev.holds(condition, in: .root)
    }
}

extension Engine {
    /// What a later visit found, as its record keeps it: each carried section and what became of
    /// it, and every carried answer that differs from the last record.
    func visit(_ revisit: Revisit, _ state: SessionState) -> IntakeRecord.Visit {
        func answer(_ a: Answer?) -> IntakeRecord.Visit.Answer {
            switch a {
            case .value(let v)?: return .value(RecordValue(v))
            case .declined?: return .declined
            case .skipped?, nil: return .value(.null)
            }
        }
        let carried = Set(revisit.sections)
        let all = Set(revisit.prior.keys).union(state.answers.keys).filter {
            !$0.isPrompt && topSection($0).map(carried.contains) == true
        }
        let changed = sortedByOrder(all.filter { revisit.prior[$0] != state.answers[$0]?.answer })
        let changedSections = Set(changed.compactMap(topSection))
        let sections = revisit.sections.map { s in
            let check = state.answers[.sectionCheck(s)]?.answer
            let status: String
            if changedSections.contains(s) {
                status = "changed"
            } else if check == .value(.bool(true)) {
                status = "confirmed"
            } else if check == .value(.bool(false)) {
                status = "reviewed"  // gone through again, nothing different
            } else {
                status = "not_reached"
            }
            return IntakeRecord.Visit.Section(id: s, status: status)
        }
        let changes = changed.map { p in
            IntakeRecord.Visit.Change(question: dialog.display(p), before: answer(revisit.prior[p]), after: answer(state.answers[p]?.answer))
        }
        return IntakeRecord.Visit(previous: revisit.previous, previousDate: revisit.previousDate, sections: sections, changes: changes)
    }
}
