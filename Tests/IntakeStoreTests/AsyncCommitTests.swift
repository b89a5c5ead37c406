import Foundation
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
@testable import IntakeStore
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)

private func tempFile() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("intake-async-\(UUID().uuidString).sqlite").path
}

private let t0 = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))

/// The async durable path the kiosk server uses: concurrent callers share transactions, each
/// returns only after its own rows committed, one bad write fails only its own caller.
@Suite struct AsyncCommitTests {
    @Test func manyConcurrentAsyncAppendsAllLandAndShareTransactions() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        let runner = SessionRunner(engine: Engine(dialog: try #require(project.dialogs["followup"]), catalog: project.catalog), store: db.store)
        let sessions = 200
        let ids = (0..<sessions).map { "s-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, id) in ids.enumerated() {
                group.addTask {
                    var (running, _) = try await runner.start(id: id, token: ResumeToken.random(), locale: "ja",
                                                              mode: .kiosk, actor: .client, at: t0)
                    _ = try await runner.handle(.answer(i % 2 == 0 ? "はい" : "いいえ"), in: &running, actor: .client, at: t0)
                    _ = try await runner.handle(.back, in: &running, actor: .client, at: t0)
                    try await runner.suspend(&running, actor: .client, at: t0)
                }
            }
            try await group.waitForAll()
        }
        // Every entry is there (start, answer, back, suspend), read back by the synchronous API.
        for id in ids {
            let log = try db.log(of: id)
            #expect(log.map(\.seq) == [0, 1, 2, 3])
            #expect(try db.session(id)?.status == .suspended)
        }
        let stats = db.asyncCommitStats
        #expect(stats.writes == sessions * 4)
        // Group commit: far fewer transactions than writes (each one an fsync).
        #expect(stats.commits < stats.writes / 2, "commits \(stats.commits) for \(stats.writes) writes")
    }

    @Test func oneFailingWriteFailsOnlyItsOwnCaller() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        let runner = SessionRunner(engine: Engine(dialog: try #require(project.dialogs["followup"]), catalog: project.catalog), store: db.store)
        var (a, _) = try await runner.start(id: "a", token: ResumeToken.random(), locale: "ja", mode: .kiosk, actor: .client, at: t0)
        // Each log is chained in sequence order, so the appends that succeed go to sessions of their own.
        for i in stride(from: 1, to: 50, by: 2) {
            _ = try await runner.start(id: "b\(i)", token: ResumeToken.random(), locale: "ja", mode: .kiosk, actor: .client, at: t0)
        }
        let results = await withTaskGroup(of: Bool.self) { group -> [Bool] in
            for i in 0..<50 {
                group.addTask {
                    // Half of them append a duplicate sequence number (the primary key refuses it).
                    let entry = LogEntry(seq: i % 2 == 0 ? 0 : 1, at: t0, actor: .client, event: .suspend)
                    do {
                        try await db.appendDurably([entry], to: i % 2 == 0 ? "a" : "b\(i)", status: .suspended, locale: "ja", record: nil, at: t0.epochMillis)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 25)
        #expect(try db.log(of: "a").count == 1)
        #expect(try db.log(of: "b1").count == 2)
        // The session still works afterwards.
        _ = try await runner.handle(.answer("はい"), in: &a, actor: .client, at: t0)
        #expect(try db.log(of: "a").count == 2)
    }

    @Test func resumeByTokenReadsThroughTheCommitThread() async throws {
        let path = tempFile()
        let db = try IntakeDatabase.open(path: path)
        let runner = SessionRunner(engine: Engine(dialog: try #require(project.dialogs["followup"]), catalog: project.catalog), store: db.store)
        let token = ResumeToken.random()
        var (s, _) = try await runner.start(id: "r", token: token, locale: "ja", mode: .kiosk, actor: .client, at: t0)
        _ = try await runner.handle(.answer("いいえ"), in: &s, actor: .client, at: t0)
        try await runner.suspend(&s, actor: .client, at: t0)
        // Another process (here: another open of the file) resumes it.
        let again = SessionRunner(engine: runner.engine, store: try IntakeDatabase.open(path: path).store)
        let (resumed, effects) = try await again.resume(token: token, mode: .kiosk, actor: .client, at: t0)
        #expect(resumed.state.answers.count == s.state.answers.count)
        guard case .ask(let p)? = effects.last else { Issue.record("expected a question"); return }
        #expect(p.path == s.state.current)
        await #expect(throws: RuntimeError.unknownToken) {
            _ = try await again.resume(token: ResumeToken.random(), mode: .kiosk, actor: .client, at: t0)
        }
    }
}
