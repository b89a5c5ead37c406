import Foundation
import IntakeEngine
@testable import IntakePostgres
import IntakeRuntime
import PostgresNIO
import Testing

private let t0: Int64 = 1_795_000_000_000
private func at(_ minutes: Int64) -> Moment { Moment(epochMillis: t0 + minutes * 60_000, utcOffsetMinutes: 540) }

private func info(_ id: String, client: String? = nil, minute: Int64 = 0) -> SessionInfo {
    SessionInfo(id: id, clientID: client, dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress,
                startedAt: at(minute).epochMillis, updatedAt: at(minute).epochMillis, office: "川越")
}

private func start(_ minute: Int64 = 0) -> LogEntry {
    LogEntry(seq: 0, at: at(minute), actor: .client, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk))
}

private func answer(_ seq: Int, _ text: String, minute: Int64 = 1) -> LogEntry {
    LogEntry(seq: seq, at: at(minute), actor: .client, event: .input(.answer(text)),
             answers: [AnswerChange(path: Path("name"), entry: AnswerEntry(.value(.text(text)), at: at(minute).epochMillis))])
}

/// Creates a session with its first entry and a fresh token.
@discardableResult
private func create(_ store: PostgresStore, _ id: String, client: String? = nil, minute: Int64 = 0) async throws -> ResumeToken {
    let token = ResumeToken.random()
    try await store.create(info(id, client: client, minute: minute), first: start(minute), token: token)
    return token
}

private func keyFile() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-pg-key-\(UUID().uuidString)").path
    try Cipher.newKeyFile(at: path)
    return path
}

@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresStoreTests {
    // MARK: Opening and migrations

    @Test func openingMigratesOnceEvenWhenTwoInstancesOpenAtOnceAndAgainChangesNothing() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        // Two instances starting together: the advisory lock lets one migrate, the other wait and find it done.
        async let a = db.open()
        async let b = db.open()
        let (first, second) = try await (a, b)
        #expect(first.instance != second.instance)
        // In the order they were applied (by name, "pg10" would sort before "pg2").
        let names = try await db.sql("SELECT name FROM schema_migration ORDER BY applied_at").map { try $0.decode(String.self) }
        #expect(names == PostgresSchema.migrations.map(\.name))
        await first.close()
        await second.close()
        // A third opening migrates nothing and keeps the data.
        let third = try await db.open()
        try await create(third, "s-kept")
        await third.close()
        let fourth = try await db.open()
        #expect(try await fourth.session("s-kept")?.id == "s-kept")
        try await fourth.checkStorage()
        let again = try await db.sql("SELECT count(*) FROM schema_migration").first?.decode(Int64.self)
        #expect(again == Int64(PostgresSchema.migrations.count))
        await fourth.close()
    }

    /// A database from before clients belonged to an office (pg3): one client row per number, and
    /// sessions of two offices naming the same number. After pg4 each office has its own client.
    @Test func aDatabaseFromBeforeGivesEachOfficeItsOwnClient() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let old = PostgresSchema.migrations.prefix { $0.name != "pg4: clients belong to an office" }
        #expect(old.count == 3)
        _ = try await db.sql(["CREATE TABLE schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"]
                             + old.flatMap { m in m.sql + ["INSERT INTO schema_migration (name) VALUES ('\(m.name)')"] })
        _ = try await db.sql("INSERT INTO client (id, created_at, office) VALUES ('1024', 100, '川越'), ('77', 50, NULL), ('gone', 10, 'さいたま')")
        for (i, (id, client, office, at)) in [("k1", "1024", "'川越'", 100), ("s1", "1024", "'さいたま'", 200), ("k2", "1024", "'川越'", 300),
                                               ("n1", "77", "NULL", 50)].enumerated() {
            _ = try await db.sql("""
                INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at, office, token_digest, record)
                VALUES ('\(id)', '\(client)', 'intake', '1', 'counselor', 'ja', 'complete', \(at), \(at), \(office), '\\x0\(i)', '{"id":"\(id)"}')
                """, "INSERT INTO unchained_session (id) VALUES ('\(id)')")
        }
        let store = try await db.open()
        let clients = try await db.sql("SELECT office, id, created_at FROM client ORDER BY office, id").map { row in
            let (office, id, at) = try row.decode((String, String, Int64).self)
            return "\(office)|\(id)|\(at)"
        }
        #expect(clients == ["|77|50", "さいたま|1024|200", "さいたま|gone|10", "川越|1024|100"])
        #expect(try await store.records(ofClient: ClientKey(office: "川越", number: "1024")).map(\.session.id) == ["k2", "k1"])
        #expect(try await store.records(ofClient: ClientKey(office: "さいたま", number: "1024")).map(\.session.id) == ["s1"])
        #expect(try await store.records(ofClient: ClientKey(office: nil, number: "77")).map(\.session.id) == ["n1"])
        try await store.checkStorage()
        await store.close()
    }

    @Test func everyConnectionCommitsSynchronously() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        // Even when the database's default says otherwise: the store's connections set it at startup.
        _ = try await db.sql("ALTER DATABASE \"\(db.name)\" SET synchronous_commit = off")
        let store = try await db.open()
        let value = try await store.client.leasing { c in
            try await c.query("SHOW synchronous_commit", logger: PostgresTestDatabase.logger).collect().first?.decode(String.self)
        }
        #expect(value == "on")
        await store.close()
    }

    @Test func anotherProgramsTablesAreNotMigrated() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        _ = try await db.sql("CREATE TABLE session (id int PRIMARY KEY, payload text)")
        await #expect(throws: PostgresOpenError.self) { _ = try await db.open() }
        do { _ = try await db.open() } catch let error as PostgresOpenError { #expect(error.cause == .notIntake) }
        // Left as it was: no intake table was added.
        let tables = try await db.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").map { try $0.decode(String.self) }
        #expect(tables == ["schema_migration", "session"] || tables == ["session"])
    }

    @Test func aNewerIntakesSchemaIsRefused() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        await (try await db.open()).close()
        _ = try await db.sql("INSERT INTO schema_migration (name) VALUES ('pg99: from the future')")
        do {
            _ = try await db.open()
            Issue.record("opened a database migrated by a newer intake")
        } catch let error as PostgresOpenError {
            #expect(error.cause == .newerSchema)
        }
    }

    // MARK: Sessions, log, leases

    @Test func aSessionAndItsLogComeBackAsWritten() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        let token = try await create(store, "s-1", client: "c-1")
        try await store.append([answer(1, "山田 花子")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        let suspend = LogEntry(seq: 2, at: at(2), actor: .counselor("佐藤"), event: .suspend)
        try await store.append([suspend], to: "s-1", status: .suspended, locale: "en", record: nil, at: at(2).epochMillis)
        #expect(try await store.log(of: "s-1") == [start(), answer(1, "山田 花子"), suspend])
        let s = try #require(try await store.session("s-1"))
        #expect(s.status == .suspended && s.locale == "en" && s.updatedAt == at(2).epochMillis && s.clientID == "c-1" && s.office == "川越")
        #expect(try await store.session(resuming: token)?.id == "s-1")
        #expect(try await store.session(resuming: ResumeToken.random()) == nil)
        #expect(try await store.session("s-none") == nil)
        #expect(try await store.log(of: "s-none") == [])
        #expect(try await store.holder(of: "s-1") == store.instance)
        let list = try await store.listSessions(.all)
        #expect(list.sessions.map(\.id) == ["s-1"] && list.damaged.isEmpty)
        #expect(try await store.listSessions(SessionFilter(status: .complete)).sessions.isEmpty)
    }

    @Test func anEntryNotAfterTheNewestIsRefusedAndWritesNothing() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        try await create(store, "s-1")
        try await store.append([answer(1, "a")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        await #expect(throws: StoreError.outOfOrder(session: "s-1")) {
            try await store.append([answer(1, "b")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(2).epochMillis)
        }
        #expect(try await store.log(of: "s-1").count == 2)
    }

    @Test func aSessionResumedByAnotherInstanceRefusesTheFirstInstancesNextAnswer() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let first = try await db.open(), second = try await db.open()
        try await create(first, "s-1")
        try await first.append([answer(1, "a")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        // The second instance may not simply continue the session…
        await #expect(throws: RuntimeError.takenOver) {
            try await second.append([answer(2, "b")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(2).epochMillis)
        }
        // …but its resume entry takes the lease.
        let resume = LogEntry(seq: 2, at: at(3), actor: .client, event: .resume(mode: .kiosk))
        try await second.append([resume], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(3).epochMillis)
        #expect(try await first.holder(of: "s-1") == second.instance)
        #expect(try await first.sessionsHeldElsewhere(["s-1"]) == ["s-1"])
        #expect(try await second.sessionsHeldElsewhere(["s-1"]) == [])
        await #expect(throws: RuntimeError.takenOver) {
            try await first.append([answer(3, "late")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(4).epochMillis)
        }
        #expect(try await second.log(of: "s-1") == [start(), answer(1, "a"), resume])
        await first.close()
        await second.close()
    }

    @Test func twoInstancesRacingToResumeNeverBothAppend() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let a = try await db.open(), b = try await db.open()
        try await create(a, "s-1")
        // Both resume at once (seq 1) and go on answering (seq 2): the row lock orders them, so one
        // resume wins; the loser's resume is out of order and its answer is refused.
        let resumed = await withTaskGroup(of: Bool.self) { group in
            for store in [a, b] {
                group.addTask {
                    do {
                        try await store.append([LogEntry(seq: 1, at: at(1), actor: .client, event: .resume(mode: .kiosk))], to: "s-1",
                                               status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
                        return true
                    } catch { return false }
                }
            }
            var out: [Bool] = []
            for await ok in group { out.append(ok) }
            return out
        }
        #expect(resumed.filter { $0 }.count == 1)
        let winner = try #require(try await a.holder(of: "s-1"))
        for store in [a, b] {
            do {
                try await store.append([answer(2, "x")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(2).epochMillis)
                #expect(store.instance == winner)
            } catch {
                #expect(error as? RuntimeError == .takenOver && store.instance != winner)
            }
        }
        #expect(try await a.log(of: "s-1").count == 3)
        await a.close()
        await b.close()
    }

    @Test func concurrentAppendsShareCommits() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        let ids = (0..<40).map { "s-\($0)" }
        for id in ids { try await create(store, id) }
        let before = await store.commitStats
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    for seq in 1...5 {
                        try await store.append([answer(seq, "a\(seq)", minute: Int64(seq))], to: id, status: .inProgress, locale: "ja",
                                               record: nil, at: at(Int64(seq)).epochMillis)
                    }
                }
            }
            try await group.waitForAll()
        }
        let after = await store.commitStats
        let (commits, writes) = (after.commits - before.commits, after.writes - before.writes)
        #expect(writes == 200)
        #expect(commits < writes / 2, "200 appends from 40 sessions took \(commits) transactions")
        for id in ids { #expect(try await store.log(of: id).count == 6) }
    }

    @Test func oneBadAppendInABatchFailsOnlyItsOwnCaller() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        let ids = (0..<20).map { "s-\($0)" }
        for id in ids { try await create(store, id) }
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for id in ids {
                group.addTask {
                    // s-7 repeats seq 0 (out of order); every other session appends seq 1.
                    let seq = id == "s-7" ? 0 : 1
                    do {
                        try await store.append([answer(seq, "a")], to: id, status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
                        return (id, true)
                    } catch { return (id, false) }
                }
            }
            var out: [String: Bool] = [:]
            for await (id, ok) in group { out[id] = ok }
            return out
        }
        #expect(results.filter { !$0.value }.map(\.key) == ["s-7"])
        #expect(try await store.log(of: "s-3").count == 2)
        #expect(try await store.log(of: "s-7").count == 1)
    }

    @Test func aStatementThatFailsInABatchIsRetriedSoOnlyItsWriteFails() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        try await create(store, "s-taken")
        // Ten creates at once, one of them with an id that exists: its INSERT fails the shared
        // transaction, which is rolled back; each create is then tried alone.
        let ids = (0..<9).map { "s-new-\($0)" } + ["s-taken"]
        let failed = await withTaskGroup(of: String?.self) { group in
            for id in ids {
                group.addTask {
                    do {
                        try await create(store, id)
                        return nil
                    } catch { return id }
                }
            }
            var out: [String] = []
            for await id in group { if let id { out.append(id) } }
            return out
        }
        #expect(failed == ["s-taken"])
        #expect(try await store.sessions().count == 10)
        for id in ids { #expect(try await store.log(of: id).count == 1) }
    }

    // MARK: Sealing

    @Test func aSealedDatabaseNeedsItsKeyAndRefusesAnother() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let key = try Cipher(keyFile: try keyFile()), other = try Cipher(keyFile: try keyFile())
        let store = try await db.open(cipher: key)
        #expect(store.sealed)
        try await create(store, "s-1")
        try await store.append([answer(1, "山田 花子")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        await store.close()
        // At rest: nothing of the answer in clear.
        let stored = try await db.sql("SELECT event || coalesce(answers, '') FROM event").map { try $0.decode(String.self) }
        #expect(stored.count == 2 && stored.allSatisfy { $0.hasPrefix(Cipher.prefix) && !$0.contains("山田") })
        let meta = try await db.sql("SELECT value FROM meta WHERE key = 'key_fingerprint'").first?.decode(String.self)
        #expect(meta == key.fingerprint)
        await #expect(throws: StoreError.sealedNeedsKey) { _ = try await db.open() }
        await #expect(throws: StoreError.wrongKey) { _ = try await db.open(cipher: other) }
        await #expect(throws: StoreError.wrongKey) { _ = try await db.open(cipher: other, access: .read) }
        // Read without the key: ids and statuses, not answers.
        let reader = try await db.open(access: .read)
        #expect(try await reader.sessions().map(\.id) == ["s-1"])
        await #expect(throws: Cipher.Failure.needsKey) { _ = try await reader.log(of: "s-1") }
        await reader.close()
        let again = try await db.open(cipher: key)
        #expect(try await again.log(of: "s-1") == [start(), answer(1, "山田 花子")])
        await again.close()
    }

    /// As on SQLite (`SealedDatabaseTests.aSessionListedAsUnchainedOpensNothingByTokenInASealedDatabase`):
    /// listed as recorded before chains, a sealed session's row is checked by nothing, so a token
    /// digest written into it by someone without the key opens nothing.
    @Test func aSessionListedAsUnchainedOpensNothingByTokenWhenSealed() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open(cipher: try Cipher(keyFile: try keyFile()))
        try await create(store, "s-1")
        let theirs = ResumeToken.random()
        let digest = theirs.digest.map { String(format: "%02x", $0) }.joined()
        _ = try await db.sql("INSERT INTO unchained_session (id) VALUES ('s-1')",
                             "UPDATE session SET token_digest = '\\x\(digest)' WHERE id = 's-1'")
        await #expect(throws: RuntimeError.damaged(session: "s-1")) { _ = try await store.session(resuming: theirs) }
        await store.close()
    }

    @Test func aKeyForADatabaseWithSessionsInClearIsRefusedForWriting() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let clear = try await db.open()
        try await create(clear, "s-1")
        await clear.close()
        let key = try Cipher(keyFile: try keyFile())
        await #expect(throws: StoreError.notSealed(sessions: 1)) { _ = try await db.open(cipher: key) }
    }

    // MARK: Damage

    @Test func anEditedEventIsDamageNotDataAndVerifyNamesIt() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        for id in ["s-1", "s-2"] {
            try await create(store, id)
            try await store.append([answer(1, "a")], to: id, status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        }
        let before = try await store.verify()
        #expect(before.intact.map(\.id).sorted() == ["s-1", "s-2"] && before.damaged.isEmpty)
        // As someone with psql would: an answer changed in place.
        _ = try await db.sql(#"UPDATE event SET event = '{"input":{"_0":{"answer":{"_0":"forged"}}}}' WHERE session_id = 's-2' AND seq = 1"#)
        await #expect(throws: RuntimeError.damaged(session: "s-2")) { _ = try await store.log(of: "s-2") }
        #expect(try await store.log(of: "s-1").count == 2)
        let after = try await store.verify()
        #expect(after.intact.map(\.id) == ["s-1"] && after.damaged == ["s-2"])
        // A session row edited (its status) is damaged too, listed apart from the others.
        _ = try await db.sql("UPDATE session SET status = 'complete' WHERE id = 's-1'")
        let list = try await store.listSessions(.all)
        #expect(list.sessions.map(\.id) == ["s-2"] && list.damaged == ["s-1"])
        await #expect(throws: StoreError.damagedSessions(["s-1"])) { _ = try await store.sessions(SessionFilter(status: .complete)) }
        await store.close()
    }

    @Test func aValueOfAnotherTypeIsDamageNotACrash() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        try await create(store, "s-1")
        _ = try await db.sql("ALTER TABLE event ALTER COLUMN at TYPE text")
        await #expect(throws: RuntimeError.damaged(session: "s-1")) { _ = try await store.log(of: "s-1") }
        _ = try await db.sql("ALTER TABLE session ALTER COLUMN started_at TYPE text")
        let list = try await store.listSessions(.all)
        #expect(list.damaged == ["s-1"])
        await store.close()
    }

    @Test func entriesCutOffTheEndAreDamage() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        try await create(store, "s-1")
        try await store.append([answer(1, "a")], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        _ = try await db.sql("DELETE FROM event WHERE session_id = 's-1' AND seq = 1")
        await #expect(throws: RuntimeError.damaged(session: "s-1")) { _ = try await store.log(of: "s-1") }
        #expect(try await store.verify().damaged == ["s-1"])
        await store.close()
    }
}
