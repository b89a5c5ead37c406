/// A later visit: the session starts from the client's last record. Each module that the record
/// holds is first shown as it was ("is this still right?"); kept as it is, or asked again with the
/// old answers offered (Enter keeps one). The record then says, module by module, what was
/// confirmed and what changed, from what to what (the monthly list shows it).

/// What a front end carries into a new session: the answers of the client's last record.
public struct Carried: Equatable, Sendable {
    /// The record it comes from (a session id), for the audit trail and the new record.
    public var previous: String
    /// The date of that record (ISO, office time).
    public var previousDate: String?
    public var answers: [Path: Answer]

    public init(previous: String, previousDate: String?, answers: [Path: Answer]) {
        self.previous = previous
        self.previousDate = previousDate
        self.answers = answers
    }
}

/// A session's memory of the visit it starts from.
public struct Revisit: Codable, Equatable, Sendable {
    public var previous: String
    public var previousDate: String?
    /// The answers as the last record left them (those that apply under this dialog).
    public var prior: [Path: Answer]
    /// Top-level sections that hold prior answers: each is confirmed or changed, in dialog order.
    public var sections: [String]
}

extension Engine {
    /// The top-level section a path's question (or prompt) lies in.
    func topSection(_ p: Path) -> String? {
        if let s = p.sectionOfCheck { return s }
        return dialog.index.entries[p.groupOfMorePrompt ?? p.id]?.sections.first
    }

    /// Top-level sections whose answers a later visit carries forward.
    var carriedSections: [String] {
        dialog.items.compactMap { if case .section(let s) = $0, s.carry { return s.id } else { return nil } }
    }

    /// Puts the carried answers into a new session: only those for questions (and add-another
    /// prompts) of carried sections that still fit their question, and only those that apply under
    /// the others — quietly, as nothing was said to the person yet.
    func carry(_ carried: Carried, into state: inout SessionState, at now: Moment) {
        let sections = Set(carriedSections)
        var answers: [Path: AnswerEntry] = [:]
        for (path, answer) in carried.answers {
            guard let s = topSection(path), sections.contains(s), !path.isSectionCheck,
                  let kept = fitting(path, answer) else { continue }
            answers[path] = AnswerEntry(kept, at: now.epochMillis)
        }
        state.replaceAnswers(with: answers)
        // An answer that does not apply can make another not apply: repeat until none is left out.
        while true {
            let walk = Walk(dialog: dialog, state: state, collectRelevant: true, holding: false)
            let stale = state.answers.keys.filter { !walk.relevant.contains($0) }
            if stale.isEmpty { break }
            for p in stale { state.removeAnswer(at: p) }
        }
        let held = Set(state.answers.keys.compactMap(topSection))
        state.revisit = Revisit(previous: carried.previous, previousDate: carried.previousDate,
                                prior: state.answers.mapValues(\.answer),
                                sections: carriedSections.filter(held.contains))
        state.trail = sortedByOrder(state.answers.keys)
    }

    /// An answer from a record as the question now takes it, or nil if it no longer fits.
    private func fitting(_ path: Path, _ answer: Answer) -> Answer? {
        if let g = path.groupOfMorePrompt {
            guard let group = dialog.index.group(g), case .addAnother = group.count, case .value(.bool) = answer,
                  (dialog.index.entries[g]?.groups.count ?? -1) + 1 == path.indices.count else { return nil }
            return answer
        }
        guard let q = dialog.index.question(path.id), dialog.index.entries[path.id]?.groups.count == path.indices.count else { return nil }
        switch answer {
        case .declined: return q.declinable ? answer : nil
        case .skipped: return q.required ? nil : answer
        case .value(let v):
            guard case .success(let typed) = coerce(v, to: q.kind) else { return nil }
            return .value(typed)
        }
    }

    /// After "still right?" was answered: kept as it is, or every answer of the section is asked
    /// again (the old one offered, Enter keeps it).
    func settleCheck(_ path: Path, _ state: inout SessionState) {
        guard let section = path.sectionOfCheck else { return }
        let inside = state.answers.keys.filter { !$0.isSectionCheck && topSection($0) == section }
        if state.answers[path]?.answer == .value(.bool(false)) {
            state.reopened.formUnion(inside)
        } else {
            state.reopened.subtract(inside)
        }
    }

    /// The "still right?" prompt of a section: what the last record says, in the person's words.
    func checkPrompt(_ p: Path, _ state: SessionState, walk: Walk) -> Prompt {
        let loc = state.locale
        let section = p.sectionOfCheck ?? ""
        var title = section
        if case .section(let s)? = dialog.index.entries[section]?.item { title = catalog.text(s.title, loc) }
        let prior = state.revisit?.prior ?? [:]
        let paths = sortedByOrder(prior.keys.filter { !$0.isPrompt && topSection($0) == section && shows($0, in: state) })
        var shared = LineContext(Evaluator(dialog: dialog, answers: state.answers, today: state.today))
        let lines = paths.enumerated().compactMap { i, p in prior[p].map { line(p, $0, state, number: i + 1, &shared) } }
        let date = state.revisit?.previousDate ?? "—"
        let choices = [ChoiceOption(number: 1, value: "yes", label: catalog.text("engine.revisit.keep", loc)),
                       ChoiceOption(number: 2, value: "no", label: catalog.text("engine.revisit.change", loc))]
        let context = walk.nextContext.map { c in catalog.text(c.key, loc, c.n.map { ["n": String($0)] } ?? [:]) }
        return Prompt(path: p, display: p.id, kind: "yesno",
                      text: render("engine.revisit.question", state, ["section": title, "date": date]),
                      help: render("engine.revisit.help", state), choices: choices, required: true, declinable: false,
                      current: nil, context: context, answered: answeredShown(walk, state), remaining: walk.remaining,
                      min: nil, max: nil, previous: lines)
    }

    /// Parses the answer to "still right?": yes/no words, 1/2, or the two labels.
    func parseCheck(_ text: String, _ state: SessionState) -> Bool? {
        if let b = parseYesNo(text, state) { return b }
        let folded = TextFolding.fold(text).lowercased()
        for (key, value) in [("engine.revisit.keep", true), ("engine.revisit.change", false)] {
            for loc in [state.locale, catalog.fallback] where catalog.typedForms(key, loc).contains(where: { folded == TextFolding.fold($0).lowercased() }) {
                return value
            }
        }
        return nil
    }
}
