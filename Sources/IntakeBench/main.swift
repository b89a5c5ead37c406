// Benchmarks for the engine and the dialog loader: `swift run -c release IntakeBench [Dialogs]`.
// Prints a table; BENCHMARKS.md records the results with the command that produced them.
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeTesting

let dialogsPath = CommandLine.arguments.dropFirst().first ?? "Dialogs"
let loadRuns = Int(ProcessInfo.processInfo.environment["BENCH_LOAD_RUNS"] ?? "") ?? 50
let replayRuns = Int(ProcessInfo.processInfo.environment["BENCH_REPLAY_RUNS"] ?? "") ?? 200

func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func percentile(_ xs: [UInt64], _ p: Double) -> UInt64 {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}

func format(_ ns: UInt64) -> String {
    if ns >= 1_000_000 { return String(format: "%.2f ms", Double(ns) / 1e6) }
    if ns >= 1_000 { return String(format: "%.2f µs", Double(ns) / 1e3) }
    return "\(ns) ns"
}

// 1. Load + lint every dialog, locale and module.
var loadTimes: [UInt64] = []
var project = Project()
for _ in 0..<loadRuns {
    let t = nanos()
    project = Project.load(paths: [dialogsPath])
    loadTimes.append(nanos() - t)
}
guard project.diagnostics.errorCount == 0 else {
    for d in project.diagnostics { print(d.rendered(project.catalog, locale: "en")) }
    exit(1)
}

// 2. Replay every test conversation in-process (no save/restore), timing each engine step.
struct Script {
    var name: String
    var engine: Engine
    var locale: String
    var mode: SessionState.Mode
    var today: CivilDate
    var events: [Event]
}

var scripts: [Script] = []
for file in project.conversationFiles {
    for c in ConversationParser.parse(file: file).0 {
        guard let dialog = project.dialog(c.dialog) else { continue }
        var events: [Event] = []
        for step in c.steps {
            switch step {
            case .answer(_, .event(let e), _), .command(.event(let e), _): events.append(e)
            default: break
            }
        }
        scripts.append(Script(name: c.name, engine: Engine(dialog: dialog, catalog: project.catalog), locale: c.locale,
                              mode: c.mode, today: c.today, events: events))
    }
}

var stepTimes: [UInt64] = []
var conversationTimes: [String: [UInt64]] = [:]
var stepsPerRun = 0
for run in 0..<replayRuns {
    for s in scripts {
        let start = nanos()
        var now = Moment.noon(of: s.today)
        var step = s.engine.start(locale: s.locale, mode: s.mode, at: now)
        for e in s.events {
            now.epochMillis += 60_000
            let t = nanos()
            step = s.engine.handle(e, step.state, at: now)
            if run > 0 { stepTimes.append(nanos() - t) }
        }
        if run > 0 { conversationTimes[s.name, default: []].append(nanos() - start) }
        if run == 0 { stepsPerRun += s.events.count }
    }
}

let questionCount = project.dialogs.values.reduce(0) { $0 + $1.index.questionOrder.count }
print("intake benchmark — \(project.dialogs.count) dialog(s), \(questionCount) questions, \(scripts.count) conversations, \(stepsPerRun) steps per replay")
print("")
print("| measure | runs | median | p99 |")
print("|---|---:|---:|---:|")
print("| load + lint all of \(dialogsPath) | \(loadRuns) | \(format(percentile(loadTimes, 0.5))) | \(format(percentile(loadTimes, 0.99))) |")
print("| one engine step (handle) | \(stepTimes.count) | \(format(percentile(stepTimes, 0.5))) | \(format(percentile(stepTimes, 0.99))) |")
for s in scripts {
    let times = conversationTimes[s.name] ?? []
    print("| whole conversation: \(s.name) (\(s.events.count) steps) | \(times.count) | \(format(percentile(times, 0.5))) | \(format(percentile(times, 0.99))) |")
}

// 3. Resume of a long session from the store (ResumeBench.swift).
for line in ResumeBench.rows(project) { print(line) }
