import Foundation
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import Testing

/// pg10, plain SQL as each role: the deleter finds what to delete without reading a record, an
/// entry or a snapshot; a counselor (and the kiosk, and every role's audit rows) writes only under
/// its own name.
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresOwnNamesTests {
    typealias R = PostgresRolesTests

    /// `PostgresRolesTests.rows`, an answer in 川越's finished record, the snapshots of
    /// `PostgresSnapshotRolesTests`, and 所沢's record private to its counselor.
    static let rows = R.rows + [
        "INSERT INTO event (session_id, seq, at, utc_offset, actor, event, answers) VALUES ('kawagoe-done', 1, 0, 0, 'client', 'answer', 'her answers')",
        PostgresSnapshotRolesTests.snapshots,
        "UPDATE session SET counselor = 'someone' WHERE id = 'tokorozawa-done'",
        "INSERT INTO private_session (session_id, counselor, marked_at) VALUES ('tokorozawa-done', 'someone', 0)",
    ]

    @Test func theDeleterFindsWhatToDeleteWithoutReadingARecordAnAnswerOrAState() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        do {
            let owner = try await db.open()
            _ = try await db.sql(Self.rows)
            let kawagoe = try await logins.make(.counselor, office: "川越", owner: owner)
            let supervisor = try await logins.make(.supervisor, office: nil, owner: owner)
            let deleter = try await logins.make(.deleter, office: nil, owner: owner)
            await owner.close()

            // Not a record (a private one least of all), an entry's answers or event, a snapshot's
            // state; nor who a session's counselor or client is, nor which sessions are private.
            #expect(await R.run(deleter.url, "SELECT record FROM session WHERE id = 'tokorozawa-done'") == R.refused)
            #expect(await R.run(deleter.url, "SELECT record FROM session WHERE id = 'kawagoe-done'") == R.refused)
            #expect(await R.run(deleter.url, "SELECT * FROM session") == R.refused)
            #expect(await R.run(deleter.url, "SELECT counselor FROM session") == R.refused)
            #expect(await R.run(deleter.url, "SELECT client_id FROM session") == R.refused)
            #expect(await R.run(deleter.url, "SELECT answers FROM event WHERE session_id = 'kawagoe-done'") == R.refused)
            #expect(await R.run(deleter.url, "SELECT event FROM event") == R.refused)
            #expect(await R.run(deleter.url, "SELECT count(*) FROM event WHERE answers LIKE 'her%'") == R.refused)
            #expect(await R.run(deleter.url, "SELECT state FROM snapshot") == R.refused)
            #expect(await R.run(deleter.url, "SELECT counselor FROM private_session") == R.refused)
            #expect(await R.run(deleter.url, "SELECT created_at FROM client") == R.refused)
            // What finds the rows to delete: sessions' ids, status and times, entries per session,
            // and whether a session has an answer after its start (yes or no, nothing of it).
            #expect(await R.run(deleter.url, "SELECT id FROM session ORDER BY id")
                    == R.ok("kawagoe-done", "kiosk-done", "kiosk-elsewhere", "kiosk-open", "kiosk-stopped", "tokorozawa-done"))
            #expect(await R.run(deleter.url, "SELECT status FROM session WHERE id = 'kiosk-open'") == R.ok("in_progress"))
            #expect(await R.run(deleter.url, "SELECT count(*) FROM event WHERE session_id = 'kawagoe-done'") == R.ok("2"))
            #expect(await R.run(deleter.url, "SELECT intake_answered('kawagoe-done')::text") == R.ok("true"))
            #expect(await R.run(deleter.url, "SELECT intake_answered('kiosk-open')::text") == R.ok("false"))
            #expect(await R.run(deleter.url, "SELECT intake_newest_sealed()::text") == R.ok("false"))
            // Nobody else needs to ask.
            #expect(await R.run(kawagoe.url, "SELECT intake_answered('kawagoe-done')::text") == R.refused)
            #expect(await R.run(supervisor.url, "SELECT intake_newest_sealed()::text") == R.refused)
            // Those who may read the record still do.
            #expect(await R.run(supervisor.url, "SELECT answers FROM event WHERE answers IS NOT NULL") == R.ok("her answers"))
            #expect(await R.run(kawagoe.url, "SELECT answers FROM event WHERE answers IS NOT NULL") == R.ok("her answers"))
            #expect(await R.run(supervisor.url, "SELECT record FROM session WHERE id = 'tokorozawa-done'") == R.ok("record of 所沢"))

            // It deletes, and what it deletes it cannot read on the way out.
            #expect(await R.run(deleter.url, "DELETE FROM event WHERE session_id = 'kawagoe-done' RETURNING answers") == R.refused)
            #expect(await R.run(deleter.url, "DELETE FROM session WHERE id = 'kawagoe-done' RETURNING record") == R.refused)
            #expect(await R.run(deleter.url, "DELETE FROM snapshot WHERE session_id = 'kawagoe-done' RETURNING seq") == R.ok("0"))
            #expect(await R.run(deleter.url, "DELETE FROM event WHERE session_id = 'kawagoe-done' RETURNING seq") == R.ok("0", "1"))
            #expect(await R.run(deleter.url, "DELETE FROM session WHERE id = 'tokorozawa-done' RETURNING id") == R.ok("tokorozawa-done"))
            #expect(await R.run(db.url, "SELECT count(*) FROM private_session") == R.ok("0"))
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// Through the store as `records purge` and `records delete` use it: the deleter opens the
    /// database (its check that the newest entry is not sealed in a database that says it is not
    /// still holds), purges only what has no answer, deletes, and the audit names it.
    @Test func theDeleterStillPurgesAndDeletesThroughTheStore() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        let t0: Int64 = 1_795_000_000_000
        func info(_ id: String) -> SessionInfo {
            SessionInfo(id: id, dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress,
                        startedAt: t0, updatedAt: t0, office: "川越")
        }
        let moment = Moment(epochMillis: t0, utcOffsetMinutes: 540)
        let start = LogEntry(seq: 0, at: moment, actor: .client, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk))
        let answer = LogEntry(seq: 1, at: moment, actor: .client, event: .input(.answer("花子")),
                              answers: [AnswerChange(path: Path("name"), entry: AnswerEntry(.value(.text("花子")), at: t0))])
        do {
            let owner = try await db.open()
            let deleter = try await logins.make(.deleter, office: nil, owner: owner)
            try await owner.create(info("abandoned"), first: start, token: ResumeToken.random())
            try await owner.create(info("answered"), first: start, token: ResumeToken.random())
            try await owner.append([answer], to: "answered", status: .inProgress, locale: "ja", record: nil, at: t0)
            try await owner.create(info("asked-to-go"), first: start, token: ResumeToken.random())
            try await owner.append([answer], to: "asked-to-go", status: .inProgress, locale: "ja", record: nil, at: t0)
            await owner.close()

            let d = try await PostgresStore.open(url: deleter.url)
            #expect(try await d.purgeAbandoned(olderThanDays: 1, by: .counselor(d.identity), at: t0 + 3 * 86_400_000) == 1)
            #expect(try await d.deleteSession("asked-to-go", by: .counselor(d.identity), at: t0))
            #expect(try await d.deleteSession("asked-to-go", by: .counselor(d.identity), at: t0) == false)
            await d.close()
            #expect(try await db.sql("SELECT id FROM session").map { try $0.decode(String.self) } == ["answered"])
            #expect(try await db.sql("SELECT actor FROM audit WHERE action IN ('purge-abandoned', 'delete-session') ORDER BY id")
                .map { try $0.decode(String.self) } == ["counselor:\(deleter.name)", "counselor:\(deleter.name)"])

            // The newest entry sealed in a database that says it is not: damage, for the deleter too.
            _ = try await db.sql(["UPDATE event SET event = 'enc1:x' WHERE session_id = 'answered' AND seq = 1"])
            await #expect(throws: StoreError.damagedDatabase) { _ = try await PostgresStore.open(url: deleter.url) }
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    @Test func aCounselorWritesEntriesAuditRowsAndSessionsOnlyUnderHerOwnName() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        func event(_ session: String, _ seq: Int, actor: String) -> String {
            "INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES ('\(session)', \(seq), 0, 0, \(actor), 'x')"
        }
        func audit(actor: String) -> String { "INSERT INTO audit (at, actor, action, detail) VALUES (1, \(actor), 'read', 'show')" }
        func session(_ id: String, digest: String, mode: String = "counselor", counselor: String) -> String {
            """
            INSERT INTO session (id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at, counselor, office, token_digest)
            VALUES ('\(id)', 'intake', '1', '\(mode)', 'ja', 'in_progress', 0, 0, \(counselor), '川越', '\\x\(digest)')
            """
        }
        do {
            let owner = try await db.open()
            _ = try await db.sql(R.rows)
            let sato = try await logins.make(.counselor, office: "川越", owner: owner)
            let suzuki = try await logins.make(.counselor, office: "川越", owner: owner)
            let supervisor = try await logins.make(.supervisor, office: nil, owner: owner)
            let kiosk = try await logins.make(.kiosk, office: nil, owner: owner)
            let deleter = try await logins.make(.deleter, office: nil, owner: owner)
            await owner.close()
            let asSuzuki = "'counselor:\(suzuki.name)'"

            // An entry: in her own name, or the client's (at her terminal); never a colleague's.
            #expect(await R.run(sato.url, event("kawagoe-done", 1, actor: asSuzuki)) == R.refused)
            #expect(await R.run(sato.url, event("kawagoe-done", 1, actor: "'\(suzuki.name)'")) == R.refused)
            #expect(await R.run(sato.url, event("kawagoe-done", 1, actor: "'c'")) == R.refused)
            #expect(await R.run(sato.url, event("kawagoe-done", 1, actor: "'counselor:' || current_user")) == R.ok())
            #expect(await R.run(sato.url, event("kawagoe-done", 2, actor: "'client'")) == R.ok())
            #expect(await R.run(suzuki.url, event("kawagoe-done", 3, actor: asSuzuki)) == R.ok())
            // An audit row: her login (a read) or as a counselor (a deletion); never a colleague's.
            #expect(await R.run(sato.url, audit(actor: "'\(suzuki.name)'")) == R.refused)
            #expect(await R.run(sato.url, audit(actor: asSuzuki)) == R.refused)
            #expect(await R.run(sato.url, audit(actor: "'client'")) == R.refused)
            #expect(await R.run(sato.url, audit(actor: "current_user")) == R.ok())
            #expect(await R.run(sato.url, audit(actor: "'counselor:' || current_user")) == R.ok())
            // A session she starts names her, or no counselor; and nobody renames one afterwards.
            #expect(await R.run(sato.url, session("sato-as-suzuki", digest: "a1", counselor: "'\(suzuki.name)'")) == R.refused)
            #expect(await R.run(sato.url, session("sato-own", digest: "a2", counselor: "current_user")) == R.ok())
            #expect(await R.run(sato.url, session("sato-client", digest: "a3", counselor: "NULL")) == R.ok())
            #expect(await R.run(sato.url, "UPDATE session SET counselor = '\(suzuki.name)' WHERE id = 'sato-own'") == R.refused)
            #expect(await R.run(sato.url, "UPDATE session SET counselor = current_user WHERE id = 'sato-client'") == R.refused)
            #expect(await R.run(sato.url, "UPDATE session SET client_id = '1024' WHERE id = 'sato-own'") == R.refused)
            #expect(await R.run(sato.url, "UPDATE session SET locale = 'en' WHERE id = 'sato-own' RETURNING id") == R.ok("sato-own"))
            #expect(await R.run(db.url, "SELECT counselor FROM session WHERE id = 'sato-own'") == R.ok(sato.name))

            // The kiosk writes as the client only, and starts sessions that name no counselor.
            #expect(await R.run(kiosk.url, event("kiosk-open", 1, actor: "'client'"), holder: "kiosk-a") == R.ok())
            #expect(await R.run(kiosk.url, event("kiosk-open", 2, actor: "'counselor:\(sato.name)'"), holder: "kiosk-a") == R.refused)
            #expect(await R.run(kiosk.url, event("kiosk-open", 2, actor: "'counselor:' || current_user"), holder: "kiosk-a") == R.refused)
            #expect(await R.run(kiosk.url, session("kiosk-new", digest: "a4", mode: "kiosk", counselor: "NULL")) == R.ok())
            #expect(await R.run(kiosk.url, session("kiosk-as-sato", digest: "a5", mode: "kiosk", counselor: "'\(sato.name)'")) == R.refused)

            // Every role's audit rows name itself.
            for login in [kiosk, supervisor, deleter] {
                #expect(await R.run(login.url, audit(actor: "current_user")) == R.ok())
                #expect(await R.run(login.url, audit(actor: "'counselor:' || current_user")) == R.ok())
                #expect(await R.run(login.url, audit(actor: "'\(sato.name)'")) == R.refused)
                #expect(await R.run(login.url, audit(actor: "'counselor:\(sato.name)'")) == R.refused)
            }
            // Only her own two rows name her; none names Suzuki, who wrote none.
            #expect(await R.run(db.url, "SELECT count(*) FROM audit WHERE actor IN ('\(sato.name)', 'counselor:\(sato.name)')") == R.ok("2"))
            #expect(await R.run(db.url, "SELECT count(*) FROM audit WHERE actor IN ('\(suzuki.name)', 'counselor:\(suzuki.name)')") == R.ok("0"))
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    /// Through the store: a counselor's store writes under its identity; a session or an entry
    /// or a read in another counselor's name is refused by the database, and hers goes on.
    @Test func theStoreWritesUnderTheLoginAndTheDatabaseRefusesAnotherName() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        let t0: Int64 = 1_795_000_000_000
        func info(_ id: String, counselor: String) -> SessionInfo {
            SessionInfo(id: id, dialogID: "intake", dialogVersion: "1", mode: .counselor, locale: "ja", status: .inProgress,
                        startedAt: t0, updatedAt: t0, counselor: counselor, office: "川越")
        }
        func entry(_ seq: Int, by actor: IntakeRuntime.Actor) -> LogEntry {
            let moment = Moment(epochMillis: t0 + Int64(seq) * 60_000, utcOffsetMinutes: 540)
            guard seq > 0 else {
                return LogEntry(seq: 0, at: moment, actor: actor, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .counselor))
            }
            return LogEntry(seq: seq, at: moment, actor: actor, event: .input(.answer("花子")),
                            answers: [AnswerChange(path: Path("name"), entry: AnswerEntry(.value(.text("花子")), at: moment.epochMillis))])
        }
        do {
            let owner = try await db.open()
            let sato = try await logins.make(.counselor, office: "川越", owner: owner)
            let suzuki = try await logins.make(.counselor, office: "川越", owner: owner)
            await owner.close()

            let c = try await PostgresStore.open(url: sato.url)
            #expect(c.identity == sato.name)
            let other = IntakeRuntime.Actor.counselor(suzuki.name), own = IntakeRuntime.Actor.counselor(c.identity)
            await #expect(throws: (any Error).self) {
                try await c.create(info("forged", counselor: suzuki.name), first: entry(0, by: other), token: ResumeToken.random())
            }
            await #expect(throws: (any Error).self) {
                try await c.create(info("forged-entry", counselor: c.identity), first: entry(0, by: other), token: ResumeToken.random())
            }
            try await c.create(info("s-1", counselor: c.identity), first: entry(0, by: own), token: ResumeToken.random())
            await #expect(throws: (any Error).self) {
                try await c.append([entry(1, by: other)], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: t0 + 60_000)
            }
            try await c.append([entry(1, by: .client)], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: t0 + 60_000)
            try await c.append([entry(2, by: own)], to: "s-1", status: .inProgress, locale: "ja", record: nil, at: t0 + 120_000)
            await #expect(throws: (any Error).self) { try await c.recordReads(["s-1"], kind: "show", by: suzuki.name, at: t0) }
            try await c.recordReads(["s-1"], kind: "show", by: c.identity, at: t0)
            #expect(try await c.log(of: "s-1").map(\.actor) == [own, .client, own])
            #expect(try await c.accessHistory(of: "s-1").map(\.actor) == [sato.name])
            #expect(try await c.listSessions(SessionFilter()).sessions.map(\.id) == ["s-1"])
            await c.close()
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }
}
