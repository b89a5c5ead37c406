import Foundation
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import PostgresNIO
import Testing

/// Logins made for one test, each a member of one intake role, dropped afterwards. Names are unique
/// per test (roles are the whole cluster's); each has a random password, given in its URL.
actor TestLogins {
    let db: PostgresTestDatabase.Database
    private var made: [String] = []

    init(_ db: PostgresTestDatabase.Database) { self.db = db }

    struct BadURL: Error {}

    /// A new login (no role yet): its name and a URL to the test database as it.
    func make(_ prefix: String) async throws -> (name: String, url: String) {
        let name = "it_\(prefix)_" + UUID().uuidString.prefix(8).lowercased()
        let password = UUID().uuidString
        _ = try await db.sql("CREATE ROLE \(name) LOGIN PASSWORD '\(password)'")
        made.append(name)
        return (name, try url(as: name, password: password))
    }

    func url(as name: String, password: String) throws -> String {
        guard var components = URLComponents(string: db.url) else { throw BadURL() }
        components.user = name
        components.password = password
        guard let url = components.string else { throw BadURL() }
        return url
    }

    /// A login that is a member of `role` (granted through the owner's store, as `intake db grant` does).
    func make(_ role: PostgresRole, office: String?, owner: PostgresStore) async throws -> (name: String, url: String) {
        let login = try await make(role.rawValue)
        try await owner.grant(role, to: login.name, office: office, at: 1_795_000_000_000)
        return login
    }

    func remember(_ name: String) { made.append(name) }

    /// Drops the database, then the logins.
    func dropAll() async {
        await db.drop()
        for name in made {
            _ = try? await PostgresTestDatabase.withConnection(PostgresTestDatabase.url ?? "") { c in
                let statement = try await c.query("SELECT format('DROP ROLE IF EXISTS %I', \(name)::text)", logger: PostgresTestDatabase.logger)
                    .collect().first?.decode(String.self) ?? ""
                try await c.query(PostgresQuery(unsafeSQL: statement), logger: PostgresTestDatabase.logger)
            }
        }
    }
}

/// Access follows role, enforced by PostgreSQL (issue 16): plain SQL as each role, not intake's code.
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresRolesTests {
    /// Rows written as the owner: a finished record in 川越 and one in 所沢 (a counselor's), and in
    /// 川越 three kiosk sessions: finished, unfinished, and stopped (consent refused) with a record.
    static let rows = [
        "INSERT INTO client (office, id, created_at) VALUES ('川越', '1024', 0), ('所沢', '1024', 0)",
        """
        INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at, office, token_digest, record) VALUES
          ('kawagoe-done', '1024', 'intake', '1', 'counselor', 'ja', 'complete', 0, 0, '川越', '\\x01', 'record of 川越'),
          ('tokorozawa-done', '1024', 'intake', '1', 'counselor', 'ja', 'complete', 0, 0, '所沢', '\\x02', 'record of 所沢'),
          ('kiosk-done', NULL, 'intake', '1', 'kiosk', 'ja', 'complete', 0, 0, '川越', '\\x03', 'record of a kiosk'),
          ('kiosk-open', NULL, 'intake', '1', 'kiosk', 'ja', 'in_progress', 0, 0, '川越', '\\x04', NULL),
          ('kiosk-elsewhere', NULL, 'intake', '1', 'kiosk', 'ja', 'in_progress', 0, 0, '川越', '\\x06', NULL),
          ('kiosk-stopped', NULL, 'intake', '1', 'kiosk', 'ja', 'stopped', 0, 0, '川越', '\\x05', 'record of a stopped one')
        """,
        """
        INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES
          ('kawagoe-done', 0, 0, 0, 'c', 'start'), ('tokorozawa-done', 0, 0, 0, 'c', 'start'),
          ('kiosk-done', 0, 0, 0, 'c', 'start'), ('kiosk-open', 0, 0, 0, 'c', 'start'), ('kiosk-stopped', 0, 0, 0, 'c', 'start'),
          ('kiosk-elsewhere', 0, 0, 0, 'c', 'start')
        """,
        // The kiosk sessions' leases: the kiosk instance 'kiosk-a' holds the open one, 'kiosk-b' the other.
        """
        UPDATE session SET holder = CASE id WHEN 'kiosk-elsewhere' THEN 'kiosk-b' ELSE 'kiosk-a' END WHERE mode = 'kiosk'
        """,
        "INSERT INTO audit (at, actor, action, detail, session) VALUES (0, 'x', 'read', 'show', 'kawagoe-done'), (0, 'x', 'read', 'show', 'tokorozawa-done')",
    ]

    /// Runs `sql` as the login at `url`; its rows' first column as text, or the SQLSTATE it failed with.
    /// `holder`: the connection says it is that intake instance first (`intake.holder`, as an
    /// intake store's connections do).
    static func run(_ url: String, _ sql: String, holder: String? = nil) async -> Result<[String], SQLFailure> {
        do {
            return .success(try await PostgresTestDatabase.withConnection(url) { c in
                if let holder {
                    try await c.query("SELECT set_config('intake.holder', \(holder), false)", logger: PostgresTestDatabase.logger)
                }
                return try await c.query(PostgresQuery(unsafeSQL: sql), logger: PostgresTestDatabase.logger).collect().map { row in
                    (try? row.decode(Int64.self)).map(String.init) ?? (try? row.decode(String.self)) ?? "?"
                }
            })
        } catch let error as PSQLError {
            return .failure(SQLFailure(state: error.serverInfo?[.sqlState] ?? "?"))
        } catch {
            return .failure(SQLFailure(state: "\(type(of: error))"))
        }
    }

    struct SQLFailure: Error, Equatable { var state: String }
    /// insufficient_privilege: no grant, or a new row that a policy refuses.
    static let refused = Result<[String], SQLFailure>.failure(SQLFailure(state: "42501"))

    static func ok(_ values: String...) -> Result<[String], SQLFailure> { .success(values) }

    @Test func eachRoleReadsAndWritesOnlyWhatTheDatabaseLetsIt() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        do {
            let owner = try await db.open()
            _ = try await db.sql(Self.rows)
            let kawagoe = try await logins.make(.counselor, office: "川越", owner: owner)
            let tokorozawa = try await logins.make(.counselor, office: "所沢", owner: owner)
            let supervisor = try await logins.make(.supervisor, office: nil, owner: owner)
            let kiosk = try await logins.make(.kiosk, office: nil, owner: owner)
            let deleter = try await logins.make(.deleter, office: nil, owner: owner)
            await owner.close()

            // A counselor of 川越 reads her office's records and logs, never 所沢's.
            #expect(await Self.run(kawagoe.url, "SELECT record FROM session WHERE id = 'tokorozawa-done'") == Self.ok())
            #expect(await Self.run(kawagoe.url, "SELECT count(*) FROM event WHERE session_id = 'tokorozawa-done'") == Self.ok("0"))
            #expect(await Self.run(kawagoe.url, "SELECT record FROM session WHERE id = 'kawagoe-done'") == Self.ok("record of 川越"))
            #expect(await Self.run(kawagoe.url, "SELECT id FROM session ORDER BY id") == Self.ok("kawagoe-done", "kiosk-done", "kiosk-elsewhere", "kiosk-open", "kiosk-stopped"))
            #expect(await Self.run(kawagoe.url, "SELECT office FROM client") == Self.ok("川越"))
            #expect(await Self.run(tokorozawa.url, "SELECT record FROM session") == Self.ok("record of 所沢"))
            // …nor writes them: another office's row is not hers to change, to start or to append to.
            #expect(await Self.run(kawagoe.url, "UPDATE session SET record = 'x' WHERE id = 'tokorozawa-done' RETURNING id") == Self.ok())
            #expect(await Self.run(kawagoe.url, """
                INSERT INTO session (id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at, office, token_digest)
                VALUES ('mine', 'intake', '1', 'counselor', 'ja', 'in_progress', 0, 0, '所沢', '\\x09')
                """) == Self.refused)
            #expect(await Self.run(kawagoe.url, "INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES ('tokorozawa-done', 1, 0, 0, 'counselor:' || current_user, 'x')")
                    == Self.refused)
            #expect(await Self.run(kawagoe.url, "INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES ('kawagoe-done', 1, 0, 0, 'counselor:' || current_user, 'x')")
                    == Self.ok())
            // Her office's audit trail only.
            #expect(await Self.run(kawagoe.url, "SELECT session FROM audit") == Self.ok("kawagoe-done"))

            // A supervisor reads both offices' records and logs, and writes none.
            #expect(await Self.run(supervisor.url, "SELECT record FROM session WHERE status = 'complete' AND mode = 'counselor' ORDER BY id")
                    == Self.ok("record of 川越", "record of 所沢"))
            #expect(await Self.run(supervisor.url, "SELECT count(*) FROM event") == Self.ok("7"))
            #expect(await Self.run(supervisor.url, "SELECT count(*) FROM audit WHERE action = 'read'") == Self.ok("2"))
            #expect(await Self.run(supervisor.url, "UPDATE session SET record = 'x'") == Self.refused)

            // The kiosk reads no finished record, not even a kiosk's, nor its log; it lists nothing:
            // it sees only the unfinished kiosk sessions its own instance holds (its connections say
            // which instance they are), and no client.
            #expect(await Self.run(kiosk.url, "SELECT record FROM session WHERE record IS NOT NULL", holder: "kiosk-a") == Self.ok())
            #expect(await Self.run(kiosk.url, "SELECT id FROM session") == Self.ok())
            #expect(await Self.run(kiosk.url, "SELECT count(*) FROM event") == Self.ok("0"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-a") == Self.ok("kiosk-open"))
            #expect(await Self.run(kiosk.url, "SELECT DISTINCT session_id FROM event", holder: "kiosk-a") == Self.ok("kiosk-open"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-b") == Self.ok("kiosk-elsewhere"))
            // A resume by token moves the lease to the instance that asks, and nothing else does.
            #expect(await Self.run(kiosk.url, "SELECT intake_kiosk_take('\\x99')", holder: "kiosk-c") == Self.ok("?"))
            #expect(await Self.run(kiosk.url, "SELECT intake_kiosk_take('\\x03')", holder: "kiosk-c") == Self.ok("?"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-c") == Self.ok(), "a finished session is not taken")
            #expect(await Self.run(kawagoe.url, "SELECT intake_kiosk_take('\\x06')", holder: "kiosk-c") == Self.ok("?"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-c") == Self.ok(), "only a kiosk login takes a lease")
            #expect(await Self.run(kiosk.url, "SELECT intake_kiosk_take('\\x06')", holder: "kiosk-c") == Self.ok("?"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-c") == Self.ok("kiosk-elsewhere"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-b") == Self.ok())
            #expect(await Self.run(kiosk.url, "SELECT created_at FROM client") == Self.refused)
            #expect(await Self.run(kiosk.url, "SELECT id FROM client") == Self.ok())
            #expect(await Self.run(kiosk.url, "SELECT count(*) FROM audit") == Self.refused)
            // It cannot reopen a finished one, nor append to it.
            #expect(await Self.run(kiosk.url, "UPDATE session SET status = 'in_progress' WHERE id = 'kiosk-done' RETURNING id", holder: "kiosk-a") == Self.ok())
            #expect(await Self.run(kiosk.url, "UPDATE session SET status = 'in_progress' WHERE id = 'kiosk-stopped' RETURNING id", holder: "kiosk-a") == Self.ok())
            #expect(await Self.run(kiosk.url, "INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES ('kiosk-done', 1, 0, 0, 'client', 'x')",
                                   holder: "kiosk-a") == Self.refused)
            // …nor write to one another instance holds.
            #expect(await Self.run(kiosk.url, "UPDATE session SET locale = 'en' WHERE id = 'kiosk-open' RETURNING id", holder: "kiosk-b") == Self.ok())
            #expect(await Self.run(kiosk.url, "INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES ('kiosk-open', 1, 0, 0, 'client', 'x')",
                                   holder: "kiosk-b") == Self.refused)
            // It changes nothing an answer does not change: not a session's office.
            #expect(await Self.run(kiosk.url, "UPDATE session SET office = '所沢' WHERE id = 'kiosk-open'", holder: "kiosk-a") == Self.refused)
            // It finishes the one it answers (an UPDATE that sees the row it writes), and from then on sees it no more.
            #expect(await Self.run(kiosk.url, "UPDATE session SET status = 'complete', record = 'done' WHERE id = 'kiosk-open' RETURNING id", holder: "kiosk-a")
                    == Self.ok("kiosk-open"))
            #expect(await Self.run(kiosk.url, "SELECT id FROM session", holder: "kiosk-a") == Self.ok())
            #expect(await Self.run(kiosk.url, "SELECT count(*) FROM event", holder: "kiosk-a") == Self.ok("0"))

            // Deleting: the deleter only.
            #expect(await Self.run(kawagoe.url, "DELETE FROM session WHERE id = 'kawagoe-done'") == Self.refused)
            #expect(await Self.run(kawagoe.url, "DELETE FROM event WHERE session_id = 'kawagoe-done'") == Self.refused)
            #expect(await Self.run(supervisor.url, "DELETE FROM session WHERE id = 'kawagoe-done'") == Self.refused)
            #expect(await Self.run(kiosk.url, "DELETE FROM session") == Self.refused)
            #expect(await Self.run(deleter.url, "DELETE FROM session WHERE id = 'tokorozawa-done' RETURNING id") == Self.ok("tokorozawa-done"))

            // Audit rows: inserted by every role, changed or removed by none.
            for login in [kawagoe, supervisor, kiosk, deleter] {
                #expect(await Self.run(login.url, "INSERT INTO audit (at, actor, action, detail) VALUES (1, current_user, 'read', 'x')") == Self.ok())
                #expect(await Self.run(login.url, "UPDATE audit SET detail = 'y'") == Self.refused)
                #expect(await Self.run(login.url, "DELETE FROM audit") == Self.refused)
                #expect(await Self.run(login.url, "TRUNCATE audit") == Self.refused)
                // Nobody but the owner changes the schema.
                #expect(await Self.run(login.url, "ALTER TABLE session DISABLE ROW LEVEL SECURITY") == Self.refused)
                #expect(await Self.run(login.url, "DROP POLICY session_office ON session") == Self.refused)
                #expect(await Self.run(login.url, "CREATE TABLE mine (x int)") == Self.refused)
                // …nor its own office.
                #expect(await Self.run(login.url, "UPDATE staff SET office = '所沢'") == Self.refused)
            }
            #expect(await Self.run(db.url, "SELECT count(*) FROM audit WHERE action = 'read'") == Self.ok("6"))
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// A role that is not the owner opens the store (every migration applied: no DDL), as itself.
    @Test func aRoleOpensTheStoreWithoutChangingTheSchema() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        do {
            let owner = try await db.open()
            let counselor = try await logins.make(.counselor, office: "川越", owner: owner)
            let kiosk = try await logins.make(.kiosk, office: nil, owner: owner)
            await owner.close()
            for login in [counselor, kiosk] {
                let store = try await PostgresStore.open(url: login.url)
                #expect(store.identity == login.name)
                #expect(try await store.listSessions(SessionFilter()).sessions.isEmpty)
                await store.close()
            }
            // A database not yet migrated cannot be migrated by a role: it says so.
            let fresh = try await PostgresTestDatabase.database()
            await #expect {
                _ = try await PostgresStore.open(url: counselor.url.replacingOccurrences(of: "/" + db.name, with: "/" + fresh.name))
            } throws: { error in
                (error as? PostgresOpenError)?.cause == .noPermission
            }
            #expect(try await fresh.sql("SELECT to_regclass('schema_migration') IS NULL").first?.decode(Bool.self) == true)
            await fresh.drop()
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// A sealed database: the owner seals it, the kiosk service opens it with the key and writes
    /// sealed answers; without the key it may not write, as on any store.
    @Test func theKioskWritesASealedDatabaseWithItsKey() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        let keyPath = FileManager.default.temporaryDirectory.appendingPathComponent("intake-roles-key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: keyPath) }
        do {
            try Cipher.newKeyFile(at: keyPath)
            let cipher = try Cipher(keyFile: keyPath)
            let owner = try await db.open(cipher: cipher)
            #expect(owner.sealed)
            let kiosk = try await logins.make(.kiosk, office: nil, owner: owner)
            await owner.close()
            await #expect(throws: StoreError.sealedNeedsKey) { _ = try await PostgresStore.open(url: kiosk.url) }
            let store = try await PostgresStore.open(url: kiosk.url, cipher: cipher)
            let moment = Moment(epochMillis: 1_795_000_000_000, utcOffsetMinutes: 540)
            let info = SessionInfo(id: "sealed-1", dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress,
                                   startedAt: moment.epochMillis, updatedAt: moment.epochMillis)
            try await store.create(info, first: LogEntry(seq: 0, at: moment, actor: .client,
                                                         event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk)),
                                   token: ResumeToken.random())
            try await store.append([LogEntry(seq: 1, at: moment, actor: .client, event: .input(.answer("秘密")),
                                             answers: [AnswerChange(path: Path("name"), entry: AnswerEntry(.value(.text("秘密")), at: moment.epochMillis))])],
                                   to: "sealed-1", status: .inProgress, locale: "ja", record: nil, at: moment.epochMillis)
            #expect(try await store.log(of: "sealed-1").count == 2)
            await store.close()
            #expect(try await db.sql("SELECT count(*) FROM event WHERE answers LIKE '%秘密%'").first?.decode(Int64.self) == 0)
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// intake's own SQL (the committer's batch statement, resume, reads, the audit, deletion and the
    /// purge) works as each role, within its reach, through the store as the commands use it.
    @Test func theStoreWorksAsEachRoleWithinItsReach() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        let t0: Int64 = 1_795_000_000_000
        // The counselor a session names and its entries' actor: the login that writes them (pg10).
        func info(_ id: String, office: String?, client: String? = nil, by counselor: String) -> SessionInfo {
            SessionInfo(id: id, clientID: client, dialogID: "intake", dialogVersion: "1", mode: .counselor, locale: "ja", status: .inProgress,
                        startedAt: t0, updatedAt: t0, counselor: counselor, office: office)
        }
        func entry(_ seq: Int, _ text: String?, by counselor: String) -> LogEntry {
            let moment = Moment(epochMillis: t0 + Int64(seq) * 60_000, utcOffsetMinutes: 540)
            guard let text else {
                return LogEntry(seq: 0, at: moment, actor: .counselor(counselor), event: .start(dialog: "intake", version: "1", locale: "ja", mode: .counselor))
            }
            return LogEntry(seq: seq, at: moment, actor: .counselor(counselor), event: .input(.answer(text)),
                            answers: [AnswerChange(path: Path("name"), entry: AnswerEntry(.value(.text(text)), at: moment.epochMillis))])
        }
        do {
            let owner = try await db.open()
            let kawagoe = try await logins.make(.counselor, office: "川越", owner: owner)
            let tokorozawa = try await logins.make(.counselor, office: "所沢", owner: owner)
            let supervisor = try await logins.make(.supervisor, office: nil, owner: owner)
            let deleter = try await logins.make(.deleter, office: nil, owner: owner)
            // An abandoned session of 所沢 for the purge.
            try await owner.create(info("abandoned", office: "所沢", by: "川田"), first: entry(0, nil, by: "川田"), token: ResumeToken.random())
            await owner.close()

            // A counselor of 川越 starts, answers and finishes a session of her office, with a client.
            let c = try await PostgresStore.open(url: kawagoe.url)
            let token = ResumeToken.random()
            try await c.create(info("k-1", office: "川越", client: "1024", by: c.identity), first: entry(0, nil, by: c.identity), token: token)
            // Each answer with a snapshot of the session's state: the second supersedes the first,
            // which her login deletes as it writes it (pg11).
            try await c.append([entry(1, "花子", by: c.identity)], to: "k-1", status: .inProgress, locale: "ja", record: nil, at: t0 + 60_000,
                               snapshot: SessionSnapshot(seq: 1, state: Data("state 1".utf8)))
            try await c.append([entry(2, "はな", by: c.identity)], to: "k-1", status: .inProgress, locale: "ja", record: nil, at: t0 + 90_000,
                               snapshot: SessionSnapshot(seq: 2, state: Data("state 2".utf8)))
            #expect(try await db.sql("SELECT seq FROM snapshot WHERE session_id = 'k-1'").map { try $0.decode(Int64.self) } == [2])
            #expect(try await c.resumeLog(of: "k-1").snapshot == SessionSnapshot(seq: 2, state: Data("state 2".utf8)))
            #expect(try await c.session(resuming: token)?.id == "k-1")
            try await c.append([entry(3, "はなこ", by: c.identity)], to: "k-1", status: .complete, locale: "ja",
                               record: .object([("name", .string("はなこ"))]), at: t0 + 120_000)
            #expect(try await c.record(of: "k-1") == .object([("name", .string("はなこ"))]))
            #expect(try await c.log(of: "k-1").count == 4)
            // …not one of another office (the database refuses the row), and she sees none of theirs.
            await #expect(throws: (any Error).self) {
                try await c.create(info("k-2", office: "所沢", by: c.identity), first: entry(0, nil, by: c.identity), token: ResumeToken.random())
            }
            #expect(try await c.session("abandoned") == nil)
            #expect(try await c.listSessions(SessionFilter()).sessions.map(\.id) == ["k-1"])
            // She may not delete.
            await #expect(throws: (any Error).self) { _ = try await c.deleteSession("k-1", by: .counselor(c.identity), at: t0) }
            await c.close()

            // The counselor of 所沢 does not see 川越's session, nor resume it by its token.
            let t = try await PostgresStore.open(url: tokorozawa.url)
            #expect(try await t.session("k-1") == nil)
            #expect(try await t.session(resuming: token) == nil)
            #expect(try await t.record(of: "k-1") == nil)
            await t.close()

            // The supervisor reads every office's, and the read is audited as her login.
            let s = try await PostgresStore.open(url: supervisor.url)
            #expect(try await s.listSessions(SessionFilter()).sessions.map(\.id).sorted() == ["abandoned", "k-1"])
            #expect(try await s.record(of: "k-1") != nil)
            try await s.recordReads(["k-1"], kind: "show", by: s.identity, at: t0)
            #expect(try await s.accessHistory(of: "k-1").map(\.actor) == [supervisor.name])
            await #expect(throws: (any Error).self) { _ = try await s.deleteSession("k-1", by: .counselor(s.identity), at: t0) }
            await s.close()

            // The deleter deletes and purges.
            let d = try await PostgresStore.open(url: deleter.url)
            #expect(try await d.purgeAbandoned(olderThanDays: 1, by: .counselor(deleter.name), at: t0 + 3 * 86_400_000) == 1)
            #expect(try await d.deleteSession("k-1", by: .counselor(deleter.name), at: t0))
            await d.close()
            // (It lists nothing itself: it may not read a record, which a listing checks. The owner sees none left.)
            #expect(try await db.sql("SELECT count(*) FROM session").first?.decode(Int64.self) == 0)
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// `grant` quotes the login (PostgreSQL's format('%I')), and refuses an unknown login, a
    /// counselor without an office, and anyone but the owner.
    @Test func grantQuotesTheLoginAndRefusesWhatItMust() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        do {
            let owner = try await db.open()
            let hostile = "x\"; DROP TABLE session; --" + UUID().uuidString.prefix(6)
            _ = try await db.sql("CREATE ROLE \"\(hostile.replacingOccurrences(of: "\"", with: "\"\""))\" LOGIN")
            await logins.remember(hostile)
            try await owner.grant(.counselor, to: hostile, office: "川越", at: 1)
            #expect(try await db.sql("SELECT count(*) FROM session").first?.decode(Int64.self) == 0)
            #expect(try await db.sql("SELECT pg_has_role('\(hostile.replacingOccurrences(of: "'", with: "''"))', 'intake_counselor', 'MEMBER')")
                .first?.decode(Bool.self) == true)
            let staff = try await owner.staff()
            #expect(staff.contains(StaffMember(login: hostile, office: "川越", roles: [.counselor])))
            #expect(try await owner.audit().map(\.action).contains("grant-role"))

            await #expect(throws: PostgresGrantError.noSuchLogin) {
                try await owner.grant(.kiosk, to: "nobody_" + UUID().uuidString.prefix(8), office: nil, at: 1)
            }
            let plain = try await logins.make("plain")
            await #expect(throws: PostgresGrantError.officeRequired) {
                try await owner.grant(.counselor, to: plain.name, office: nil, at: 1)
            }
            let supervisor = try await logins.make(.supervisor, office: nil, owner: owner)
            let asSupervisor = try await PostgresStore.open(url: supervisor.url)
            await #expect(throws: PostgresGrantError.notPermitted) {
                try await asSupervisor.grant(.supervisor, to: plain.name, office: nil, at: 1)
            }
            #expect(try await db.sql("SELECT pg_has_role('\(plain.name)', 'intake_supervisor', 'MEMBER')").first?.decode(Bool.self) == false)
            await asSupervisor.close()
            await owner.close()
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// Roles are the cluster's: several databases migrating at once each create them if missing,
    /// and none fails because another did first.
    @Test func databasesMigratingAtOnceShareTheRoles() async throws {
        var dbs: [PostgresTestDatabase.Database] = []
        for _ in 0..<4 { dbs.append(try await PostgresTestDatabase.database()) }
        let all = dbs
        defer { Task { for db in all { await db.drop() } } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for db in all {
                group.addTask {
                    let store = try await db.open()
                    await store.close()
                }
            }
            try await group.waitForAll()
        }
        for db in all {
            #expect(try await db.sql("SELECT count(*) FROM pg_policies WHERE tablename = 'session'").first?.decode(Int64.self) == 8)
        }
    }
}
