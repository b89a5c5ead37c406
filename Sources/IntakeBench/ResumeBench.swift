// Resume of a long session (issue 18): a session of N events built through the session runner
// into a temporary SQLite file and suspended, then resumed again and again. Rows: restoring it (the
// newest snapshot — the suspension's — and the entries after it, read and replayed: what a resume
// computes), the same for a session never suspended (a killed process, at the worst moment), the whole resume
// (that, and the resume entry committed: WAL, synchronous = FULL, as production writes it), and
// for comparison the replay of its whole log (what every resume cost before snapshots).
// BENCH_RESUME_EVENTS=1000,40000 (default) sets the sizes; BENCH_RESUME_RUNS the runs (default 30).
import Foundation
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore

enum ResumeBench {
    static let sizes = (ProcessInfo.processInfo.environment["BENCH_RESUME_EVENTS"] ?? "1000,40000")
        .split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    static let runs = Int(ProcessInfo.processInfo.environment["BENCH_RESUME_RUNS"] ?? "") ?? 30

    /// The table rows (`| measure | runs | median | p99 |`), or a line that says why there are none.
    static func rows(_ project: Project) -> [String] {
        guard let dialog = project.dialogs["intake"] else { return ["| resume: no intake dialog | | | |"] }
        let engine = Engine(dialog: dialog, catalog: project.catalog)
        do {
            return try sizes.flatMap { n in try wait { try await measure(engine, events: n) } }
        } catch {
            return ["| resume: failed (\(error)) | | | |"]
        }
    }

    /// A kiosk session's inputs: the first questions answered, then going back and answering the
    /// same again, editing, switching language, asking again (no notes: a state that grows with
    /// every event would measure its own size).
    static func events(_ count: Int) -> [Event] {
        let forward = ["はい", "はい", "5", "3", "5", "1", "いいえ", "山田 花子", "やまだ はなこ", "平成6年7月15日", "川越市"]
        var out: [Event] = forward.map { .answer($0) }
        var i = 0
        while out.count < count {
            switch i % 6 {
            case 0: out.append(.back)
            case 1: out.append(.answer("川越市"))
            case 2: out.append(.edit("name"))
            case 3: out.append(.answer("山田 花子"))
            case 4: out.append(.locale(i % 12 == 4 ? "en" : "ja"))
            default: out.append(.repeatQuestion)
            }
            i += 1
        }
        return Array(out.prefix(count))
    }

    static func measure(_ engine: Engine, events n: Int) async throws -> [String] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-resume-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let t0 = Moment(epochMillis: 1_790_000_000_000, utcOffsetMinutes: 540)
        func at(_ i: Int) -> Moment { Moment(epochMillis: t0.epochMillis + Int64(i) * 1_000, utcOffsetMinutes: 540) }
        // Built without waiting for the disk at every entry (the building is not measured); then
        // opened again as production opens it.
        do {
            let build = try IntakeDatabase.open(path: path)
            try await build.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = OFF") }
            var runner = SessionRunner(engine: engine, store: build.store)
            runner.maxEvents = n + 1_000
            var (session, _) = try await runner.start(id: "long", token: ResumeToken(bytes: Array(repeating: 1, count: 16)), locale: "ja",
                                                      mode: .kiosk, actor: .client, at: at(0))
            for (i, e) in events(n).enumerated() { _ = try await runner.handle(e, in: &session, actor: .client, at: at(i + 1)) }
            try await runner.suspend(&session, actor: .client, at: at(n + 1))
            // The same inputs, never suspended: what a killed process leaves (periodic snapshots
            // only), killed at the worst moment: just before its next snapshot was due (the most
            // entries after the last one), at the runner's interval and, for comparison, at 256 (before).
            for (id, interval) in [("killed", runner.snapshotInterval), ("killed-256", 256)] {
                var killer = runner
                killer.snapshotInterval = interval
                var (killed, _) = try await killer.start(id: id, token: ResumeToken(bytes: Array(repeating: id == "killed" ? 2 : 3, count: 16)),
                                                         locale: "ja", mode: .kiosk, actor: .client, at: at(0))
                for (i, e) in events(worstCount(n, interval)).enumerated() {
                    _ = try await killer.handle(e, in: &killed, actor: .client, at: at(i + 1))
                }
            }
        }
        let store = try IntakeDatabase.open(path: path).store
        var runner = SessionRunner(engine: engine, store: store)
        runner.maxEvents = n + 1_000 + runs
        guard let info = try await store.session("long") else { return ["| resume of \(n) events: no session | | | |"] }
        var restoring: [UInt64] = [], resuming: [UInt64] = [], replaying: [UInt64] = []
        var from = 0
        for i in 0..<runs {
            var t = nanos()
            let restored = try await runner.restore(info)
            restoring.append(nanos() - t)
            from = restored.nextSeq - 1 - (restored.snapshotSeq ?? -1)
            t = nanos()
            _ = try await runner.resume(info, mode: .kiosk, actor: .client, at: at(n + 10 + i))
            resuming.append(nanos() - t)
        }
        // The part of a restore that decodes the snapshot's state.
        var decoding: [UInt64] = [], throughDecoder: [UInt64] = []
        var stateBytes = 0
        if let snapshot = try await store.resumeLog(of: "long").snapshot {
            stateBytes = snapshot.state.count
            for _ in 0..<runs {
                var t = nanos()
                _ = try SessionState.decoding(stored: snapshot.parts.state)
                decoding.append(nanos() - t)
                t = nanos()
                _ = try JSONDecoder().decode(SessionState.self, from: snapshot.parts.state)
                throughDecoder.append(nanos() - t)
            }
        }
        // Restored alternately (a restore reads whatever snapshot is stored, at any interval).
        var afterKill: [String: [UInt64]] = [:], killedFrom: [String: Int] = [:]
        for _ in 0..<runs {
            for id in ["killed", "killed-256"] {
                guard let killedInfo = try await store.session(id) else { return ["| resume of \(n) events: no session | | | |"] }
                let t = nanos()
                let restored = try await runner.restore(killedInfo)
                afterKill[id, default: []].append(nanos() - t)
                killedFrom[id] = restored.nextSeq - 1 - (restored.snapshotSeq ?? -1)
            }
        }
        let (killed, killed256) = (afterKill["killed"] ?? [], afterKill["killed-256"] ?? [])
        // That restore's reading alone: the store's rows read, opened and checked against the chain.
        var storeReading: [UInt64] = []
        for _ in 0..<runs {
            let t = nanos()
            _ = try await store.resumeLog(of: "killed")
            storeReading.append(nanos() - t)
        }
        // That restore's replay alone, as it is (the state only) and as it was (each step rendering
        // its question, and a whole walk more to show where a locale switch or a repeat left it).
        var tailQuiet: [UInt64] = [], tailRendering: [UInt64] = []
        let killedLog = try await store.resumeLog(of: "killed")
        if let snapshot = killedLog.snapshot, let base = try? SessionState.decoding(stored: snapshot.parts.state) {
            for _ in 0..<runs {
                var t = nanos()
                _ = runner.replay(killedLog.entries, from: base)
                tailQuiet.append(nanos() - t)
                t = nanos()
                var state = base
                for entry in killedLog.entries {
                    if case .input(let event) = entry.event { _ = engine.apply(event, to: &state, at: entry.at) }
                }
                tailRendering.append(nanos() - t)
            }
        }
        // Reading those entries' stored texts back (the event and the answers it changed): directly,
        // as a restore reads them, and through JSONDecoder, as every restore did before.
        var readDirect: [UInt64] = [], readDecoder: [UInt64] = []
        let texts = killedLog.entries.map { e in ((try? e.event.storedJSON()) ?? "", e.answers.map { (try? AnswerChange.storedJSON($0)) ?? "" }) }
        for _ in 0..<runs {
            var t = nanos()
            for (event, answers) in texts {
                _ = try LogEvent.decoding(stored: event)
                if let answers { _ = try AnswerChange.decoding(stored: answers) }
            }
            readDirect.append(nanos() - t)
            t = nanos()
            for (event, answers) in texts {
                _ = try JSONDecoder().decode(LogEvent.self, from: Data(event.utf8))
                if let answers { _ = try JSONDecoder().decode([AnswerChange].self, from: Data(answers.utf8)) }
            }
            readDecoder.append(nanos() - t)
        }
        for _ in 0..<min(runs, n > 10_000 ? 5 : runs) {
            let t = nanos()
            _ = try runner.replay(try await store.log(of: "long"))
            replaying.append(nanos() - t)
        }
        let name = "resume of a session with \(grouped(n)) events"
        return [
            "| \(name): restore (snapshot + \(from) entries) | \(restoring.count) | \(format(percentile(restoring, 0.5))) | \(format(percentile(restoring, 0.99))) |",
            "| \(name): resume (restore + its entry committed) | \(resuming.count) | \(format(percentile(resuming, 0.5))) | \(format(percentile(resuming, 0.99))) |",
            "| \(name): the snapshot's state (\(grouped(stateBytes)) bytes) read alone | \(decoding.count) | \(format(percentile(decoding, 0.5))) | \(format(percentile(decoding, 0.99))) |",
            "| \(name): the same state read through JSONDecoder (before) | \(throughDecoder.count) | \(format(percentile(throughDecoder, 0.5))) | \(format(percentile(throughDecoder, 0.99))) |",
            "| \(name), never suspended, killed just before its next snapshot (\(grouped(worstCount(n, runner.snapshotInterval))) events, a snapshot every \(runner.snapshotInterval)): restore (snapshot + \(killedFrom["killed"] ?? 0) entries) | \(killed.count) | \(format(percentile(killed, 0.5))) | \(format(percentile(killed, 0.99))) |",
            "| the same with a snapshot every 256 entries (before; \(grouped(worstCount(n, 256))) events): restore (snapshot + \(killedFrom["killed-256"] ?? 0) entries) | \(killed256.count) | \(format(percentile(killed256, 0.5))) | \(format(percentile(killed256, 0.99))) |",
            "| \(name), never suspended: the store's reading (the snapshot and its \(killedLog.entries.count) entries read, opened, checked against the chain) | \(storeReading.count) | \(format(percentile(storeReading, 0.5))) | \(format(percentile(storeReading, 0.99))) |",
            "| \(name), never suspended: its \(killedLog.entries.count) entries replayed from the snapshot, the state only | \(tailQuiet.count) | \(format(percentile(tailQuiet, 0.5))) | \(format(percentile(tailQuiet, 0.99))) |",
            "| \(name), never suspended: the same entries, each step rendering what it shows (before) | \(tailRendering.count) | \(format(percentile(tailRendering, 0.5))) | \(format(percentile(tailRendering, 0.99))) |",
            "| \(name), never suspended: the same entries' stored texts read | \(readDirect.count) | \(format(percentile(readDirect, 0.5))) | \(format(percentile(readDirect, 0.99))) |",
            "| \(name), never suspended: the same texts read through JSONDecoder (before) | \(readDecoder.count) | \(format(percentile(readDecoder, 0.5))) | \(format(percentile(readDecoder, 0.99))) |",
            "| \(name): whole log read and replayed (no snapshot) | \(replaying.count) | \(format(percentile(replaying, 0.5))) | \(format(percentile(replaying, 0.99))) |",
        ]
    }

    /// The most inputs, at most `n`, after which a session's next periodic snapshot is one entry
    /// away (its start is entry 0, its inputs 1…; a snapshot follows every `interval`th entry).
    static func worstCount(_ n: Int, _ interval: Int) -> Int {
        interval > 0 ? n - (n + 1) % interval : n
    }

    /// 40000 as 40,000.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0) ? [",", d] : [d] })
    }

    /// Waits on this (main) thread for `work`, which runs on the cooperative pool.
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { throw CancellationError() }
        return try result.get()
    }
}

/// A result handed from a task to the thread waiting for it. `@unchecked Sendable`: written once
/// before the semaphore is signalled, read after the wait.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
