extension Engine {
    func prompt(_ p: Path, _ state: SessionState, walk: Walk) -> Prompt {
        if p.isSectionCheck { return checkPrompt(p, state, walk: walk) }
        let loc = state.locale
        let n = p.indices.last.map { String($0 + 1) } ?? "1"
        let args = ["n": n]
        let context = walk.nextContext.map { c in
            // A `.one` title (the only instance of a group) falls back to the numbered one.
            let key = c.key.hasSuffix(".one") && !catalog.hasText(c.key, loc) ? String(c.key.dropLast(4)) : c.key
            return catalog.text(key, loc, c.n.map { ["n": String($0)] } ?? [:])
        }
        // Only a yes/no question or prompt shows them (not rendered for the others).
        var yesNo: [ChoiceOption] {
            [ChoiceOption(number: 1, value: "yes", label: catalog.text("engine.yes", loc)),
             ChoiceOption(number: 2, value: "no", label: catalog.text("engine.no", loc))]
        }
        if let g = p.groupOfMorePrompt.flatMap({ dialog.index.group($0) }), case .addAnother(let key) = g.count {
            return Prompt(path: p, display: dialog.display(p), kind: "yesno", text: render(key, state, args),
                          help: catalog.optionalText(key + ".help", loc, args), choices: yesNo, required: true,
                          declinable: false, current: current(p, state), context: context,
                          answered: answeredShown(walk, state), remaining: walk.remaining, min: nil, max: nil)
        }
        guard let q = dialog.index.question(p.id) else {
            return Prompt(path: p, display: dialog.display(p), kind: "text", text: p.id, help: nil, choices: [], required: false,
                          declinable: false, current: nil, context: context, answered: answeredShown(walk, state), remaining: walk.remaining, min: nil, max: nil)
        }
        var choices: [ChoiceOption] = []
        var lo: String?, hi: String?
        switch q.kind {
        case .yesNo: choices = yesNo
        case .single(let cs), .multi(let cs, _, _):
            choices = cs.enumerated().map { ChoiceOption(number: $0.offset + 1, value: $0.element.value, label: catalog.text($0.element.label, loc)) }
        case .integer(let a, let b): lo = a?.description; hi = b?.description
        case .decimal(let a, let b): lo = a.map(format); hi = b.map(format)
        case .date(let a, let b): lo = a?.iso; hi = b?.iso
        case .text(let m): hi = m?.description
        case .month, .time: break
        }
        let helpKey = q.help ?? q.text + ".help"
        let textKey = textKey(q, p, state)
        var textArgs = args
        if !p.indices.isEmpty { fillInstanceComputed([textKey, helpKey], p, state, &textArgs) }
        return Prompt(path: p, display: dialog.display(p), kind: q.kind.name, text: render(textKey, state, textArgs),
                      help: catalog.hasText(helpKey, loc) ? render(helpKey, state, textArgs) : nil, choices: choices,
                      required: q.required, declinable: q.declinable, current: current(p, state), context: context,
                      answered: answeredShown(walk, state), remaining: walk.remaining, min: lo, max: hi, format: q.format?.rawValue,
                      declineHint: q.declinable && !state.answers.keys.contains { dialog.index.question($0.id)?.declinable == true })
    }

    /// `{computed.NAME}` in the texts of the question at `p` (inside a repeat group) for a value
    /// computed per instance: its value in that instance (`render` fills the dialog-wide ones).
    private func fillInstanceComputed(_ keys: [String], _ p: Path, _ state: SessionState, _ args: inout [String: String]) {
        guard let groups = dialog.index.entries[p.id]?.groups else { return }
        var ev: Evaluator?
        for key in keys {
            guard let template = catalog.strings[state.locale]?[key] ?? catalog.strings[catalog.fallback]?[key],
                  template.containsByte(UInt8(ascii: "{")) else { continue }
            var rest = Substring(template)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                let placeholder = rest[rest.index(after: open)..<close]
                rest = rest[rest.index(after: close)...]
                guard placeholder.hasPrefix("computed.") else { continue }
                let name = String(placeholder.dropFirst("computed.".count))
                guard args["computed." + name] == nil, let c = dialog.index.computed[name], !c.groups.isEmpty,
                      dialog.index.isVisible(c.groups, from: groups) else { continue }
                if ev == nil { ev = Evaluator(dialog: dialog, answers: state.answers, today: state.today) }
                let v = (try? ev?.evaluate(c.expr, in: c.scope(within: Scope(indices: p.indices)))) ?? nil
                args["computed." + name] = v.map { words(.value($0), for: Path(""), state) } ?? "—"
            }
        }
    }

    /// The locale key of the question's words at `p`: the first variant whose condition holds there.
    func textKey(_ q: Question, _ p: Path, _ state: SessionState) -> String {
        guard !q.variants.isEmpty else { return q.text }
        var ev = Evaluator(dialog: dialog, answers: state.answers, today: state.today)
        return q.variants.first { ev.holds($0.when, in: Scope(indices: p.indices)) }?.text ?? q.text
    }

    private func current(_ p: Path, _ state: SessionState) -> String? {
        guard state.reopened.contains(p), let a = state.answers[p]?.answer else { return nil }
        return words(a, for: p, state)
    }

    /// Answers so far, numbered in dialog order, in the person's language.
    public func review(_ state: SessionState, final: Bool = false) -> Review {
        // One evaluator and one rendering of each section's title for all the lines (a review of a
        // whole intake has about a hundred, in a dozen sections).
        var shared = LineContext(Evaluator(dialog: dialog, answers: state.answers, today: state.today))
        let lines = answeredPaths(state).enumerated().compactMap { i, p in
            state.answers[p].map { line(p, $0.answer, state, number: i + 1, &shared) }
        }
        return Review(lines: lines, final: final)
    }

    /// What the lines of one listing share: an evaluator over the state's answers, and the section
    /// titles already rendered in its locale.
    struct LineContext {
        var evaluator: Evaluator
        var sectionTitles: [String: String] = [:]
        init(_ evaluator: Evaluator) { self.evaluator = evaluator }
    }

    /// One line alone (an answer dropped while the answers change under it: its own evaluator).
    func line(_ p: Path, _ a: Answer, _ state: SessionState, number: Int) -> AnswerLine {
        var shared = LineContext(Evaluator(dialog: dialog, answers: state.answers, today: state.today))
        return line(p, a, state, number: number, &shared)
    }

    func line(_ p: Path, _ a: Answer, _ state: SessionState, number: Int, _ shared: inout LineContext) -> AnswerLine {
        let loc = state.locale
        var context: [String] = []
        if let entry = dialog.index.entries[p.groupOfMorePrompt ?? p.id] {
            for id in entry.sections {
                if let title = shared.sectionTitles[id] {
                    context.append(title)
                } else if case .section(let s)? = dialog.index.entries[id]?.item {
                    let title = catalog.text(s.title, loc)
                    shared.sectionTitles[id] = title
                    context.append(title)
                }
            }
            for (i, g) in entry.groups.enumerated() where i < p.indices.count {
                guard let group = dialog.index.group(g) else { continue }
                // The only instance of a counted group reads as it did when asked ("お子さん").
                var key = group.title
                if case .addAnother = group.count {} else if shared.evaluator.instanceCount(group, outer: Array(p.indices.prefix(i))) == 1,
                                                            catalog.hasText(group.title + ".one", loc) {
                    key = group.title + ".one"
                }
                context.append(catalog.text(key, loc, ["n": String(p.indices[i] + 1)]))
            }
        }
        let question: String
        if let q = dialog.index.question(p.id) {
            question = catalog.text(textKey(q, p, state), loc, ["n": p.indices.last.map { String($0 + 1) } ?? "1"])
        } else {
            question = dialog.display(p)
        }
        return AnswerLine(number: number, path: dialog.display(p), context: context, question: question, answer: words(a, for: p, state))
    }

    func words(_ a: Answer, for p: Path, _ state: SessionState) -> String {
        words(a, question: p.id, locale: state.locale)
    }

    /// An answer in the person's words: labels for choices, はい/いいえ, 答えない for a declined one.
    public func words(_ a: Answer, question: String, locale loc: String) -> String {
        switch a {
        case .declined: return catalog.text("engine.declined", loc)
        case .skipped: return catalog.text("engine.skipped", loc)
        case .value(let v):
            let kind = dialog.index.question(question)?.kind
            func label(_ value: String) -> String {
                kind?.choices.first { $0.value == value }.map { catalog.text($0.label, loc) } ?? value
            }
            // A time of day as a clock shows it (9:00, 8:30), not as hours.
            if kind == .time, let shown = TimeParser.display(v) { return shown }
            switch v {
            case .bool(let b): return catalog.text(b ? "engine.yes" : "engine.no", loc)
            case .int(let i): return String(i)
            case .decimal(let d): return format(d)
            case .text(let s): return s
            case .date(let d): return catalog.text("engine.date", loc, ["iso": d.iso, "wareki": DateParser.wareki(d) ?? d.iso])
            case .choice(let c): return label(c)
            case .choices(let cs): return cs.map(label).joined(separator: catalog.text("engine.list_separator", loc))
            }
        }
    }
}
