import Foundation
import IntakePostgres
import Testing

/// A snapshot of a session's state holds what its log holds, so PostgreSQL gives it its log's
/// access rules (pg9): plain SQL as each role, as `PostgresRolesTests` does for the log.
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresSnapshotRolesTests {
    typealias R = PostgresRolesTests

    static let snapshots = """
        INSERT INTO snapshot (session_id, seq, entry_hash, state, hash) VALUES
          ('kawagoe-done', 0, '\\x00', 'state', '\\x00'), ('tokorozawa-done', 0, '\\x00', 'state', '\\x00'),
          ('kiosk-done', 0, '\\x00', 'state', '\\x00'), ('kiosk-open', 0, '\\x00', 'state', '\\x00'),
          ('kiosk-elsewhere', 0, '\\x00', 'state', '\\x00')
        """

    static func insert(_ session: String, seq: Int) -> String {
        "INSERT INTO snapshot (session_id, seq, entry_hash, state, hash) VALUES ('\(session)', \(seq), '\\x00', 'state', '\\x00')"
    }

    @Test func aSnapshotIsReadAndWrittenOnlyByWhoReadsAndWritesItsLog() async throws {
        let db = try await PostgresTestDatabase.database()
        let logins = TestLogins(db)
        do {
            let owner = try await db.open()
            _ = try await db.sql(R.rows + [Self.snapshots])
            let kawagoe = try await logins.make(.counselor, office: "川越", owner: owner)
            let supervisor = try await logins.make(.supervisor, office: nil, owner: owner)
            let kiosk = try await logins.make(.kiosk, office: nil, owner: owner)
            let deleter = try await logins.make(.deleter, office: nil, owner: owner)
            await owner.close()

            // A counselor: her office's sessions' snapshots, never another office's; written for hers only.
            #expect(await R.run(kawagoe.url, "SELECT session_id FROM snapshot ORDER BY session_id")
                    == R.ok("kawagoe-done", "kiosk-done", "kiosk-elsewhere", "kiosk-open"))
            #expect(await R.run(kawagoe.url, Self.insert("tokorozawa-done", seq: 1)) == R.refused)
            #expect(await R.run(kawagoe.url, Self.insert("kawagoe-done", seq: 1)) == R.ok())
            #expect(await R.run(kawagoe.url, "UPDATE snapshot SET state = 'x'") == R.refused)
            // Deleting (pg11): only a snapshot a newer one of the same session supersedes, of a
            // session she may write: never the newest, never another office's.
            _ = try await db.sql([Self.insert("tokorozawa-done", seq: 1)])
            #expect(await R.run(kawagoe.url, "DELETE FROM snapshot RETURNING session_id || '/' || seq") == R.ok("kawagoe-done/0"))
            #expect(await R.run(kawagoe.url, "DELETE FROM snapshot RETURNING session_id || '/' || seq") == R.ok())

            // A supervisor reads them all and writes none.
            #expect(await R.run(supervisor.url, "SELECT count(*) FROM snapshot") == R.ok("6"))
            #expect(await R.run(supervisor.url, "DELETE FROM snapshot") == R.refused)
            #expect(await R.run(supervisor.url, Self.insert("kawagoe-done", seq: 2)) == R.refused)

            // The kiosk: only those of the unfinished kiosk sessions its instance holds.
            #expect(await R.run(kiosk.url, "SELECT count(*) FROM snapshot") == R.ok("0"))
            #expect(await R.run(kiosk.url, "SELECT session_id FROM snapshot", holder: "kiosk-a") == R.ok("kiosk-open"))
            #expect(await R.run(kiosk.url, "SELECT session_id FROM snapshot", holder: "kiosk-b") == R.ok("kiosk-elsewhere"))
            #expect(await R.run(kiosk.url, Self.insert("kiosk-done", seq: 1), holder: "kiosk-a") == R.refused)
            #expect(await R.run(kiosk.url, Self.insert("kiosk-open", seq: 1), holder: "kiosk-b") == R.refused)
            #expect(await R.run(kiosk.url, Self.insert("kiosk-open", seq: 1), holder: "kiosk-a") == R.ok())
            #expect(await R.run(kiosk.url, "UPDATE snapshot SET state = 'x'", holder: "kiosk-a") == R.refused)
            #expect(await R.run(kiosk.url, "DELETE FROM snapshot RETURNING session_id || '/' || seq", holder: "kiosk-b") == R.ok())
            #expect(await R.run(kiosk.url, "DELETE FROM snapshot RETURNING session_id || '/' || seq", holder: "kiosk-a") == R.ok("kiosk-open/0"))

            // A private session's snapshots are hidden with its log from a counselor it is not private to.
            _ = try await db.sql(["INSERT INTO private_session (session_id, counselor, marked_at) VALUES ('kawagoe-done', 'someone_else', 0)"])
            #expect(await R.run(kawagoe.url, "SELECT count(*) FROM event WHERE session_id = 'kawagoe-done'") == R.ok("0"))
            #expect(await R.run(kawagoe.url, "SELECT count(*) FROM snapshot WHERE session_id = 'kawagoe-done'") == R.ok("0"))
            #expect(await R.run(supervisor.url, "SELECT count(*) FROM snapshot WHERE session_id = 'kawagoe-done'") == R.ok("1"))

            // Deleting any snapshot, the newest too: the deleter only.
            #expect(await R.run(deleter.url, "WITH d AS (DELETE FROM snapshot WHERE session_id = 'tokorozawa-done' RETURNING seq) SELECT count(*) FROM d") == R.ok("2"))
        } catch {
            await logins.dropAll()
            throw error
        }
        await logins.dropAll()
    }
}
