import Foundation
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import Testing

/// Several `intake serve` instances on one PostgreSQL database (issue 15): a whole kiosk intake
/// lands as on SQLite; a session resumed on another instance runs there only and its old kiosk is
/// told; the limits per address count across instances. Needs INTAKE_TEST_POSTGRES (CI starts a
/// throwaway cluster); without it the tests say so, and fail when INTAKE_REQUIRE_POSTGRES=1.
@Suite(.serialized) struct ManyInstancesTests {
    static let admin = ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["INTAKE_REQUIRE_POSTGRES"] == "1"

    /// A fresh database, two stores on it (two instances' openings), and cleanup; nil (with the
    /// reason recorded when PostgreSQL is required) when there is no server.
    static func twoInstances() async throws -> (PostgresStore, PostgresStore, @Sendable () async -> Void)? {
        guard let admin else {
            if required { Issue.record("PostgreSQL is missing: INTAKE_REQUIRE_POSTGRES=1 but INTAKE_TEST_POSTGRES is not set") }
            return nil
        }
        let db = try await PostgresScratch.create(admin: admin)
        let a = try await db.open(), b = try await db.open()
        return (a, b, { await a.close(); await b.close(); await db.drop() })
    }

    @Test(.enabled(if: admin != nil || required, "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)"))
    func aWholeKioskIntakeOnPostgreSQLIsStoredAsOnSQLite() async throws {
        guard let (store, other, cleanup) = try await Self.twoInstances() else { return }
        let server = try await TestServer.start(store: store)
        let c = try await server.connect()
        let (session, _, first) = try await startJSON(c, dialog: "intake")
        var standing = first
        for (i, step) in personaSteps.enumerated() {
            if let q = step.question {
                #expect(standing?["question"]?.string == q, "step \(i)")
                try await c.send(json: [("op", .string("answer")), ("question", .string(q)), ("text", .string(step.line)), ("id", .int(i))])
            } else {
                try await c.send(json: [("op", .string("finish")), ("id", .int(i))])
            }
            standing = await untilStanding(c)
        }
        #expect(standing?["type"] == .string("done"))
        var fired: [String] = []
        if case .array(let items)? = standing?["suggestions"] { fired = items.compactMap { $0["id"]?.string } }
        #expect(fired == ["mothers_hellowork", "daycare_application", "night_work_impossible", "no_history_path"])
        try await server.stop()
        // Another instance (or a counselor's `records` on another machine) reads what was stored.
        #expect(try await other.session(session)?.status == .complete)
        #expect(try await other.session(session)?.mode == .kiosk)
        #expect(try await other.record(of: session)?["status"] == .string("complete"))
        await cleanup()
    }

    @Test(.enabled(if: admin != nil || required, "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)"))
    func aSessionResumedOnAnotherInstanceRunsThereOnlyAndTheOldKioskIsTold() async throws {
        guard let (storeA, storeB, cleanup) = try await Self.twoInstances() else { return }
        let a = try await TestServer.start(store: storeA)
        let b = try await TestServer.start(store: storeB)
        let first = try await a.connect()
        let (session, token, q1) = try await startJSON(first)
        #expect(q1?["question"] == .string("found_work"))
        try await first.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("いいえ"))])
        #expect(await untilStanding(first)?["question"] == .string("changes"))

        // The same client, at a kiosk served by the other instance.
        let second = try await b.connect()
        try await second.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await second.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(second)?["question"] == .string("changes"))
        // The first kiosk is told, without having to act, and closed.
        let bye = await first.until("bye", timeout: .seconds(30))
        #expect(bye?["reason"] == .string("resumed_elsewhere"))
        #expect(await first.waitClosed())
        // The session goes on at the second, and holds its lease.
        try await second.send(json: [("op", .string("answer")), ("question", .string("changes")), ("text", .string("特になし"))])
        #expect(await untilStanding(second)?["type"] == .string("question"))
        #expect(try await storeA.holder(of: session) == storeB.instance)
        let log = try await storeA.log(of: session)
        #expect(log.filter { if case .input = $0.event { true } else { false } }.count == 2, "each answer once, in one log")
        try await a.stop()
        try await b.stop()
        await cleanup()
    }

    @Test(.enabled(if: admin != nil || required, "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)"))
    func startsPerAddressAreCountedAcrossInstances() async throws {
        guard let (storeA, storeB, cleanup) = try await Self.twoInstances() else { return }
        let a = try await TestServer.start(store: storeA) { $0.maxStartsPerAddress = 3 }
        let b = try await TestServer.start(store: storeB) { $0.maxStartsPerAddress = 3 }
        for server in [a, b, a] {
            let c = try await server.connect()
            #expect(try await startJSON(c).0.hasPrefix("s-"))
            await c.close()
        }
        // The fourth start from this address, on the instance that has seen only one of them.
        let c = try await b.connect()
        try await c.send(json: [("op", .string("start")), ("dialog", .string("followup")), ("id", .int(1))])
        #expect(await c.until("error")?["code"] == .string("too_many_starts"))
        try await a.stop()
        try await b.stop()
        await cleanup()
    }

    /// Issue 16: on PostgreSQL a counselor is her database login (`current_user`), whatever name
    /// she gives with `--counselor`: the session, each event she writes and her deletion carry it.
    @Test(.enabled(if: admin != nil || required, "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)"))
    func aCounselorIsHerDatabaseLoginNotATypedName() async throws {
        guard let admin = Self.admin else {
            if Self.required { Issue.record("PostgreSQL is missing") }
            return
        }
        let db = try await PostgresScratch.create(admin: admin)
        let store = try await db.open()
        let run = try await Child.run(["run", "--db", db.url, "--counselor", "なりすまし", "--mode", "counselor", "--today", "2026-11-23"],
                                      input: ["はい", "はい"])
        #expect(run.status == 0, "\(run.stderr)")
        let session = try #require(try await store.sessions().first)
        #expect(store.identity == "intake", "the test cluster's login")
        #expect(session.counselor == store.identity)
        let actors: Set<Actor> = Set(try await store.log(of: session.id).map { (entry: LogEntry) in entry.actor })
        #expect(actors == [Actor.counselor(store.identity)])
        let deleted = try await Child.run(["records", "delete", session.id, "--db", db.url])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try await store.audit().last.map { "\($0.actor) \($0.action)" } == "counselor:intake delete-session")
        await store.close()
        await db.drop()
    }
}
