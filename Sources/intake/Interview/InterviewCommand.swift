import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeTerminal

/// The counselor's terminal: `intake` with no arguments. A guided interview on the default dialog
/// and database, with readline at a terminal and plain lines otherwise.
struct InterviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interview",
        abstract: "The counselor's guided interview (the default): readline editing, history of commands (never of answers), Tab completion; every answer stored before the next question."
    )

    @Option(help: "The dialog (default: intake).")
    var dialog: String?

    @Option(help: "Where the dialogs are.")
    var dialogs = "Dialogs"

    @Option(help: "The database: a SQLite file (created on first use; default intake.sqlite, or $INTAKE_DB), or postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ~/.pgpass, never in the URL).")
    var db = StoreLocation.defaultDB

    @Option(help: "A key file (from `intake new-key`): answers are sealed with it in the database.")
    var key: String?

    @Option(help: "The counselor's name (asked for when not given); recorded with every answer.")
    var counselor: String?

    @Option(help: "The client's number in the office given by --office: a later visit starts from her last record there.")
    var client: String?

    @Option(help: "The office: the client's number is this office's, and the monthly report counts per office.")
    var office: String?

    @Flag(help: "With --client: ask everything afresh, not starting from her last record.")
    var fresh = false

    @Option(help: "Language of the dialog: ja, en, ja-easy (switch later with :lang).")
    var locale = "ja"

    @Option(help: "Continue the session this resume token opens (e.g. one a client started at a kiosk).")
    var resume: String?

    @Option(help: "Continue a session from `intake records list` by its id.")
    var resumeSession: String?

    @Option(help: "The session's date, YYYY-MM-DD (default: today), for scripted runs.")
    var today: String?

    @Option(help: "The command history file (commands only, never answers); 'none' keeps no history.")
    var history: String?

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let loaded = try project.loadRunnable([dialogs])
        guard let d = loaded.dialog(dialog) else {
            throw ValidationError("unknown dialog '\(dialog ?? "intake")'; known: \(loaded.dialogs.keys.sorted().joined(separator: ", "))")
        }
        var clock = Clock()
        if let today {
            guard let date = CivilDate(iso: today) else { throw ValidationError("'\(today)' is not a date written YYYY-MM-DD") }
            clock.fixed = Moment.noon(of: date)
        }
        let terminal = isatty(0) == 1 && isatty(1) == 1
        var source: any LineSource = terminal ? ReadlineSource(historyFile: historyPath()) : PlainSource()
        let out = Output(screen: CounselorScreen(catalog: loaded.catalog, width: terminal ? FileHandle.columns() : 80))
        // The counselor is named: by flag, or asked first.
        var name = counselor?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty {
            guard case .line(let typed) = source.read(prompt: loaded.catalog.text("repl.counselor_prompt", locale)) else {
                throw ValidationError(loaded.catalog.text("repl.counselor_needed", locale))
            }
            name = typed.trimmingCharacters(in: .whitespaces)
            if !terminal { out.say("") }
        }
        guard !name.isEmpty, name.count <= 80 else { throw ValidationError(loaded.catalog.text("repl.counselor_needed", locale)) }
        let engine = Engine(dialog: d, catalog: loaded.catalog)
        let opening = SessionOpening(db: db, key: key, resume: resume, resumeSession: resumeSession, counselor: name,
                                     client: client, office: office, fresh: fresh, locale: locale, mode: .counselor)
        let session = try opening.open(engine, actor: .counselor(name), now: clock.now())
        var interview = Interview(engine: engine, project: loaded, session: session, counselor: name, clock: clock,
                                  out: out, terminal: terminal)
        out.say(loaded.catalog.text("repl.welcome", session.state.locale,
                                    ["dialog": loaded.catalog.text(d.title, session.state.locale), "counselor": name]))
        try interview.opened(session.effects, resumed: resume != nil || resumeSession != nil)
        try interview.loop(&source)
    }

    /// `--history`, else `$INTAKE_HISTORY`, else `~/.intake_history`; `none` for no file.
    private func historyPath() -> String? {
        let chosen = history ?? ProcessInfo.processInfo.environment["INTAKE_HISTORY"]
        if chosen == "none" { return nil }
        if let chosen { return chosen }
        return ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.intake_history" }
    }
}

/// Prints lines at once (a terminal shows a whole question, not half of one).
struct Output {
    var screen: CounselorScreen

    func say(_ text: String) { show(screen.wrap(text)) }

    func show(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        print(lines.joined(separator: "\n"))
        fflush(nil)
    }
}
