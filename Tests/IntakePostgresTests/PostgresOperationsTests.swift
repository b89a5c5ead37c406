import Foundation
import IntakeEngine
@testable import IntakePostgres
import IntakeRuntime
import PostgresNIO
import Testing

private let t0: Int64 = 1_795_000_000_000
private func at(_ minutes: Int64) -> Moment { Moment(epochMillis: t0 + minutes * 60_000, utcOffsetMinutes: 540) }
private let day: Int64 = 24 * 60

private func info(_ id: String, client: String? = nil, minute: Int64 = 0) -> SessionInfo {
    SessionInfo(id: id, clientID: client, dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress,
                startedAt: at(minute).epochMillis, updatedAt: at(minute).epochMillis)
}

private func start(_ minute: Int64 = 0) -> LogEntry {
    LogEntry(seq: 0, at: at(minute), actor: .client, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk))
}

private func answer(_ seq: Int, _ text: String, minute: Int64) -> LogEntry {
    LogEntry(seq: seq, at: at(minute), actor: .client, event: .input(.answer(text)),
             answers: [AnswerChange(path: Path("name"), entry: AnswerEntry(.value(.text(text)), at: at(minute).epochMillis))])
}

@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresOperationsTests {
    @Test func finishedRecordsComeBackPerClientNewestFirst() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        for (id, minute) in [("s-old", Int64(0)), ("s-new", day)] {
            try await store.create(info(id, client: "c-1", minute: minute), first: start(minute), token: .random())
            let record = JSON.object([("name", .string(id))])
            try await store.append([answer(1, id, minute: minute + 1)], to: id, status: .complete, locale: "ja", record: record,
                                   at: at(minute + 1).epochMillis)
        }
        try await store.create(info("s-open", client: "c-1", minute: 2 * day), first: start(2 * day), token: .random())
        #expect(try await store.record(of: "s-old") == .object([("name", .string("s-old"))]))
        #expect(try await store.record(of: "s-open") == nil)
        #expect(try await store.records(ofClient: ClientKey(office: nil, number: "c-1")).map(\.session.id) == ["s-new", "s-old"])
        #expect(try await store.records(ofClient: ClientKey(office: nil, number: "c-2")).isEmpty)
        #expect(try await store.sessions(SessionFilter(client: "c-1")).map(\.id) == ["s-open", "s-new", "s-old"])
    }

    @Test func anEditedRecordIsDamageNeverExported() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        try await store.create(info("s-1", client: "c-1"), first: start(), token: .random())
        try await store.append([answer(1, "a", minute: 1)], to: "s-1", status: .complete, locale: "ja", record: .object([("x", .string("a"))]),
                               at: at(1).epochMillis)
        _ = try await db.sql(#"UPDATE session SET record = '{"x":"forged"}' WHERE id = 's-1'"#)
        await #expect(throws: RuntimeError.damaged(session: "s-1")) { _ = try await store.record(of: "s-1") }
        await #expect(throws: RuntimeError.damaged(session: "s-1")) { _ = try await store.records(ofClient: ClientKey(office: nil, number: "c-1")) }
        await store.close()
    }

    @Test func deletingASessionLeavesAnAuditEntryAndNothingOfItsData() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        try await store.create(info("s-1"), first: start(), token: .random())
        try await store.append([answer(1, "山田", minute: 1)], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: at(1).epochMillis)
        #expect(try await store.deleteSession("s-1", by: .counselor("佐藤"), at: at(5).epochMillis))
        #expect(try await store.deleteSession("s-1", by: .counselor("佐藤"), at: at(6).epochMillis) == false)
        #expect(try await store.session("s-1") == nil)
        #expect(try await db.sql("SELECT count(*) FROM event").first?.decode(Int64.self) == 0)
        let audit = try await store.audit()
        #expect(audit == [AuditEntry(at: at(5).epochMillis, actor: "counselor:佐藤", action: "delete-session", detail: "session s-1 and its 2 events")])
        #expect(!audit.contains { $0.detail.contains("山田") })
        await store.close()
    }

    @Test func sessionsAbandonedBeforeAnyAnswerArePurgedAfterTheirRetention() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        // Abandoned at the start, long ago; answered long ago; abandoned recently; finished without answers.
        try await store.create(info("s-abandoned"), first: start(), token: .random())
        try await store.create(info("s-answered"), first: start(), token: .random())
        try await store.append([answer(1, "a", minute: 1)], to: "s-answered", status: .suspended, locale: "ja", record: nil, at: at(1).epochMillis)
        try await store.create(info("s-recent", minute: 40 * day), first: start(40 * day), token: .random())
        #expect(try await store.abandonedSessions(updatedBefore: at(30 * day).epochMillis) == ["s-abandoned"])
        #expect(try await store.abandonedSessions(startedFrom: at(0).epochMillis, to: at(50 * day).epochMillis) == ["s-abandoned", "s-recent"])
        let purged = try await store.purgeAbandoned(olderThanDays: 30, by: .counselor("admin"), at: at(41 * day).epochMillis)
        #expect(purged == 1)
        #expect(try await store.sessions().map(\.id).sorted() == ["s-answered", "s-recent"])
        #expect(try await store.audit().last?.detail == "1 sessions abandoned before any answer and untouched for more than 30 days, and their 1 events")
    }

    @Test func aDialogVersionMoveKeepsTheRowChecked() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        defer { Task { await cleanup() } }
        try await store.create(info("s-1"), first: start(), token: .random())
        try await store.setDialogVersion("2", of: "s-1")
        #expect(try await store.session("s-1")?.dialogVersion == "2")
        #expect(try await store.verify().intact.map(\.id) == ["s-1"])
    }

    @Test func checkStorageFindsAMissingTable() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        try await store.checkStorage()
        _ = try await db.sql("DROP TABLE unchained_session")
        await #expect(throws: StoreError.damagedFile) { try await store.checkStorage() }
        await store.close()
    }

    // MARK: Opening: where, who, and never the password

    @Test func aWrongPasswordIsRefusedWithoutSayingIt() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        var url = try #require(URLComponents(string: db.url))
        url.password = "not-the-password-4711"
        let wrong = try #require(url.string)
        do {
            _ = try await PostgresStore.open(url: wrong)
            Issue.record("opened with a wrong password")
        } catch let error as PostgresOpenError {
            #expect(error.cause == .authentication)
            #expect(!error.description.contains("4711"))
            #expect(error.description.contains(db.name))
        }
    }

    @Test func noServerThereIsUnreachable() async throws {
        let admin = try #require(PostgresTestDatabase.url)
        let port = try #require(URLComponents(string: admin)?.port)
        // A port next to the test server's, most likely closed (the answer is the same if not: it is no PostgreSQL).
        do {
            _ = try await PostgresStore.open(url: "postgres://intake:secret-0815@127.0.0.1:\(port == 1 ? 2 : 1)/intake_test")
            Issue.record("opened a database where no server is")
        } catch let error as PostgresOpenError {
            #expect(error.cause == .unreachable)
            #expect(!error.description.contains("0815"))
        }
    }

    @Test func aMissingDatabaseSaysSo() async throws {
        let admin = try #require(PostgresTestDatabase.url)
        var url = try #require(URLComponents(string: admin))
        url.path = "/no_such_database_here"
        do {
            _ = try await PostgresStore.open(url: url.string)
            Issue.record("opened a missing database")
        } catch let error as PostgresOpenError {
            #expect(error.cause == .noDatabase)
        }
    }

    @Test func sslmodeRequireAgainstAServerWithoutTLSFailsClearly() async throws {
        // The throwaway cluster has no certificate: asked for TLS, it says no, and opening says so.
        let admin = try #require(PostgresTestDatabase.url)
        do {
            _ = try await PostgresStore.open(url: admin + "?sslmode=require")
            Issue.record("opened without TLS although sslmode=require")
        } catch let error as PostgresOpenError {
            #expect(error.cause == .tls)
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES_SOCKET"] != nil, "INTAKE_TEST_POSTGRES_SOCKET is not set"))
    func aUnixSocketFolderIsAHost() async throws {
        // A scratch database over the socket, not the cluster's own intake_test: opening migrates,
        // and a test of one branch must not migrate the database every branch's tests share.
        let socket = try #require(ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES_SOCKET"])
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        var components = try #require(URLComponents(string: socket))
        components.path = "/" + db.name
        let url = try #require(components.string)
        let store = try await PostgresStore.open(url: url)
        #expect(store.target.isUnixSocket)
        #expect(store.target.database == db.name)
        _ = try await store.sessions()
        await store.close()
    }
}

/// Where a store is, as libpq finds it (no server needed).
@Suite struct PostgresTargetTests {
    func passwordFile(_ text: String, mode: mode_t = 0o600) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-pgpass-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    @Test func aURLNamesEverything() throws {
        let t = try PostgresTarget.resolve(url: "postgres://counsel:pw@db.office.example:6543/intake?sslmode=require", environment: [:])
        #expect(t.host == "db.office.example" && t.port == 6543 && t.user == "counsel" && t.database == "intake" && t.password == "pw")
        #expect(t.sslMode == "require" && t.passwordSource == "url")
        #expect(t.description == "postgres://counsel@db.office.example:6543/intake", "no password in what is shown")
    }

    @Test func whatTheURLLeavesOutComesFromTheLibpqVariables() throws {
        let file = try passwordFile("# office\ndb.example:5433:intake:counsel:from\\:file\n*:*:*:*:fallback\n")
        let env = ["PGHOST": "db.example", "PGPORT": "5433", "PGUSER": "counsel", "PGDATABASE": "intake", "PGPASSFILE": file]
        let t = try PostgresTarget.resolve(url: nil, environment: env)
        #expect(t.host == "db.example" && t.port == 5433 && t.user == "counsel" && t.database == "intake")
        #expect(t.password == "from:file" && t.passwordSource == "password file")
        // PGPASSWORD comes before the file; the URL before both.
        #expect(try PostgresTarget.resolve(url: nil, environment: env.merging(["PGPASSWORD": "env"]) { $1 }).password == "env")
        #expect(try PostgresTarget.resolve(url: "postgres://counsel:url@db.example:5433/intake", environment: env).password == "url")
        // Another database falls through to the wildcard line.
        #expect(try PostgresTarget.resolve(url: "postgres://counsel@db.example:5433/other", environment: env).password == "fallback")
    }

    @Test func aPasswordFileOthersMayReadIsIgnored() throws {
        let file = try passwordFile("*:*:*:*:secret\n", mode: 0o644)
        let t = try PostgresTarget.resolve(url: "postgres://u@h/db", environment: ["PGPASSFILE": file])
        #expect(t.password == nil && t.ignoredPasswordFile == file)
    }

    @Test func aUnixSocketFolderIsTheHost() throws {
        let t = try PostgresTarget.resolve(url: "postgres://u@/db?host=/run/pg&port=5544", environment: [:])
        #expect(t.isUnixSocket && t.socketPath == "/run/pg/.s.PGSQL.5544")
        let encoded = try PostgresTarget.resolve(url: "postgresql://u@%2Frun%2Fpg/db", environment: [:])
        #expect(encoded.host == "/run/pg" && encoded.port == 5432)
    }

    @Test func aBadURLIsRefusedClearly() {
        #expect(throws: PostgresOpenError.self) { try PostgresTarget.resolve(url: "mysql://u@h/db", environment: [:]) }
        #expect(throws: PostgresOpenError.self) { try PostgresTarget.resolve(url: "postgres://u@h/db?sslmode=sometimes", environment: [:]) }
        #expect(throws: PostgresOpenError.self) { try PostgresTarget.resolve(url: "postgres://u:pw@h/db?port=x", environment: [:]) }
    }
}
