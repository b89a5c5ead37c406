import Foundation
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import PostgresNIO
import Testing

/// Reading is audited (issue 16), what is PostgreSQL's own: who is the database login, and the rows
/// of one read are one transaction.
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresReadAuditTests {
    @Test func theIdentityIsTheDatabaseLogin() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        let login = try #require(try await db.sql("SELECT current_user::text").first?.decode(String.self))
        #expect(store.identity == login)
        #expect(store.identity == (try PostgresTarget.resolve(url: PostgresTestDatabase.url).user))
        await store.close()
    }

    @Test func aReadIsRecordedWhollyOrNotAtAll() async throws {
        let db = try await PostgresTestDatabase.database()
        defer { Task { await db.drop() } }
        let store = try await db.open()
        _ = try await db.sql([
            "CREATE FUNCTION refuse_y2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.session = 'y-2' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_y2 BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse_y2()",
        ])
        await #expect(throws: (any Error).self) {
            try await store.recordReads(["y-1", "y-2"], kind: "export:json", by: "kawada", at: 1_795_000_000_000)
        }
        #expect(try await store.audit().isEmpty)
        try await store.recordReads(["y-1"], kind: "show", by: "kawada", at: 1_795_000_060_000)
        #expect(try await store.accessHistory(of: "y-1").map(\.detail) == ["show"])
        await store.close()
    }
}
