/// The state machine: (session state, event, now) → (new state, effects).
///
/// Pure and deterministic: it reads no clock, file or random source; the same events at the same
/// moments give the same effects and record.
public struct Engine: Sendable {
    public let dialog: Dialog
    public let catalog: Catalog
    /// Folded "prefer not to answer" words, by locale (read once, not at every answer).
    let declineWords: [String: Set<String>]
    /// `engine.ongoing.words` per locale, folded (an open-ended end still running).
    let ongoingWords: [String: Set<String>]
    /// Folded choice labels of every locale → choice value, by question id.
    let choiceLabels: [String: ChoiceLabels]
    /// Start the walk after a forward answer at that answer (the same effects, less work); tests
    /// turn it off to prove it gives what a whole walk gives.
    let resumesWalks: Bool
    /// Reuse, in each walk, the last walk's sums of the sections none of whose answers changed
    /// (`WalkMemo`); off, every walk walks everything (benchmarks compare the two).
    let memoizesWalks: Bool
    /// Whether a step renders what it shows: the question, the review, the record, the answers
    /// dropped. Off for a replay, whose effects nobody sees: the state changes exactly as with it
    /// on (the test runner's third replay compares the two after every step), at a fraction of the
    /// cost (no question is rendered, no extra walk made to show where the session stands).
    public var renders = true
    /// The questions for counselors only, outside repeat groups and inside them (a kiosk's count
    /// of answers leaves theirs out: a few lookups at each question, not a pass over the answers).
    let counselorOnly: (root: [Path], inGroups: Set<String>)

    public init(dialog: Dialog, catalog: Catalog, resumesWalks: Bool = true, memoizesWalks: Bool = true) {
        self.dialog = dialog
        self.catalog = catalog
        self.resumesWalks = resumesWalks
        self.memoizesWalks = memoizesWalks
        let hidden = dialog.index.questionOrder.filter { dialog.index.question($0)?.audience == .counselor }
        counselorOnly = (hidden.filter { dialog.index.entries[$0]?.groups.isEmpty ?? true }.map { Path($0) },
                         Set(hidden.filter { !(dialog.index.entries[$0]?.groups.isEmpty ?? true) }))
        func words(_ key: String) -> [String: Set<String>] {
            var words: [String: Set<String>] = [:]
            for locale in catalog.locales {
                words[locale] = Set(catalog.text(key, locale).split(separator: "|").map {
                    TextFolding.fold(String($0)).lowercased()
                })
            }
            return words
        }
        declineWords = words("engine.decline.words")
        ongoingWords = words("engine.ongoing.words")
        // Per question: the session's locale's labels first, then any locale's, then the short
        // forms (before a bracketed explanation) when they are unambiguous.
        var labels: [String: ChoiceLabels] = [:]
        for id in dialog.index.questionOrder {
            guard let choices = dialog.index.question(id)?.kind.choices, !choices.isEmpty else { continue }
            var table = ChoiceLabels()
            for locale in catalog.locales {
                var own: [String: String] = [:]
                var short: [String: [String]] = [:]
                for c in choices {
                    // A label with readings over its kanji is typed back as the reading, the kanji
                    // or both (しごと, 仕事, 仕事（しごと）): each names the choice. The short form
                    // is taken from the first two, whose brackets are the label's own.
                    let forms = catalog.typedForms(c.label, locale).map { TextFolding.fold($0).lowercased() }
                    for label in forms where own[label] == nil { own[label] = c.value }
                    // Short forms people use for it (`LABEL.also`, separated by `|`: 高卒 for 高校).
                    for also in (catalog.strings[locale]?[c.label + ".also"] ?? "").split(separator: "|") {
                        let form = TextFolding.fold(String(also)).lowercased()
                        if !form.isEmpty, own[form] == nil { own[form] = c.value }
                    }
                    for label in Set(forms.prefix(2).map(Engine.shortLabel)) { short[label, default: []].append(c.value) }
                }
                table.byLocale[locale] = own
                table.compactByLocale[locale] = own.map { (compact: $0.key.filter { $0 != " " }, value: $0.value) }
                table.shortByLocale[locale] = short.compactMapValues { $0.count == 1 ? $0[0] : nil }
            }
            for locale in [catalog.fallback] + catalog.locales {
                for (label, value) in table.byLocale[locale] ?? [:] where table.anyLocale[label] == nil { table.anyLocale[label] = value }
            }
            for c in choices { table.values[c.value.lowercased()] = c.value }
            labels[id] = table
        }
        choiceLabels = labels
    }

    /// Folded labels → choice values, for reading what people type.
    struct ChoiceLabels: Sendable {
        var byLocale: [String: [String: String]] = [:]
        var anyLocale: [String: String] = [:]
        var shortByLocale: [String: [String: String]] = [:]
        var values: [String: String] = [:]
        /// `byLocale`'s labels without their word spaces (made once: `abbreviated` compares
        /// against every label).
        var compactByLocale: [String: [(compact: String, value: String)]] = [:]

        /// A label of the session's language typed as people shorten it: without the word spaces
        /// of やさしい日本語 ("しごとを さがす" as "しごとをさがす"), or its beginning ("パート" for
        /// "パート・アルバイト", "民間の賃貸" for "民間の賃貸住宅") when that beginning is at least
        /// two characters long and begins the labels of one choice only.
        func abbreviated(_ wanted: String, locale: String) -> String? {
            let typed = wanted.filter { $0 != " " }
            guard typed.count >= 2, let labels = compactByLocale[locale] else { return nil }
            var exact: Set<String> = [], begun: Set<String> = []
            for (compact, value) in labels {
                if compact == typed { exact.insert(value) } else if compact.hasPrefix(typed) { begun.insert(value) }
            }
            if exact.count == 1 { return exact.first }
            return exact.isEmpty && begun.count == 1 ? begun.first : nil
        }
    }

    /// `paths` in dialog order (each path's order key computed once). The keys lie side by side in
    /// one buffer: a record or a review sorts every answer, and an array per key was a fifth of
    /// building the record.
    public func sortedByOrder<S: Sequence>(_ paths: S) -> [Path] where S.Element == Path {
        let paths = Array(paths)
        var keys: [Int] = []
        keys.reserveCapacity(paths.count * 4)
        var spans: [Range<Int>] = []
        spans.reserveCapacity(paths.count)
        for p in paths {
            let start = keys.count
            appendOrder(p, to: &keys)
            spans.append(start..<keys.count)
        }
        return paths.indices.sorted { keys[spans[$0]].lexicographicallyPrecedes(keys[spans[$1]]) }.map { paths[$0] }
    }

    public struct Step: Sendable {
        public var state: SessionState
        public var effects: [Effect]
        /// The answers this step set, changed or dropped (an entry of nil: dropped), in path order:
        /// what a log entry carries, taken from the step's own record of what it touched.
        public var changes: [AnswerChange]

        /// The step that left `state` (whose ledger of touched answers it empties into `changes`).
        public init(state: SessionState, effects: [Effect]) {
            var state = state
            changes = state.takeChanges()
            self.state = state
            self.effects = effects
        }
    }

    /// A new session, and its first question.
    /// `carrying`: a later visit, starting from the client's last record.
    public func start(locale: String, mode: SessionState.Mode = .kiosk, carrying: Carried? = nil, at now: Moment) -> Step {
        let locale = catalog.strings[locale] != nil ? locale : catalog.fallback
        var state = SessionState(dialog: dialog, locale: locale, mode: mode, at: now)
        var effects: [Effect] = []
        if let carrying {
            carry(carrying, into: &state, at: now)
            if let r = state.revisit, !r.sections.isEmpty {
                effects.append(.notice(message("engine.revisit.started", state, ["date": r.previousDate ?? "—"])))
            }
        }
        advance(&state, at: now, into: &effects)
        return Step(state: state, effects: effects)
    }

    /// One event from a person: refused, with the state unchanged, when its free text (an answer,
    /// a reason, a note) holds control or bidi characters (`refusal`); else applied.
    public func handle(_ event: Event, _ state: SessionState, at now: Moment) -> Step {
        if let refused = refusal(event, state) { return refused }
        return replaying(event, state, at: now)
    }

    /// The refusal of an event whose free text holds a character that would act on a terminal, a
    /// sheet or a spreadsheet (`ControlCharacters`), or nil. Nothing changes, so a runner logs
    /// nothing for it.
    public func refusal(_ event: Event, _ state: SessionState) -> Step? {
        let text: [String]
        switch event {
        case .answer(let raw): text = [raw.trimmingWhitespace]
        case .value(.text(let s)), .value(.choice(let s)): text = [s]
        case .value(.choices(let list)): text = list
        case .confirm(let reason?): text = [reason.trimmingWhitespace]
        case .note(let note): text = [note.trimmingWhitespace]
        default: return nil
        }
        guard text.contains(where: ControlCharacters.contains(in:)) else { return nil }
        var effects: [Effect] = [.invalid(message("text_safety.control_characters", state))]
        showCurrent(state, into: &effects)
        return Step(state: state, effects: effects)
    }

    /// An event as a log holds it, applied without `refusal`'s check: events are checked before
    /// they are logged, and a log written before the check existed must replay as it was taken.
    public func replaying(_ event: Event, _ state: SessionState, at now: Moment) -> Step {
        var state = state
        let effects = apply(event, to: &state, at: now)
        return Step(state: state, effects: effects)
    }

    /// `replaying`, changing `state` where it is: a replay of a long log does not copy the
    /// session's answers at every event (as a step that keeps the state it started
    /// from must). The answers it changed are left in the state's ledger for `Step`.
    public func apply(_ event: Event, to state: inout SessionState, at now: Moment) -> [Effect] {
        state.ledger = AnswerLedger()
        var effects: [Effect] = []
        state.updated = now
        if case .done = state.phase {
            switch event {
            case .review: if renders { effects.append(.review(review(state, final: false))) }
            case .locale(let l) where catalog.strings[l] != nil: state.locale = l
            default: effects.append(.invalid(message("engine.finished", state)))
            }
            if renders, let record = lastRecord(state) { effects.append(.done(record)) }
            return effects
        }
        switch event {
        case .answer(let raw): answer(raw, &state, at: now, into: &effects)
        case .value(let v): answerValue(v, &state, at: now, into: &effects)
        case .decline: decline(&state, at: now, into: &effects)
        case .skip: skip(&state, at: now, into: &effects)
        case .back: back(&state, at: now, into: &effects)
        case .edit(let target): edit(target, &state, at: now, into: &effects)
        case .add(let group): addInstance(group, &state, at: now, into: &effects)
        case .remove(let instance): removeInstance(instance, &state, at: now, into: &effects)
        case .confirm(let reason): confirm(reason, &state, at: now, into: &effects)
        case .finish: finish(&state, at: now, into: &effects)
        case .review:
            // At the end the current position is the review itself: show it once.
            if renders, state.phase != .reviewing { effects.append(.review(review(state, final: false))) }
            showCurrent(state, into: &effects)
        case .locale(let l):
            if catalog.strings[l] != nil {
                state.locale = l
                effects.append(.notice(message("engine.locale.switched", state)))
            } else {
                effects.append(.invalid(message("engine.locale.unknown", state,
                                                ["locale": l, "available": catalog.locales.joined(separator: ", ")])))
            }
            showCurrent(state, into: &effects)
        case .note(let text):
            let trimmed = text.trimmingWhitespace
            if trimmed.isEmpty {
                effects.append(.invalid(message("engine.note.empty", state)))
            } else {
                state.notes.append(Note(path: state.current, text: trimmed, at: now.epochMillis))
                effects.append(.notice(message("engine.note.saved", state)))
            }
            showCurrent(state, into: &effects)
        case .repeatQuestion:
            showCurrent(state, into: &effects)
        }
        return effects
    }

    /// The effects that show where `state` stands (for a restored or reconnected session).
    public func current(_ state: SessionState) -> [Effect] {
        var effects: [Effect] = []
        showCurrent(state, into: &effects)
        return effects
    }

    /// Re-walks the dialog after a change: drops answers that no longer apply (naming them), then
    /// asks the next question, reviews, or ends.
    func advance(_ state: inout SessionState, at now: Moment, into effects: inout [Effect], resumingAfter: Path? = nil) {
        var walk = Walk(dialog: dialog, state: state, resumingAfter: resumingAfter, summing: memoizesWalks)
        // Each line is rendered as its answer goes (what it said then), and listed in dialog order.
        var dropped: [Path: AnswerLine] = [:]
        // Dropping an answer can make a later condition false in turn; repeat until nothing changes.
        while !walk.allAnswersApply {
            walk = Walk(dialog: dialog, state: state, collectRelevant: true)
            let stale = sortedByOrder(state.answers.keys.filter { !walk.relevant.contains($0) })
            for p in stale {
                guard let entry = state.removeAnswer(at: p) else { continue }
                if renders, !p.isPrompt, shows(p, in: state) { dropped[p] = line(p, entry.answer, state, number: 0) }
                state.reopened.remove(p)
                state.trail.removeAll { $0 == p }
            }
            walk = Walk(dialog: dialog, state: state, summing: memoizesWalks)
        }
        if !dropped.isEmpty {
            let lines = sortedByOrder(dropped.keys).enumerated().compactMap { n, p in
                dropped[p].map { var l = $0; l.number = n + 1; return l }
            }
            effects.append(.dropped(lines))
        }
        state.memo = memoizesWalks ? walk.leftMemo(mode: state.mode) : WalkMemo()
        state.answersAfterCurrent = walk.answersAfterNext
        switch walk.next {
        case .ask(let p):
            state.phase = .asking
            state.current = p
            if renders { effects.append(.ask(prompt(p, state, walk: walk))) }
        case .review:
            state.phase = .reviewing
            state.current = nil
            if renders { effects.append(.review(review(state, final: true))) }
        case .end(let id):
            state.current = nil
            var status = "stopped"
            if case .end(let e)? = dialog.index.entries[id]?.item {
                status = e.status
                effects.append(.notice(message(e.message, state)))
            }
            state.phase = .done(status: status)
            state.finished = now
            if renders { effects.append(.done(record(state))) }
        }
    }

    /// Shows the current question, the final review, or the finished record again.
    func showCurrent(_ state: SessionState, into effects: inout [Effect]) {
        guard renders else { return }
        switch state.phase {
        case .asking:
            let walk = Walk(dialog: dialog, state: state)
            if let p = state.current {
                effects.append(.ask(prompt(p, state, walk: walk)))
            }
        case .reviewing:
            effects.append(.review(review(state, final: true)))
        case .done:
            if let r = lastRecord(state) { effects.append(.done(r)) }
        }
    }

    public func lastRecord(_ state: SessionState) -> Record? {
        if case .done = state.phase { return record(state) }
        return nil
    }

    /// Dialog order of a path, for stable listings: each enclosing group's position and instance,
    /// then the question's position (an add-another prompt sorts before the instance it adds).
    public func order(_ p: Path) -> [Int] {
        var key: [Int] = []
        appendOrder(p, to: &key)
        return key
    }

    /// `order(p)`, appended to `key`.
    func appendOrder(_ p: Path, to key: inout [Int]) {
        if let s = p.sectionOfCheck { return key.append(dialog.index.entries[s]?.order ?? Int.max) }
        let base = p.groupOfMorePrompt ?? p.id
        guard let entry = dialog.index.entries[base] else {
            key.append(Int.max)
            return key.append(contentsOf: p.indices)
        }
        for (i, g) in entry.groups.enumerated() {
            key.append(dialog.index.entries[g]?.order ?? Int.max)
            key.append(i < p.indices.count ? p.indices[i] : 0)
        }
        key.append(entry.order)
        if p.isMorePrompt { key.append(p.indices.last ?? 0); key.append(-1) }
    }

    func message(_ key: String, _ state: SessionState, _ args: [String: String] = [:]) -> Message {
        Message(key: key, text: render(key, state, args))
    }

    /// A locale string with its placeholders filled: `args`, and `{settings.NAME}` (an office's
    /// settings, e.g. a local resource) and `{computed.NAME}` (e.g. the year the youngest child starts school).
    /// `furigana`: the style of the template's readings, when not the catalog's (a record is
    /// written the same whatever a screen shows).
    func render(_ key: String, _ state: SessionState, _ args: [String: String] = [:], furigana: FuriganaStyle? = nil) -> String {
        let template = furigana.map { Furigana.render(catalog.strings[state.locale]?[key] ?? catalog.strings[catalog.fallback]?[key] ?? key, $0) }
            ?? catalog.text(key, state.locale)
        guard template.containsByte(UInt8(ascii: "{")) else { return template }
        // A placeholder may hold what a person typed (an edit target, a pick): shown, never acted on.
        var all = args.mapValues { ControlCharacters.visible($0) }
        var evaluator: Evaluator?
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = String(rest[rest.index(after: open)..<close])
            rest = rest[rest.index(after: close)...]
            guard all[name] == nil else { continue }
            if name.hasPrefix("settings."),
               let text = dialog.settingText(String(name.dropFirst("settings.".count)), locale: state.locale,
                                             fallback: catalog.fallback, furigana: furigana ?? catalog.furigana) {
                // A local resource named in the session's language, its readings as the screen shows them.
                all[name] = text
            } else if name.hasPrefix("settings."), let v = dialog.settings[String(name.dropFirst("settings.".count))] {
                all[name] = words(.value(v), for: Path(""), state)
            } else if name.hasPrefix("computed."), let c = dialog.index.computed[String(name.dropFirst("computed.".count))] {
                if evaluator == nil { evaluator = Evaluator(dialog: dialog, answers: state.answers, today: state.today) }
                let v = (try? evaluator?.evaluate(c.expr, in: .root)) ?? nil
                all[name] = v.map { words(.value($0), for: Path(""), state) } ?? "—"
            }
        }
        return Catalog.fill(template, all)
    }
}

extension String {
    /// Whether the text holds the byte `b` (an ASCII character), scanning its UTF-8 storage
    /// directly: templates are checked for `{` and `|` at every prompt, and the UTF-8 view's
    /// iterator walked them a byte at a time through the string's general path.
    @usableFromInline func containsByte(_ b: UInt8) -> Bool {
        utf8.withContiguousStorageIfAvailable { $0.contains(b) } ?? utf8.contains(b)
    }

    var trimmingWhitespace: String {
        // Most answers have no surrounding space: check the ends' bytes before walking characters.
        if let f = utf8.first, let l = utf8.last, f > 0x20, f < 0x80, l > 0x20, l < 0x80 { return self }
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
