import Foundation
import IntakeEngine
@testable import IntakePostgres
import IntakeRuntime
import Testing

/// Figures, not checks (INTAKE_PG_BENCH=1 to run): appends per second from C concurrent sessions on
/// one store, and the committer's batch size; a round trip and a one-row commit for scale.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["INTAKE_PG_BENCH"] != nil, "a benchmark: INTAKE_PG_BENCH=1 to run it"), .serialized)
struct PostgresAppendBench {
    @Test func selects() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        let clock = ContinuousClock()
        let t = try await clock.measure {
            try await store.client.withConnection { c in
                for _ in 0..<1000 { _ = try await c.query("SELECT 1", logger: PostgresTestDatabase.logger).collect() }
            }
        }
        let t2 = try await clock.measure {
            try await store.client.withConnection { c in
                for _ in 0..<200 { _ = try await c.query("BEGIN", logger: PostgresTestDatabase.logger).collect(); _ = try await c.query("INSERT INTO meta VALUES (gen_random_uuid()::text, 'x')", logger: PostgresTestDatabase.logger).collect(); _ = try await c.query("COMMIT", logger: PostgresTestDatabase.logger).collect() }
            }
        }
        print("BENCH 1000 SELECT 1: \(t); 200 commits: \(t2)")
    }

    @Test(arguments: [1, 10, 100])
    func appends(_ c: Int) async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        let ids = (0..<c).map { "s-\($0)" }
        for id in ids {
            try await store.create(SessionInfo(id: id, dialogID: "d", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress, startedAt: 0, updatedAt: 0),
                                   first: LogEntry(seq: 0, at: Moment(epochMillis: 0, utcOffsetMinutes: 540), actor: .client, event: .suspend), token: .random())
        }
        let per = max(2000 / c, 20)
        let before = await store.commitStats
        let clock = ContinuousClock()
        let t = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { g in
                for id in ids {
                    g.addTask {
                        for seq in 1...per {
                            try await store.append([LogEntry(seq: seq, at: Moment(epochMillis: Int64(seq), utcOffsetMinutes: 540), actor: .client, event: .input(.answer("x")))],
                                                   to: id, status: .inProgress, locale: "ja", record: nil, at: Int64(seq))
                        }
                    }
                }
                try await g.waitForAll()
            }
        }
        let after = await store.commitStats
        let stats = (commits: after.commits - before.commits, writes: after.writes - before.writes)
        let n = Double(per * c)
        let secs = Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
        print("BENCH C=\(c) appends=\(Int(n)) \(Int(n / secs))/s commits=\(stats.commits) writes=\(stats.writes) batch=\(Double(stats.writes)/Double(max(stats.commits,1)))")
    }
}
