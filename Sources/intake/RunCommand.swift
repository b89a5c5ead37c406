import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs a dialog in plain line mode on standard input and output (scriptable)."
    )

    @Option(help: "The dialog to run (default: intake).")
    var dialog: String?

    @Option(help: "Language of the dialog: ja, en, … (switch later with :lang).")
    var locale = "ja"

    @Option(help: "kiosk (a client alone) or counselor (counselor-only questions too).")
    var mode = "kiosk"

    @Option(help: "The session's date, YYYY-MM-DD (default: today), for scripted runs.")
    var today: String?

    @Option(help: "Where the dialogs are.")
    var dialogs = "Dialogs"

    @Flag(help: "Print the finished record as JSON, alone on standard output (the questions and messages then go to standard error), so `> record.json` holds just the record.")
    var printRecord = false

    @Option(help: "Keep the session in this database (every answer on disk before the next question); without it nothing is stored.")
    var db: String?

    @Option(help: "Resume the suspended session this token opens (with --db).")
    var resume: String?

    @Option(help: "A key file: answers are sealed with it in the database (with --db).")
    var key: String?

    @Option(help: "A counselor resumes a session chosen from `intake records list` by its id (with --db and --counselor).")
    var resumeSession: String?

    @Option(help: "A counselor runs the interview (a display name): each answer is recorded as hers, under the database login (PostgreSQL) or the operating-system account (SQLite) — never a typed name; without it, the client.")
    var counselor: String?

    @Option(help: "The client this consultation belongs to: her number in the office given by --office (two offices' same number are two clients), for visits and the monthly report.")
    var client: String?

    @Option(help: "The office: the client's number is this office's, and the monthly report counts per office.")
    var office: String?

    @Flag(help: "With --client: ask everything afresh, not starting from the client's last record.")
    var fresh = false

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let loaded = try project.loadRunnable([dialogs])
        let usage = Messages(catalog: loaded.catalog, locale: project.messageLocale)
        guard let d = loaded.dialog(dialog) else {
            throw usage.error("operations.cli.unknown_dialog", ["dialog": dialog ?? "intake", "known": loaded.dialogs.keys.sorted().joined(separator: ", ")])
        }
        guard let sessionMode = SessionState.Mode(rawValue: mode) else {
            throw usage.error("operations.cli.unknown_mode", ["mode": mode])
        }
        var clock = Clock()
        if let today {
            guard let date = CivilDate(iso: today) else { throw usage.error("operations.cli.not_a_date", ["value": today]) }
            clock.fixed = Moment.noon(of: date)
        }
        let engine = Engine(dialog: d, catalog: loaded.catalog)
        let renderer = LineRenderer(catalog: loaded.catalog, toStandardError: printRecord)
        let opening = SessionOpening(db: db, key: key, resume: resume, resumeSession: resumeSession, counselor: counselor,
                                     client: client, office: office, fresh: fresh, locale: locale, mode: sessionMode,
                                     messageLocale: project.messageLocale)
        var session = try opening.open(engine, counselorActs: counselor != nil, now: clock.now())
        let actor = session.actor
        renderer.show(session.effects, locale: session.state.locale)
        lines: while let line = readLine(strippingNewline: true) {
            switch LineInput.parse(line) {
            case .event(let e):
                let effects: [Effect]
                do {
                    effects = try session.handle(e, actor: actor, at: clock.now())
                } catch RuntimeError.tooLong {
                    renderer.say(loaded.catalog.text("operations.run.session_too_long", session.state.locale,
                                                     ["max": String(session.runner?.maxEvents ?? 0)]))
                    break lines
                } catch {
                    // Not saved, or taken over by another process: say so, suspend where possible, show the token.
                    throw ExitCode(session.stop(after: error, actor: actor, at: clock.now(), catalog: loaded.catalog, say: renderer.say))
                }
                renderer.show(effects, locale: session.state.locale)
                if case .done(let status) = session.state.phase {
                    if printRecord, let record = engine.lastRecord(session.state) { print(record.json.rendered(pretty: true)) }
                    throw status == "complete" ? ExitCode.success : ExitCode(2)
                }
            case .help:
                renderer.say(loaded.catalog.text("run.help", session.state.locale))
                renderer.show(engine.current(session.state), locale: session.state.locale)
            case .quit:
                break
            case .unknownCommand(let w), .missingArgument(let w):
                renderer.say(loaded.catalog.text("run.unknown_command", session.state.locale, ["command": ":" + w]))
                renderer.show(engine.current(session.state), locale: session.state.locale)
            }
            if case .quit = LineInput.parse(line) { break }
        }
        // The end of input or :quit: a stored session is suspended, and its token shown.
        let suspended: Bool
        do {
            suspended = try session.suspend(actor: actor, at: clock.now())
        } catch RuntimeError.takenOver {
            renderer.say(loaded.catalog.text("shared_db.taken_over", session.state.locale))
            throw ExitCode(LineSession.exitTakenOver)
        } catch {
            // Not suspended: still in progress, and its token resumes it all the same.
            session.sayHowToResume(catalog: loaded.catalog, say: renderer.say)
            throw ExitCode(LineSession.exitNotSaved)
        }
        if suspended {
            if let token = session.token {
                renderer.say(loaded.catalog.text("run.suspended", session.state.locale, ["token": token.description]))
            } else {
                renderer.say(loaded.catalog.text("run.suspended_listed", session.state.locale))
            }
        }
    }
}

/// How a line-mode or REPL session is opened: without a database (nothing stored), new (starting
/// from the client's last record when she has one), or resumed by token or, for a counselor, by id.
struct SessionOpening {
    var db: String?
    var key: String?
    var resume: String?
    var resumeSession: String?
    /// The counselor's display name (shown, never stored: her identity is the store's).
    var counselor: String?
    var client: String?
    var office: String?
    var fresh = false
    var locale: String
    var mode: SessionState.Mode
    /// The language of what is said to the person at the command line about it (`--lang`, else LANG).
    var messageLocale: String

    /// A damaged session (or a damaged last record of the client) is named, exit 1. `counselorActs`:
    /// a counselor is at the keyboard, and what she does is recorded under the store's identity
    /// (the database login, or the operating-system account); otherwise the client.
    func open(_ engine: Engine, counselorActs: Bool, now: Moment) throws -> LineSession {
        try reportingDamage { try openChecked(engine, counselorActs: counselorActs, now: now) }
    }

    private func openChecked(_ engine: Engine, counselorActs: Bool, now: Moment) throws -> LineSession {
        // Why the command line cannot be acted on: in the language of `--lang`, else LANG.
        let usage = Messages(catalog: engine.catalog, locale: messageLocale)
        guard let db else {
            if resume != nil { throw usage.error("operations.cli.resume_needs_db") }
            let step = engine.start(locale: locale, mode: mode, at: now)
            // Nothing is stored: the actor is never written.
            let actor: Actor = counselorActs ? .counselor(counselor ?? "") : .client
            return LineSession(engine: engine, runner: nil, running: nil, token: nil, state: step.state, effects: step.effects, actor: actor)
        }
        let messages = Messages(catalog: engine.catalog, locale: locale)
        let store = try waitFor { [key] in try await DatabaseOptions.openAny(db, key: key, access: .write, messages: messages) }
        let runner = SessionRunner(engine: engine, store: store)
        let actor: Actor = counselorActs ? .counselor(store.identity) : .client
        if let id = resumeSession {
            guard counselorActs else { throw usage.error("operations.cli.resume_session_for_counselor") }
            guard let info = try waitFor({ try await store.session(id) }) else { throw usage.error("operations.cli.no_session", ["id": id]) }
            try recordResume(info, engine: engine, in: store, messages: messages)
            do {
                let (running, effects) = try runner.resumeWaiting(info, mode: mode, actor: actor, at: now)
                return LineSession(engine: engine, runner: runner, running: running, token: nil, state: running.state, effects: effects,
                                   actor: actor, store: store)
            } catch RuntimeError.finished {
                throw usage.error("operations.cli.session_finished")
            } catch RuntimeError.dialogChanged(let from, _) {
                throw usage.error("operations.cli.session_other_dialog", ["dialog": from])
            } catch RuntimeError.tooLong {
                throw tooLong(runner)
            }
        }
        if let resume {
            guard let token = ResumeToken(text: resume) else { throw usage.error("operations.cli.not_a_resume_token", ["token": resume]) }
            // The session the token opens, found first: its read is audited before it is resumed.
            guard let info = try waitFor({ try await runner.session(resuming: token) }) else {
                throw usage.error("operations.cli.no_suspended_session")
            }
            try recordResume(info, engine: engine, in: store, messages: messages)
            do {
                let (running, effects) = try runner.resumeWaiting(info, mode: mode, actor: actor, at: now)
                return LineSession(engine: engine, runner: runner, running: running, token: token, state: running.state, effects: effects,
                                   actor: actor, store: store)
            } catch RuntimeError.finished {
                throw usage.error("operations.cli.session_finished")
            } catch RuntimeError.dialogChanged(let from, _) {
                throw usage.error("operations.cli.session_other_dialog", ["dialog": from])
            } catch RuntimeError.tooLong {
                throw tooLong(runner)
            }
        }
        let (token, id) = ResumeToken.forNewSession()
        // A client who was here before: each section of her last record is shown for her to confirm or change.
        let dialog = engine.dialog
        // Her last records' answers are shown to whoever runs the session: the read is audited first
        // (as `visit`), and nothing is shown when it cannot be.
        let carrying = try client.flatMap { client -> Carried? in
            guard !fresh else { return nil }
            let records = try waitFor { try await store.records(ofClient: ClientKey(office: office, number: client)) }
            guard !records.isEmpty else { return nil }
            try waitFor { try await ReadAudit.record(records.map(\.session.id), kind: "visit", in: store, messages: messages) }
            return try Carried.from(records, into: dialog)
        }
        let (running, effects) = try runner.startWaiting(id: id, token: token, locale: locale, mode: mode, actor: actor,
                                                  clientID: client, office: office, carrying: carrying, at: now)
        return LineSession(engine: engine, runner: runner, running: running, token: token, state: running.state, effects: effects,
                                   actor: actor, store: store)
    }
}

extension SessionOpening {
    /// A stored session resumed here shows what was answered in it (the question it stopped at, a
    /// counselor's handover review): whoever runs the terminal reads it, so the read is in the
    /// session's access history (as `resume`, under the store's identity) before anything of it is
    /// shown; when it cannot be written, nothing is (`ReadAudit`, exit 74). A session that will
    /// not open here (finished, another dialog) shows nothing and is no read.
    func recordResume(_ info: SessionInfo, engine: Engine, in store: any Store, messages: Messages) throws {
        guard SessionOpening.opens(info, engine: engine) else { return }
        try waitFor { try await ReadAudit.record([info.id], kind: "resume", in: store, messages: messages) }
    }

    /// Whether `info` resumes under `engine` (what `SessionRunner.resume` refuses before it reads
    /// anything: a finished session, one of another dialog).
    static func opens(_ info: SessionInfo, engine: Engine) -> Bool {
        info.status != .complete && info.status != .stopped && info.dialogID == engine.dialog.id
    }

    /// A session at its log's maximum is not resumed: says so, exits 1 (not a usage error).
    func tooLong(_ runner: SessionRunner) -> ExitCode {
        printError(runner.engine.catalog.text("operations.run.session_too_long", locale, ["max": String(runner.maxEvents)]))
        return ExitCode(1)
    }
}

/// A line-mode session: the engine alone, or a stored session (each answer logged before it is shown).
struct LineSession {
    let engine: Engine
    let runner: SessionRunner?
    var running: RunningSession?
    let token: ResumeToken?
    var state: SessionState
    let effects: [Effect]
    /// Who acts in this session: the client, or a counselor under the store's identity.
    let actor: Actor
    /// The database the session is kept in, behind the `Store` protocol (what the REPL lists);
    /// nil when nothing is stored.
    var store: (any Store)? = nil

    mutating func handle(_ event: Event, actor: Actor, at now: Moment) throws -> [Effect] {
        guard let runner, var running else {
            let step = engine.handle(event, state, at: now)
            state = step.state
            return step.effects
        }
        let effects = try runner.handleWaiting(event, in: &running, actor: actor, at: now)
        self.running = running
        state = running.state
        return effects
    }

    /// Suspends a stored, unfinished session. Returns whether it did.
    mutating func suspend(actor: Actor, at now: Moment) throws -> Bool {
        guard let runner, var running else { return false }
        if case .done = state.phase { return false }
        try runner.suspendWaiting(&running, actor: actor, at: now)
        self.running = running
        return true
    }
}

/// The wall clock, read here at the edge (the engine reads none); fixed for scripted runs.
struct Clock {
    var fixed: Moment?
    private var ticks: Int64 = 0

    mutating func now() -> Moment {
        if var f = fixed {
            ticks += 1
            f.epochMillis += ticks * 1000
            return f
        }
        let ms = Int64(Date().timeIntervalSince1970 * 1000)
        return Moment(epochMillis: ms, utcOffsetMinutes: TimeZone.current.secondsFromGMT() / 60)
    }
}
