// Benchmarks for the engine and the dialog loader: `swift run -c release IntakeBench [Dialogs]`.
// Prints a table; BENCHMARKS.md records the results with the command that produced them.
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore
import IntakeTesting

let dialogsPath = CommandLine.arguments.dropFirst().first ?? "Dialogs"
let loadRuns = Int(ProcessInfo.processInfo.environment["BENCH_LOAD_RUNS"] ?? "") ?? 50
let replayRuns = Int(ProcessInfo.processInfo.environment["BENCH_REPLAY_RUNS"] ?? "") ?? 200

func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// The CPU time of this process, every thread (the store's commit thread too), in nanoseconds.
func processCPU() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

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
    var dialog: String
    var engine: Engine
    /// The same engine walking everything at every step (no memo of the sections' sums).
    var plain: Engine
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
        scripts.append(Script(name: c.name, dialog: dialog.id, engine: Engine(dialog: dialog, catalog: project.catalog),
                              plain: Engine(dialog: dialog, catalog: project.catalog, memoizesWalks: false), locale: c.locale,
                              mode: c.mode, today: c.today, events: events))
    }
}

// Each run replays every conversation twice, interleaved: with the walk's memo (as intake runs)
// and without it (every step walks the whole dialog), so the two are compared in one sitting.
// BENCH_VARIANTS=memo: only the engine as intake runs it (for a profiler).
let variants = ProcessInfo.processInfo.environment["BENCH_VARIANTS"] == "memo" ? [true] : [true, false]
var stepTimes: [Bool: [UInt64]] = [:]
var stepTimesByDialog: [String: [UInt64]] = [:]
var conversationTimes: [Bool: [String: [UInt64]]] = [:]
var stepsPerRun = 0
/// What a step led to, for the table's breakdown: the p99 is set by the few steps that build the
/// final review or the record.
var stepTimesByOutcome: [String: [UInt64]] = [:]
func outcome(_ effects: [Effect]) -> String {
    if effects.contains(where: { if case .done = $0 { return true } else { return false } }) { return "that finishes (the record built)" }
    if effects.contains(where: { if case .review = $0 { return true } else { return false } }) { return "that shows a review" }
    if effects.contains(where: { if case .invalid = $0 { return true } else { return false } }) { return "refused (the question asked again)" }
    return "that asks the next question"
}
for run in 0..<replayRuns {
    for memo in variants {
        for s in scripts {
            let engine = memo ? s.engine : s.plain
            let start = nanos()
            var now = Moment.noon(of: s.today)
            var step = engine.start(locale: s.locale, mode: s.mode, at: now)
            for e in s.events {
                now.epochMillis += 60_000
                let t = nanos()
                step = engine.handle(e, step.state, at: now)
                let dt = nanos() - t
                if run > 0 {
                    stepTimes[memo, default: []].append(dt)
                    if memo {
                        stepTimesByDialog[s.dialog, default: []].append(dt)
                        stepTimesByOutcome[outcome(step.effects), default: []].append(dt)
                    }
                }
            }
            if run > 0 { conversationTimes[memo, default: [:]][s.name, default: []].append(nanos() - start) }
            if run == 0, memo { stepsPerRun += s.events.count }
        }
    }
}

// The same conversations with detours woven in (`Conversation.detoured`: going back, editing,
// Enter to keep). Timed: the steps that reopen answers and those taken while any stands reopened,
// with the memo and walking everything (as every such step did before the memo held reopened answers).
// BENCH_DETOURS=off leaves them out (to profile the conversations as written).
var reopenedTimes: [Bool: [UInt64]] = [:]
let detourRuns = ProcessInfo.processInfo.environment["BENCH_DETOURS"] == "off" ? 0 : replayRuns
for run in 0..<detourRuns {
    for memo in variants {
        for s in scripts {
            let engine = memo ? s.engine : s.plain
            var now = Moment.noon(of: s.today)
            var step = engine.start(locale: s.locale, mode: s.mode, at: now)
            for e in Conversation.detoured(s.events) {
                now.epochMillis += 60_000
                let reopens: Bool
                switch e {
                case .back, .edit: reopens = true
                default: reopens = !step.state.reopened.isEmpty
                }
                let t = nanos()
                step = engine.handle(e, step.state, at: now)
                let dt = nanos() - t
                if run > 0, reopens { reopenedTimes[memo, default: []].append(dt) }
            }
        }
    }
}

let questionCount = project.dialogs.values.reduce(0) { $0 + $1.index.questionOrder.count }
print("intake benchmark — \(project.dialogs.count) dialog(s), \(questionCount) questions, \(scripts.count) conversations, \(stepsPerRun) steps per replay")
print("")
print("| measure | runs | median | p99 |")
print("|---|---:|---:|---:|")
print("| load + lint all of \(dialogsPath) | \(loadRuns) | \(format(percentile(loadTimes, 0.5))) | \(format(percentile(loadTimes, 0.99))) |")
for memo in [true, false] {
    let t = stepTimes[memo] ?? []
    print("| one engine step (handle)\(memo ? "" : ", walking everything") | \(t.count) | \(format(percentile(t, 0.5))) | \(format(percentile(t, 0.99))) |")
}
for memo in variants {
    let t = reopenedTimes[memo] ?? []
    print("| one engine step going back or editing, or while answers stand reopened\(memo ? "" : ", walking everything") | \(t.count) | \(format(percentile(t, 0.5))) | \(format(percentile(t, 0.99))) |")
}
for (what, t) in stepTimesByOutcome.sorted(by: { $0.key < $1.key }) {
    print("| one engine step \(what) | \(t.count) | \(format(percentile(t, 0.5))) | \(format(percentile(t, 0.99))) |")
}
for (id, t) in stepTimesByDialog.sorted(by: { $0.key < $1.key }) {
    let n = project.dialogs[id]?.index.questionOrder.count ?? 0
    print("| one engine step, \(id) dialog (\(n) questions) | \(t.count) | \(format(percentile(t, 0.5))) | \(format(percentile(t, 0.99))) |")
}
for memo in [true, false] {
    // The whole intake conversations (personas and the rest, 80 steps or more).
    let long = scripts.filter { $0.dialog == "intake" && $0.events.count >= 80 }
    let medians = long.map { percentile(conversationTimes[memo]?[$0.name] ?? [], 0.5) }
    print("| whole intake conversation (\(long.count) of 80–140 steps), median of their medians\(memo ? "" : ", walking everything") | \(long.count) | \(format(percentile(medians, 0.5))) | \(format(medians.max() ?? 0)) (slowest) |")
}
for s in scripts {
    let times = conversationTimes[true]?[s.name] ?? []
    print("| whole conversation: \(s.name) (\(s.events.count) steps) | \(times.count) | \(format(percentile(times, 0.5))) | \(format(percentile(times, 0.99))) |")
}

// BENCH_ONLY=steps: the steps' table alone, in seconds, so that two builds can be run in turn
// several times (this shared machine's load moves a single run's timings by a third).
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "steps" { exit(0) }

// Writing a snapshot: each whole intake conversation's state before its last step (a session
// suspended just before finishing: the most answers a snapshot holds), written directly (as a
// snapshot is) and through JSONEncoder (as it was).
do {
    var direct: [UInt64] = [], throughEncoder: [UInt64] = [], sizes: [UInt64] = []
    for s in scripts where s.dialog == "intake" && s.events.count >= 80 {
        var now = Moment.noon(of: s.today)
        var step = s.engine.start(locale: s.locale, mode: s.mode, at: now)
        for e in s.events.dropLast() {
            now.epochMillis += 60_000
            step = s.engine.handle(e, step.state, at: now)
        }
        for _ in 0..<max(replayRuns, 5) {
            var t = nanos()
            let bytes = try step.state.storedData()
            direct.append(nanos() - t)
            t = nanos()
            _ = try JSONEncoder().encode(step.state)
            throughEncoder.append(nanos() - t)
            sizes.append(UInt64(bytes.count))
        }
    }
    let size = percentile(sizes, 0.5)
    print("| a snapshot written: a whole intake conversation's state (median \(size) bytes), directly | \(direct.count) | \(format(percentile(direct, 0.5))) | \(format(percentile(direct, 0.99))) |")
    print("| the same state through JSONEncoder (before) | \(throughEncoder.count) | \(format(percentile(throughEncoder, 0.5))) | \(format(percentile(throughEncoder, 0.99))) |")
} catch {
    print("| a snapshot written: failed (\(error)) | | | |")
}

// What periodic snapshots cost a session: each whole intake conversation run through the session
// runner into a SQLite file (as a kiosk runs it; `synchronous = OFF`, so that the disk's flushes,
// the same for every interval, do not drown the difference), the process's CPU time per turn, with
// a snapshot every 256 entries (none in a conversation of 80–140), 64 and 32, alternated.
do {
    let long = scripts.filter { $0.dialog == "intake" && $0.events.count >= 80 }
    let intervals = [256, 64, 32]
    let rounds = max(3, replayRuns / 4)
    let (perTurn, snapshots) = try ResumeBench.wait { () async throws -> ([Int: [UInt64]], [Int: Int]) in
        var perTurn: [Int: [UInt64]] = [:], snapshots: [Int: Int] = [:]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-snapcost-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try IntakeDatabase.open(path: path)
        try await database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
        var n = 0
        for round in 0..<rounds {
            for s in long {
                for interval in round % 2 == 0 ? intervals : intervals.reversed() {
                    var runner = SessionRunner(engine: s.engine, store: database.store)
                    runner.snapshotInterval = interval
                    n += 1
                    var now = Moment.noon(of: s.today)
                    let t = processCPU()
                    var (session, _) = try await runner.start(id: "c\(n)", token: ResumeToken(bytes: (0..<16).map { UInt8(truncatingIfNeeded: n >> (($0 % 4) * 8)) &+ UInt8($0) }),
                                                              locale: s.locale, mode: s.mode, actor: .client, at: now)
                    for e in s.events {
                        now.epochMillis += 60_000
                        _ = try await runner.handle(e, in: &session, actor: .client, at: now)
                    }
                    perTurn[interval, default: []].append((processCPU() - t) / UInt64(s.events.count + 1))
                    if round == 0 { snapshots[interval, default: 0] += (session.snapshotSeq ?? 0) / interval }
                }
            }
        }
        return (perTurn, snapshots)
    }
    for interval in intervals {
        let xs = perTurn[interval] ?? []
        print("| a whole intake conversation through the runner into SQLite, CPU per turn, a snapshot every \(interval) entries (\(snapshots[interval] ?? 0) periodic snapshots in \(long.count) conversations) | \(xs.count) | \(format(percentile(xs, 0.5))) | \(format(percentile(xs, 0.99))) |")
    }
} catch {
    print("| periodic snapshots' cost: failed (\(error)) | | | |")
}

// 3. Resume of a long session from the store (ResumeBench.swift).
for line in ResumeBench.rows(project) { print(line) }
