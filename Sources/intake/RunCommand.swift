import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine

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

    @Flag(help: "Print the finished record as JSON.")
    var printRecord = false

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let loaded = project.load([dialogs])
        let messages = project.messageLocale
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            for d in errors { printError(d.rendered(loaded.catalog, locale: messages)) }
            throw ExitCode(1)
        }
        guard let d = loaded.dialog(dialog) else {
            throw ValidationError("unknown dialog '\(dialog ?? "intake")'; known: \(loaded.dialogs.keys.sorted().joined(separator: ", "))")
        }
        guard let sessionMode = SessionState.Mode(rawValue: mode) else {
            throw ValidationError("unknown mode '\(mode)'; use kiosk or counselor")
        }
        var clock = Clock()
        if let today {
            guard let date = CivilDate(iso: today) else { throw ValidationError("'\(today)' is not a date written YYYY-MM-DD") }
            clock.fixed = Moment.noon(of: date)
        }
        let engine = Engine(dialog: d, catalog: loaded.catalog)
        var step = engine.start(locale: locale, mode: sessionMode, at: clock.now())
        let renderer = LineRenderer(catalog: loaded.catalog)
        renderer.show(step.effects, locale: step.state.locale)
        while let line = readLine(strippingNewline: true) {
            switch LineInput.parse(line) {
            case .event(let e):
                step = engine.handle(e, step.state, at: clock.now())
                renderer.show(step.effects, locale: step.state.locale)
                if case .done(let status) = step.state.phase {
                    if printRecord, let record = engine.lastRecord(step.state) { print(record.json.rendered(pretty: true)) }
                    throw status == "complete" ? ExitCode.success : ExitCode(2)
                }
            case .help:
                renderer.say(loaded.catalog.text("run.help", step.state.locale))
                renderer.show(engine.current(step.state), locale: step.state.locale)
            case .quit:
                return
            case .unknownCommand(let w), .missingArgument(let w):
                renderer.say(loaded.catalog.text("run.unknown_command", step.state.locale, ["command": ":" + w]))
                renderer.show(engine.current(step.state), locale: step.state.locale)
            }
        }
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
