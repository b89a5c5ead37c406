import Foundation
import IntakePostgres
import IntakeRuntime
import Logging
import PostgresNIO
import Testing

/// A fresh database per test on the PostgreSQL server named by INTAKE_TEST_POSTGRES (a
/// `postgres://` URL; `Tests/Postgres/cluster start DIR` starts a throwaway one and prints it).
///
/// Without the variable, the PostgreSQL tests are disabled with a visible reason — unless
/// INTAKE_REQUIRE_POSTGRES=1 (CI), where they run and fail saying PostgreSQL is missing: never a
/// silent pass.
///
/// The suites' time limit (10 minutes) is there to end a hang, not to time the work (each test
/// takes seconds): in the whole suite these async tests can wait minutes for the test process's
/// two cooperative threads while blocking CLI tests hold them — at 2 minutes, three role tests
/// were cut off that way in one CI run, each finishing with the rest of the suite at its end.
enum PostgresTestDatabase {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["INTAKE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = environment["INTAKE_REQUIRE_POSTGRES"] == "1"
    /// Run the tests: a server is named, or one is required (and its absence then fails them).
    static let enabled = url != nil || required
    static let disabledReason: Comment = "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES=postgres://… (eval \"$(Tests/Postgres/cluster start /tmp/intake-pg)\")"

    struct Missing: Error, CustomStringConvertible {
        var description: String { "PostgreSQL is missing: INTAKE_REQUIRE_POSTGRES=1 but INTAKE_TEST_POSTGRES is not set (Tests/Postgres/cluster start DIR)" }
    }

    typealias Database = PostgresScratch.Database

    static let logger = Logger(label: "intake.postgres.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func database() async throws -> Database {
        guard let url else { throw Missing() }
        return try await PostgresScratch.create(admin: url)
    }

    /// A store on a fresh database, and what removes both.
    static func make(cipher: Cipher? = nil) async throws -> (store: PostgresStore, cleanup: @Sendable () async -> Void) {
        let db = try await database()
        do {
            let store = try await db.open(cipher: cipher)
            return (store, { await store.close(); await db.drop() })
        } catch {
            await db.drop()
            throw error
        }
    }

    static func withConnection<T: Sendable>(_ url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresScratch.withConnection(url, body)
    }
}
