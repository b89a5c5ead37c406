import Foundation
import IntakeDialogs
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import PostgresNIO
import Testing

/// A client who said no to sharing among counselors is read only by the counselor who took her
/// interview and by a supervisor (issue 16), enforced by PostgreSQL: plain SQL as each login.
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresPrivateTests {
    typealias R = PostgresRolesTests

    typealias Login = (name: String, url: String)
    /// Two counselors of 川越, a supervisor and a kiosk login on a fresh database.
    struct Staff { var sato, suzuki, supervisor, kiosk: Login }

    /// Runs `body` with the staff's logins; the database and the logins are dropped afterwards.
    static func withStaff(_ body: (PostgresTestDatabase.Database, Staff) async throws -> Void) async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        do {
            let owner = try await db.open()
            let staff = Staff(sato: try await logins.make(.counselor, office: "川越", owner: owner),
                              suzuki: try await logins.make(.counselor, office: "川越", owner: owner),
                              supervisor: try await logins.make(.supervisor, office: nil, owner: owner),
                              kiosk: try await logins.make(.kiosk, office: nil, owner: owner))
            await owner.close()
            try await body(db, staff)
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }

    @Test func aPrivateRecordIsReadOnlyByHerCounselorAndASupervisor() async throws {
        try await Self.withStaff { db, staff in
            let (sato, suzuki, supervisor, kiosk) = (staff.sato, staff.suzuki, staff.supervisor, staff.kiosk)
            _ = try await db.sql([
                "INSERT INTO client (office, id, created_at) VALUES ('川越', '5150', 0), ('川越', '6000', 0)",
                """
                INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at, counselor, office, token_digest, record) VALUES
                  ('sato-private', '5150', 'intake', '1', 'counselor', 'ja', 'complete', 0, 0, '\(sato.name)', '川越', '\\x01', 'her private record'),
                  ('sato-shared', '6000', 'intake', '1', 'counselor', 'ja', 'complete', 0, 0, '\(sato.name)', '川越', '\\x02', 'a shared record'),
                  ('kiosk-private', NULL, 'intake', '1', 'kiosk', 'ja', 'in_progress', 0, 0, NULL, '川越', '\\x03', NULL)
                """,
                """
                INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES
                  ('sato-private', 0, 0, 0, 'c', 'start'), ('sato-shared', 0, 0, 0, 'c', 'start'), ('kiosk-private', 0, 0, 0, 'c', 'start')
                """,
                "INSERT INTO private_session (session_id, counselor, marked_at) VALUES ('sato-private', '\(sato.name)', 0), ('kiosk-private', NULL, 0)",
                "INSERT INTO audit (at, actor, action, detail, session) VALUES (0, 'x', 'read', 'show', 'sato-private')",
            ])

            // Her counselor reads her record, its log and its access history.
            #expect(await R.run(sato.url, "SELECT record FROM session WHERE id = 'sato-private'") == R.ok("her private record"))
            #expect(await R.run(sato.url, "SELECT count(*) FROM event WHERE session_id = 'sato-private'") == R.ok("1"))
            #expect(await R.run(sato.url, "SELECT count(*) FROM audit WHERE session = 'sato-private'") == R.ok("1"))
            // Another counselor of the same office reads none of it, and cannot write to it.
            #expect(await R.run(suzuki.url, "SELECT id FROM session ORDER BY id") == R.ok("sato-shared"))
            #expect(await R.run(suzuki.url, "SELECT count(*) FROM event WHERE session_id = 'sato-private'") == R.ok("0"))
            #expect(await R.run(suzuki.url, "SELECT count(*) FROM audit WHERE session = 'sato-private'") == R.ok("0"))
            #expect(await R.run(suzuki.url, "UPDATE session SET record = 'x' WHERE id = 'sato-private' RETURNING id") == R.ok())
            #expect(await R.run(suzuki.url, "INSERT INTO event (session_id, seq, at, utc_offset, actor, event) VALUES ('sato-private', 1, 0, 0, 'counselor:' || current_user, 'x')")
                    == R.refused)
            // Nobody lifts the mark, nor moves it to herself; marking is only ever for the session's own counselor.
            #expect(await R.run(sato.url, "DELETE FROM private_session") == R.refused)
            #expect(await R.run(suzuki.url, "UPDATE private_session SET counselor = current_user") == R.refused)
            #expect(await R.run(suzuki.url, "INSERT INTO private_session (session_id, counselor, marked_at) VALUES ('sato-shared', current_user, 0)")
                    == R.refused)
            #expect(await R.run(supervisor.url, "DELETE FROM private_session") == R.refused)
            // A supervisor reads every record.
            #expect(await R.run(supervisor.url, "SELECT id FROM session ORDER BY id") == R.ok("kiosk-private", "sato-private", "sato-shared"))

            // A private kiosk session: no counselor reads it until one of its office claims it with
            // the client's resume token; then only she does.
            #expect(await R.run(sato.url, "SELECT count(*) FROM session WHERE id = 'kiosk-private'") == R.ok("0"))
            #expect(await R.run(kiosk.url, "SELECT intake_claim_private('\\x03')") == R.ok("?"))
            #expect(await R.run(supervisor.url, "SELECT intake_claim_private('\\x03')") == R.ok("?"))
            #expect(await R.run(sato.url, "SELECT intake_claim_private('\\x99')") == R.ok("?"))
            #expect(await R.run(sato.url, "SELECT count(*) FROM session WHERE id = 'kiosk-private'") == R.ok("0"))
            #expect(await R.run(suzuki.url, "SELECT intake_claim_private('\\x03')") == R.ok("?"))
            #expect(await R.run(suzuki.url, "SELECT count(*) FROM session WHERE id = 'kiosk-private'") == R.ok("1"))
            #expect(await R.run(sato.url, "SELECT intake_claim_private('\\x03')") == R.ok("?"))
            #expect(await R.run(sato.url, "SELECT count(*) FROM session WHERE id = 'kiosk-private'") == R.ok("0"))

            // Her later visit, started by another counselor, is private to that counselor from its start.
            #expect(await R.run(suzuki.url, """
                INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at, counselor, office, token_digest)
                VALUES ('suzuki-followup', '5150', 'followup', '1', 'counselor', 'ja', 'in_progress', 0, 0, current_user, '川越', '\\x04')
                """) == R.ok())
            #expect(await R.run(suzuki.url, "SELECT count(*) FROM session WHERE id = 'suzuki-followup'") == R.ok("1"))
            #expect(await R.run(sato.url, "SELECT count(*) FROM session WHERE id = 'suzuki-followup'") == R.ok("0"))
            #expect(await R.run(supervisor.url, "SELECT counselor FROM private_session WHERE session_id = 'suzuki-followup'") == R.ok(suzuki.name))
        }
    }

    /// Through the store as a counselor's terminal uses it: the client answers no at Sato's
    /// terminal; Suzuki's store does not find the session, Sato's does, a supervisor's does.
    @Test func theRunnerMarksTheSessionBeforeHerAnswerIsWritten() async throws {
        try await Self.withStaff { _, staff in
            let (sato, suzuki, supervisor) = (staff.sato, staff.suzuki, staff.supervisor)
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)
            let intake = try #require(project.dialogs["intake"])
            let at = { (m: Int64) in Moment(epochMillis: 1_795_000_000_000 + m * 60_000, utcOffsetMinutes: 540) }

            let satoStore = try await PostgresStore.open(url: sato.url)
            let runner = SessionRunner(engine: Engine(dialog: intake, catalog: project.catalog), store: satoStore)
            var (session, _) = try await runner.start(id: "p-1", token: ResumeToken.random(), locale: "ja", mode: .counselor,
                                                      actor: .counselor(satoStore.identity), clientID: "5150", office: "川越", at: at(0))
            _ = try await runner.handle(.answer("はい"), in: &session, actor: .client, at: at(1))
            let suzukiStore = try await PostgresStore.open(url: suzuki.url)
            #expect(try await suzukiStore.session("p-1")?.id == "p-1", "shared until she says no")
            _ = try await runner.handle(.answer("いいえ"), in: &session, actor: .client, at: at(2))
            #expect(try await suzukiStore.session("p-1") == nil)
            #expect(try await suzukiStore.log(of: "p-1").isEmpty)
            #expect(try await suzukiStore.listSessions(SessionFilter()).sessions.isEmpty)
            // Sato goes on: her answers are written, and her list shows the session.
            _ = try await runner.handle(.answer("ハローワーク"), in: &session, actor: .client, at: at(3))
            #expect(try await satoStore.log(of: "p-1").count == 4)
            #expect(try await satoStore.privacy(of: "p-1") == Privacy(counselor: sato.name))
            let supervisorStore = try await PostgresStore.open(url: supervisor.url)
            #expect(try await supervisorStore.log(of: "p-1").count == 4)

            // At a kiosk (the service as its own login): private to no counselor; Suzuki, given the
            // client's resume number at her desk, claims it by resuming it, and then only she reads it.
            let kioskStore = try await PostgresStore.open(url: staff.kiosk.url)
            let kiosk = SessionRunner(engine: Engine(dialog: intake, catalog: project.catalog), store: kioskStore)
            let token = ResumeToken.random()
            var (k, _) = try await kiosk.start(id: "k-1", token: token, locale: "ja", mode: .kiosk, actor: .client, office: "川越", at: at(4))
            _ = try await kiosk.handle(.answer("はい"), in: &k, actor: .client, at: at(5))
            _ = try await kiosk.handle(.answer("いいえ"), in: &k, actor: .client, at: at(6))
            try await kiosk.suspend(&k, actor: .client, at: at(7))
            #expect(try await supervisorStore.privacy(of: "k-1") == Privacy(counselor: nil))
            #expect(try await satoStore.session("k-1") == nil)
            let suzukiRunner = SessionRunner(engine: Engine(dialog: intake, catalog: project.catalog), store: suzukiStore)
            let (taken, _) = try await suzukiRunner.resume(token: token, mode: .counselor, actor: .counselor(suzukiStore.identity), at: at(8))
            #expect(taken.state.answers.count == k.state.answers.count)
            #expect(try await supervisorStore.privacy(of: "k-1") == Privacy(counselor: suzuki.name))
            #expect(try await satoStore.session(resuming: token) == nil, "the token is no key for anyone else once claimed")
            #expect(try await suzukiStore.session("k-1")?.id == "k-1")
            for store in [satoStore, suzukiStore, supervisorStore, kioskStore] { await store.close() }
        }
    }
}
