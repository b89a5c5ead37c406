import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeTerminal

/// One counselor at the terminal: reads lines, runs them through the stored session (every
/// answer on disk before the next question is shown), and shows the counselor's screen.
struct Interview {
    let engine: Engine
    let project: Project
    var session: LineSession
    var clock: Clock
    var out: Output
    let terminal: Bool
    /// A soft check warned: the next plain line is the reason to keep the answer.
    private var awaitingReason = false
    /// Ctrl-C pressed on an empty line just before.
    private var interruptedOnce = false
    /// At a terminal: a review longer than the screen is shown a page at a time (nil: line mode).
    var pager: Pager?
    /// The final review last shown: after an edit only what changed is shown again.
    private var lastReview: [AnswerLine]?

    init(engine: Engine, project: Project, session: LineSession, clock: Clock, out: Output, terminal: Bool) {
        self.engine = engine
        self.project = project
        self.session = session
        self.clock = clock
        self.out = out
        self.terminal = terminal
    }

    var catalog: Catalog { project.catalog }
    var locale: String { session.state.locale }
    /// The counselor at the keyboard, under the store's identity (never a typed name).
    var actor: Actor { session.actor }

    /// REPL-only commands (the engine's come from `LineInput`), with their aliases.
    static let replCommands: [(names: [String], canonical: String)] = [
        (["suspend", "中断", "ちゅうだん"], "suspend"),
        (["resume", "再開", "さいかい"], "resume"),
        (["records", "一覧", "いちらん"], "records"),
        (["sheet", "シート"], "sheet"),
    ]

    /// Commands kept in the history file: none carries client data (`:note`, `:confirm REASON`,
    /// `:records NAME` and `:resume TOKEN` do, or a secret, and are never kept; answers never are).
    static let rememberable: Set<String> = ["back", "review", "edit", "skip", "decline", "confirm", "add", "remove", "lang",
                                            "finish", "repeat", "help", "quit", "suspend", "records", "sheet"]

    /// The first screen: at a handover, what the client answered herself, marked as hers.
    mutating func opened(_ effects: [Effect], resumed: Bool) throws {
        if resumed { out.say(resumedBanner(effects)) }
        if resumed, let running = session.running, let store = session.store {
            let id = running.id
            let marked = clientAnswers(try waitFor { try await store.log(of: id) })
            if !marked.isEmpty {
                out.screen.clientAnswered = marked
                out.say(catalog.text("repl.handover", locale))
                page([(out.screen.review(engine.review(session.state), locale), true)])
            }
        }
        show(effects)
    }

    /// Who and how far, before the first question of a resumed session: the record's id, the
    /// client's name and kana (and number), how many questions are answered, when the last answer
    /// was given. No other answer is shown.
    mutating func resumedBanner(_ effects: [Effect]) -> String {
        let state = session.state
        func text(_ p: Path) -> String? {
            guard case .value(.text(let t))? = state.answers[p]?.answer else { return nil }
            let trimmed = t.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }
        let name = ClientName(name: text(Path(ClientName.nameID)), kana: text(Path(ClientName.kanaID)))
        var who = name.isEmpty ? catalog.text("terminal.resume.no_name", locale)
            : catalog.text("terminal.resume.name", locale, ["name": ClientListing.shown(name)])
        if let number = session.running?.clientID {
            who += catalog.text("terminal.resume.number", locale, ["number": ControlCharacters.visible(number)])
        }
        let prompt = effects.lazy.compactMap { e -> Prompt? in if case .ask(let p) = e { return p }; return nil }.first
        let answered = prompt?.answered ?? engine.review(state).lines.count
        let total = prompt.map { $0.answered + $0.remaining } ?? answered
        let last = state.answers.filter { !$0.key.isPrompt }.values.map(\.at).max().map {
            let iso = Moment(epochMillis: $0, utcOffsetMinutes: clock.now().utcOffsetMinutes).iso
            return String(iso.prefix(16)).replacingOccurrences(of: "T", with: " ")
        } ?? catalog.text("terminal.resume.no_answer", locale)
        return catalog.text("terminal.resume.banner", locale, [
            "id": session.running?.id ?? "—", "client": who,
            "answered": String(answered), "total": String(total), "last": last,
        ])
    }

    /// Display paths whose current answer the client gave (the last change to each was hers).
    func clientAnswers(_ log: [LogEntry]) -> Set<String> {
        var marked: Set<String> = []
        for entry in log {
            for change in entry.answers ?? [] {
                let display = engine.dialog.display(change.path)
                if entry.actor == .client && change.entry != nil { marked.insert(display) } else { marked.remove(display) }
            }
        }
        return marked
    }

    mutating func loop(_ source: inout any LineSource) throws {
        while true {
            source.complete(with: completions())
            let prompt = awaitingReason ? catalog.text("repl.reason_prompt", locale) : "> "
            switch source.read(prompt: terminal ? prompt : "") {
            case .end:
                try leave()
                return
            case .interrupt:
                if interruptedOnce {
                    interruptedOnce = false
                    guard case .line(let answer) = source.read(prompt: catalog.text("repl.suspend_ask", locale) + " ") else {
                        try leave()
                        return
                    }
                    if YesNoParser.parse(answer) == true {
                        try leave()
                        return
                    }
                    out.say(catalog.text("repl.not_suspended", locale))
                    show(engine.current(session.state))
                } else {
                    interruptedOnce = true
                    out.say(catalog.text("repl.interrupted", locale))
                }
            case .line(let line):
                interruptedOnce = false
                if try !handle(line, &source) { return }
            }
        }
    }

    /// One line. Returns false when the interview ends.
    private mutating func handle(_ line: String, _ source: inout any LineSource) throws -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed == "?" || trimmed == "？" {
            if let p = currentPrompt() { out.show(out.screen.help(p, locale)) } else { out.say(catalog.text("repl.no_help", locale)) }
            return true
        }
        if awaitingReason && !trimmed.hasPrefix(":") && !trimmed.hasPrefix("：") {
            awaitingReason = false
            // Enter alone: answer the question again; else the reason to keep the answer.
            if trimmed.isEmpty {
                show(engine.current(session.state))
            } else {
                try apply(.confirm(reason: trimmed))
            }
            return true
        }
        awaitingReason = false
        if let (command, argument) = replCommand(trimmed) {
            // `:records NAME` searches for a client: her name is never kept.
            if Self.rememberable.contains(command) && (command != "records" || argument.isEmpty) { source.remember(trimmed) }
            return try runReplCommand(command, argument)
        }
        let input = LineInput.parse(line)
        if case .event(.answer) = input {} else if let name = commandName(trimmed), Self.rememberable.contains(name),
                                                  !(name == "confirm" && trimmed.contains(" ")) {
            source.remember(trimmed)
        }
        switch input {
        case .event(.edit(let target)):
            switch editTarget(target) {
            case .asTyped: try apply(.edit(target))
            case .path(let path): try apply(.edit(path))
            case .listed: break
            }
        case .event(let e):
            try apply(e)
        case .help:
            out.say(catalog.text("repl.help", locale))
            show(engine.current(session.state))
        case .quit:
            try leave()
            return false
        case .unknownCommand(let w), .missingArgument(let w):
            out.say(catalog.text("run.unknown_command", locale, ["command": ":" + w]))
            show(engine.current(session.state))
        }
        return true
    }

    private mutating func apply(_ event: Event) throws {
        let effects: [Effect]
        do {
            effects = try session.handle(event, actor: actor, at: clock.now())
        } catch RuntimeError.tooLong {
            // Nothing more is taken: the counselor suspends (:suspend, Ctrl-D) and looks at the session.
            return out.say(catalog.text("operations.run.session_too_long", locale, ["max": String(session.runner?.maxEvents ?? 0)]))
        } catch {
            // Not saved, or taken over by another process: say so, suspend where possible, show the
            // token, and end (the screen never shows as saved what is not).
            let out = self.out
            throw ExitCode(session.stop(after: error, actor: actor, at: clock.now(), catalog: catalog, say: { out.say($0) }))
        }
        if effects.contains(where: { if case .warn = $0 { true } else { false } }) { awaitingReason = true }
        switch event {
        case .review, .locale, .repeatQuestion: show(effects)
        default: show(effects, onlyChanges: true)
        }
    }

    /// Shows the effects; a review a page at a time. With `onlyChanges`, a final review that
    /// follows one shown before shows only the answers that changed since (an edit does not
    /// reprint the whole review).
    private mutating func show(_ effects: [Effect], onlyChanges: Bool = false) {
        var blocks: [(lines: [String], skippable: Bool)] = []
        for e in effects {
            guard case .review(let r) = e else {
                blocks.append((out.screen.lines([e], locale: locale), false))
                continue
            }
            if r.final, onlyChanges, let before = lastReview {
                let unchanged = Set(before.map { [$0.path, $0.answer] })
                let changed: (AnswerLine) -> Bool = { !unchanged.contains([$0.path, $0.answer]) }
                blocks.append((!r.lines.contains(where: changed) ? out.screen.wrap(catalog.text("terminal.review.unchanged", locale))
                               : out.screen.review(r, locale, title: catalog.text("terminal.review.changed", locale), keeping: changed), false))
            } else {
                blocks.append((out.screen.review(r, locale), true))
            }
            blocks.append((out.screen.reviewHints(r, locale), false))
            lastReview = r.final ? r.lines : nil
        }
        page(blocks)
    }

    /// Prints the lines; at a terminal, when they are longer than it, a page at a time with a
    /// prompt between pages. Stopping (q) leaves out the rest of the skippable lines (the review),
    /// never what follows it (the question).
    private func page(_ blocks: [(lines: [String], skippable: Bool)]) {
        let all = blocks.flatMap { b in b.lines.map { ($0, b.skippable) } }
        // Only a review pages (a question is shown whole, as it always was).
        guard let pager, blocks.contains(where: \.skippable), all.count > max(pager.rows() - 1, 1) else { return out.show(all.map(\.0)) }
        let height = max(pager.rows() - 2, 3)
        var start = 0
        while start < all.count {
            let end = min(start + height, all.count)
            out.show(all[start..<end].map(\.0))
            start = end
            guard start < all.count else { return }
            let prompt = catalog.text("terminal.more", locale, ["shown": String(start), "total": String(all.count)])
            if !pager.more(prompt + " ") {
                return out.show(all[start...].filter { !$0.1 }.map(\.0))
            }
        }
    }

    /// How `:edit TARGET` names its question.
    enum EditTarget: Equatable {
        /// As the engine takes it: a review number, a path, or nothing it knows (it says so).
        case asTyped
        /// The question whose words (in the current locale) or label hold the target: its path.
        case path(String)
        /// Several questions hold the words: they were listed, nothing is edited.
        case listed
    }

    /// A review number or a question's path goes to the engine as typed; else the target is
    /// looked for in the review's questions (their text in the current locale, and their short
    /// label), compared as names are (kana, width and case folded): one that holds it is edited,
    /// several are listed with their numbers.
    func editTarget(_ target: String) -> EditTarget {
        let typed = TextFolding.fold(target)
        if Int(typed) != nil { return .asTyped }
        if let p = engine.dialog.parsePath(typed), engine.dialog.index.entries[p.groupOfMorePrompt ?? p.id] != nil { return .asTyped }
        let query = ClientName.folded(typed)
        guard !query.isEmpty else { return .asTyped }
        let lines = engine.review(session.state).lines
        func words(_ l: AnswerLine) -> [String] {
            var w = [ClientName.folded(l.question)]
            if let id = engine.dialog.parsePath(l.path)?.id, let label = catalog.optionalText("sheet.label." + id, locale) {
                w.append(ClientName.folded(label))
            }
            return w
        }
        let exact = lines.filter { words($0).contains(query) }
        let found = exact.count == 1 ? exact : lines.filter { words($0).contains { $0.contains(query) } }
        if found.count == 1, let only = found.first { return .path(only.path) }
        guard found.count > 1 else { return .asTyped }
        out.say(catalog.text("terminal.edit.ambiguous", locale, ["target": target, "count": String(found.count)]))
        var shown: [String] = []
        for l in found.prefix(20) {
            let n = "\(l.number). "
            let context = l.context.isEmpty ? "" : "[" + l.context.joined(separator: " › ") + "] "
            shown += out.screen.wrap("  " + n + context + l.question, hanging: "  " + String(repeating: " ", count: n.count))
        }
        out.show(shown)
        return .listed
    }

    private func currentPrompt() -> Prompt? {
        for case .ask(let p) in engine.current(session.state) { return p }
        return nil
    }

    /// The canonical name of a `:command` line, if it is one.
    private func commandName(_ line: String) -> String? {
        guard let f = line.first, f == ":" || f == "：" else { return nil }
        let word = TextFolding.fold(String(line.dropFirst().prefix { $0 != " " && $0 != "\u{3000}" })).lowercased()
        return LineInput.commands.first { $0.names.contains(word) }?.names.first
    }

    private func replCommand(_ line: String) -> (String, String)? {
        guard let f = line.first, f == ":" || f == "：" else { return nil }
        let body = line.dropFirst()
        let word = TextFolding.fold(String(body.prefix { $0 != " " && $0 != "\u{3000}" })).lowercased()
        guard let command = Self.replCommands.first(where: { $0.names.contains(word) }) else { return nil }
        let rest = body.drop { $0 != " " && $0 != "\u{3000}" }.trimmingCharacters(in: .whitespaces)
        return (command.canonical, rest)
    }

    /// Tab completes commands, and the current question's choice labels.
    private func completions() -> [String] {
        var words = LineInput.commands.map { ":" + $0.names[0] } + Self.replCommands.map { ":" + $0.canonical }
        if let p = currentPrompt() { words += p.choices.map(\.label) }
        return words
    }

    private mutating func runReplCommand(_ command: String, _ argument: String) throws -> Bool {
        switch command {
        case "suspend":
            try leave()
            return false
        case "records":
            listRecords(argument)
        case "sheet":
            printSheet(argument.isEmpty ? "record" : argument)
        case "resume":
            try resumeOther(argument)
        default:
            break
        }
        return true
    }

    /// Suspends an unfinished session and says how to come back.
    private mutating func leave() throws {
        let suspended: Bool
        do {
            suspended = try session.suspend(actor: actor, at: clock.now())
        } catch RuntimeError.takenOver {
            out.say(catalog.text("shared_db.taken_over", locale))
            throw ExitCode(LineSession.exitTakenOver)
        } catch {
            // Not suspended: still in progress, and its token resumes it all the same.
            let out = self.out
            session.sayHowToResume(catalog: catalog, say: { out.say($0) })
            throw ExitCode(LineSession.exitNotSaved)
        }
        guard suspended else { return }
        if let token = session.token {
            out.say(catalog.text("run.suspended", locale, ["token": token.description]))
        } else {
            out.say(catalog.text("run.suspended_listed", locale))
        }
    }

    /// The stored sessions, newest first, with the client's number and name (kana); `search`
    /// (her number, or part of her name or kana) keeps only hers.
    private mutating func listRecords(_ search: String) {
        guard let store = session.store else { return }
        let query = TextFolding.fold(search)
        let found: (list: SessionList, names: ClientListing.Names)
        do {
            // Without a search only the fifty shown are read for names.
            let searching = !query.isEmpty
            found = try waitFor {
                let list = try await store.listSessions(.all)
                return (list, try await ClientListing.names(of: searching ? list.sessions : Array(list.sessions.prefix(50)), in: store))
            }
        } catch {
            return
        }
        // A damaged session is named, and the others listed.
        for id in found.list.damaged + found.names.damaged { out.say(catalog.text("integrity.damaged", locale, ["id": id])) }
        if found.names.sealed { out.say(catalog.text("terminal.records.names_sealed", locale)) }
        let damaged = Set(found.names.damaged)
        let matching = found.list.sessions.filter {
            !damaged.contains($0.id)
                && ClientListing.matches($0, found.names.names[$0.id], client: nil, nameQuery: nil, any: query.isEmpty ? nil : query)
        }
        let sessions = Array(matching.prefix(50))
        guard !sessions.isEmpty else {
            return out.say(catalog.text(query.isEmpty ? "repl.no_records" : "terminal.records.none_found", locale))
        }
        // Each session listed (its client's number and name show) is a read in the audit trail first.
        guard recordRead(sessions.map(\.id), kind: "list") else { return }
        var lines = out.screen.wrap(catalog.text("repl.records_header", locale))
        let unnamed = catalog.text("terminal.records.unnamed_office", locale)
        for s in sessions {
            let started = Moment(epochMillis: s.startedAt, utcOffsetMinutes: clock.now().utcOffsetMinutes).iso
            let status = catalog.optionalText("run.status." + s.status.rawValue, locale) ?? s.status.rawValue
            let who = ClientListing.shown(found.names.names[s.id])
            // Her office beside her number: two offices' client 1024 are two people.
            let office = ClientListing.office(of: s, unnamed: unnamed)
            lines.append(ControlCharacters.visible(
                "  \(s.id)  \(started.prefix(16))  \(status)  \(s.dialogID)  \(office)  \(s.clientID ?? "—")  \(who)  \(s.counselor ?? "—")"))
        }
        out.show(lines)
    }

    /// A sheet of the session's record as it stands (also mid-interview).
    private func printSheet(_ kind: String) {
        // With a store, the record names her office, number and counselor as the stored one will.
        let record = session.runner.flatMap { runner in session.running.map { runner.record(session.state, of: $0) } }
            ?? engine.record(session.state).json
        let kinds = project.sheets.filter { $0.dialog == engine.dialog.id }.map(\.kind).sorted()
        guard !kinds.isEmpty else { return out.say(catalog.text("repl.sheet_none", locale)) }
        guard kinds.contains(kind) else {
            return out.say(catalog.text("repl.sheet_unknown", locale, ["kind": kind, "kinds": kinds.joined(separator: ", ")]))
        }
        do {
            let messages = Messages(catalog: catalog, locale: locale)
            let outcome = try SheetCommand.render(kind, of: record, named: messages.text("operations.cli.record.this_session"), locale: "ja",
                                                  project, messages: messages)
            // The session's record printed is a read in the audit trail first (a withheld sheet shows nothing of it).
            var footer: String?
            if !outcome.sheets.isEmpty, let id = session.running?.id, let store = session.store {
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                guard recordRead([id], kind: "sheet:" + kind, at: now) else { return }
                footer = SheetCommand.printedBy(store.identity, session: id, at: now, locale: "ja", project)
            }
            try SheetCommand.emit(outcome, footer: footer)
            fflush(nil)
        } catch {
            // A withheld sheet was named on standard error: nothing more to say.
        }
    }

    /// Writes the read of `sessions` to the audit trail (as the store's identity, at the wall
    /// clock's time); false, having told the counselor, when it could not be written.
    private func recordRead(_ sessions: [String], kind: String, at now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> Bool {
        guard let store = session.store else { return true }
        let out = self.out, catalog = self.catalog, locale = self.locale
        return ReadAudit.recordWaiting(sessions, kind: kind, in: store, say: { out.say($0) },
                                       text: { catalog.text($0, locale, $1) }, at: now)
    }

    /// Suspends this session and continues the one a token opens (a client's, from a kiosk).
    private mutating func resumeOther(_ text: String) throws {
        guard let runner = session.runner else { return }
        guard let token = ResumeToken(text: text) else {
            return out.say(catalog.text("repl.resume_unknown", locale))
        }
        let now = clock.now()
        do {
            // The session the token opens, found first: its read is audited (as `resume`) before
            // anything of it is shown, and when that cannot be written it is not opened.
            guard let info = try waitFor({ try await runner.session(resuming: token) }) else {
                return out.say(catalog.text("repl.resume_unknown", locale))
            }
            if SessionOpening.opens(info, engine: engine), !recordRead([info.id], kind: "resume") { return }
            let (running, effects) = try runner.resumeWaiting(info, mode: .counselor, actor: actor, at: now)
            var current = session
            do {
                _ = try current.suspend(actor: actor, at: now)
                if let t = current.token { out.say(catalog.text("run.suspended", locale, ["token": t.description])) }
            } catch RuntimeError.takenOver {
                // The one left behind was resumed elsewhere meanwhile: it is not this terminal's to suspend.
            }
            session = LineSession(engine: engine, runner: runner, running: running, token: token, state: running.state, effects: effects,
                                  actor: session.actor, store: session.store)
            lastReview = nil
            out.say(catalog.text("repl.resumed", locale))
            try opened(effects, resumed: true)
        } catch RuntimeError.finished {
            out.say(catalog.text("repl.resume_finished", locale))
        } catch RuntimeError.dialogChanged(let from, _) {
            out.say(catalog.text("repl.resume_other_dialog", locale, ["dialog": from]))
        } catch RuntimeError.tooLong {
            out.say(catalog.text("operations.run.session_too_long", locale, ["max": String(runner.maxEvents)]))
        } catch RuntimeError.damaged(let id) {
            out.say(catalog.text("integrity.damaged", locale, ["id": id]))
        }
    }
}
