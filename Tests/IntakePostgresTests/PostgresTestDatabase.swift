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

    /// A new, empty database `t_<random>` (dropped by `drop`).
    struct Database: Sendable {
        var name: String
        var url: String

        func open(cipher: Cipher? = nil, access: DatabaseAccess = .write) async throws -> PostgresStore {
            try await PostgresStore.open(url: url, cipher: cipher, access: access, maximumConnections: 6)
        }

        /// Runs SQL as the test's user (psql-style tampering, inspection).
        func sql(_ statements: String...) async throws -> [PostgresRow] {
            try await PostgresTestDatabase.withConnection(url) { c in
                var last: [PostgresRow] = []
                for s in statements { last = try await c.query(PostgresQuery(unsafeSQL: s), logger: PostgresTestDatabase.logger).collect() }
                return last
            }
        }

        func drop() async {
            guard let admin = PostgresTestDatabase.url else { return }
            _ = try? await PostgresTestDatabase.withConnection(admin) { c in
                try await c.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"), logger: PostgresTestDatabase.logger)
            }
        }
    }

    static let logger = Logger(label: "intake.postgres.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func database() async throws -> Database {
        guard let url else { throw Missing() }
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await withConnection(url) { c in
            try await c.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
        }
        guard var components = URLComponents(string: url) else { throw Missing() }
        components.path = "/" + name
        guard let dbURL = components.string else { throw Missing() }
        return Database(name: name, url: dbURL)
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
        let target = try PostgresTarget.resolve(url: url)
        let config = target.isUnixSocket
            ? PostgresConnection.Configuration(unixSocketPath: target.socketPath, username: target.user, password: target.password, database: target.database)
            : PostgresConnection.Configuration(host: target.host, port: target.port, username: target.user, password: target.password,
                                               database: target.database, tls: .disable)
        let c = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        do {
            let value = try await body(c)
            try await c.close()
            return value
        } catch {
            try? await c.close()
            throw error
        }
    }
}
