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

    @Option(help: "The counselor's name as shown on the screen. What she does is recorded under her database login (PostgreSQL) or her operating-system account (SQLite), never under a typed name.")
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
        let usage = Messages(catalog: loaded.catalog, locale: project.messageLocale)
        guard let d = loaded.dialog(dialog) else {
            throw usage.error("operations.cli.unknown_dialog", ["dialog": dialog ?? "intake", "known": loaded.dialogs.keys.sorted().joined(separator: ", ")])
        }
        var clock = Clock()
        if let today {
            guard let date = CivilDate(iso: today) else { throw usage.error("operations.cli.not_a_date", ["value": today]) }
            clock.fixed = Moment.noon(of: date)
        }
        let terminal = isatty(0) == 1 && isatty(1) == 1
        var source: any LineSource = terminal ? ReadlineSource(historyFile: historyPath()) : PlainSource()
        let out = Output(screen: CounselorScreen(catalog: loaded.catalog, width: terminal ? FileHandle.columns() : 80))
        // Who she is comes from the store (her login, or the operating-system account); the name is only shown.
        let display = counselor?.trimmingCharacters(in: .whitespaces).prefix(80)
        let engine = Engine(dialog: d, catalog: loaded.catalog)
        let opening = SessionOpening(db: db, key: key, resume: resume, resumeSession: resumeSession, counselor: display.map(String.init),
                                     client: client, office: office, fresh: fresh, locale: locale, mode: .counselor,
                                     messageLocale: project.messageLocale)
        let session = try opening.open(engine, counselorActs: true, now: clock.now())
        var interview = Interview(engine: engine, project: loaded, session: session, clock: clock, out: out, terminal: terminal)
        // A long review a page at a time at a terminal; line by line for scripts.
        interview.pager = terminal ? .terminal : nil
        let identity: String = { if case .counselor(let id) = session.actor { return id } else { return "" } }()
        let shown = [display.map(String.init), identity].compactMap { $0?.isEmpty == false ? $0 : nil }
        out.say(loaded.catalog.text("repl.welcome", session.state.locale,
                                    ["dialog": loaded.catalog.text(d.title, session.state.locale),
                                     "counselor": shown.count == 2 && shown[0] != shown[1] ? "\(shown[0])（\(shown[1])）" : (shown.first ?? "—")]))
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
