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
    /// fired with the answers that triggered each.
    public func record(_ state: SessionState) -> Record {
        var evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        let status: String
        switch state.phase {
        case .done(let s): status = s
        case .asking, .reviewing: status = "in_progress"
        }
        let answers = members(dialog.items, .root, state, &evaluator)
        var computed: [(String, JSON)] = []
        for c in dialog.computed {
            computed.append((c.id, ((try? evaluator.evaluate(c.expr, in: .root)) ?? nil)?.json ?? .null))
        }
        let paths = sortedByOrder(state.answers.keys)
        let declined = paths.filter { state.answers[$0]?.answer == .declined }.map { JSON.string(dialog.display($0)) }
        let skipped = paths.filter { state.answers[$0]?.answer == .skipped }.map { JSON.string(dialog.display($0)) }
        let warnings: [JSON] = state.warnings.map { w in
            var o: [(String, JSON)] = [("question", .string(dialog.display(w.path))), ("message", .string(w.message)),
                                       ("text", .string(Engine.recordCatalog(catalog).text(w.message, state.locale))), ("value", w.value.json)]
            if let r = w.reason { o.append(("reason", .string(r))) }
            return .object(o)
        }
        let fired = suggestions(state)
        let notes: [JSON] = state.notes.map { n in
            .object([("question", n.path.map { .string(dialog.display($0)) } ?? .null), ("text", .string(n.text)),
                     ("at", .string(Moment(epochMillis: n.at, utcOffsetMinutes: state.started.utcOffsetMinutes).iso))])
        }
        var top: [(String, JSON)] = [
            ("dialog", .object([("id", .string(dialog.id)), ("version", .string(state.dialogVersion))]
                + (state.earlierVersions.map { [("earlier_versions", .array($0.map { .string($0) }))] } ?? []))),
            ("status", .string(status)),
            ("locale", .string(state.locale)),
            ("mode", .string(state.mode.rawValue)),
            ("started", .string(state.started.iso)),
        ]
        if let f = state.finished { top.append(("finished", .string(f.iso))) }
        top += [
            ("answers", .object(answers)),
            ("computed", .object(computed)),
            ("declined", .array(declined)),
            ("skipped", .array(skipped)),
            ("warnings", .array(warnings)),
            ("suggestions", .array(fired.map(\.json))),
            ("notes", .array(notes)),
        ]
        if let revisit = state.revisit { top.append(("visit", visitJSON(revisit, state))) }
        return Record(status: status, json: .object(top), suggestions: fired.map(\.id), shown: fired.map(\.shown))
    }

    private func members(_ items: [Item], _ scope: Scope, _ state: SessionState, _ ev: inout Evaluator) -> [(String, JSON)] {
        var out: [(String, JSON)] = []
        for item in items {
            switch item {
            case .section(let s):
                guard ev.holds(s.when, in: scope) else { continue }
                let inner = members(s.items, scope, state, &ev)
                if !inner.isEmpty { out.append((s.id, .object(inner))) }
            case .question(let q):
                if let a = state.answers[Path(q.id, scope.indices)] {
                    if let v = a.answer.value { out.append((q.id, v.json)) }
                } else if let d = q.derive, ev.holds(q.when, in: scope), let v = (try? ev.evaluate(d, in: scope)) ?? nil {
                    // Not asked because earlier answers decide it (a child's stage from her age).
                    out.append((q.id, q.coerceDerived(v).json))
                }
            case .group(let g):
                // A group that does not apply has no instances (an add-another group would otherwise show `min` empty ones).
                guard ev.holds(g.when, in: scope) else { continue }
                let count = ev.instanceCount(g, outer: scope.indices)
                if count > 0 {
                    out.append((g.id, .array((0..<count).map { .object(members(g.items, scope.entering(g.id, $0), state, &ev)) })))
                }
            case .end(let e):
                // Where the dialog stopped, nothing after it applies.
                if ev.holds(e.when, in: scope) { return out }
            }
        }
        return out
    }

    struct Fired {
        var id: String
        var json: JSON
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
            var because: [(String, JSON)] = []
            for p in reasons where seen.insert(p).inserted {
                // A derived answer (a child's stage from her age) shows as the value it stands for.
                var v = state.answers[p]?.answer.value
                if state.answers[p] == nil, let q = dialog.index.question(p.id), let d = q.derive {
                    v = ((try? ev.evaluate(d, in: Scope(indices: p.indices))) ?? nil).map(q.coerceDerived)
                }
                because.append((dialog.display(p), v?.json ?? .null))
            }
            let text = render(rule.message, state, furigana: Engine.recordFurigana)
            out.append(Fired(id: rule.id, json: .object([
                ("id", .string(rule.id)), ("message", .string(rule.message)),
                ("text", .string(text)), ("because", .object(because)),
            ]), shown: catalog.furigana == Engine.recordFurigana ? text : render(rule.message, state)))
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
