import Foundation
import IntakeRuntime
import Logging
import PostgresNIO

/// Throwaway databases on a PostgreSQL server, for the tests and the crash and load tools: a new,
/// empty database `t_<random>` beside the one an admin URL names, and its removal. Never used by
/// the product itself.
package enum PostgresScratch {
    package struct Database: Sendable {
        package var name: String
        package var url: String
        let admin: String

        package func open(cipher: Cipher? = nil, access: DatabaseAccess = .write, maximumConnections: Int = 6) async throws -> PostgresStore {
            try await PostgresStore.open(url: url, cipher: cipher, access: access, maximumConnections: maximumConnections)
        }

        /// Runs SQL as the URL's user (psql-style tampering, inspection); the last statement's rows.
        package func sql(_ statements: [String]) async throws -> [PostgresRow] {
            try await PostgresScratch.withConnection(url) { c in
                var last: [PostgresRow] = []
                for s in statements { last = try await c.query(PostgresQuery(unsafeSQL: s), logger: PostgresScratch.logger).collect() }
                return last
            }
        }

        package func sql(_ statements: String...) async throws -> [PostgresRow] {
            try await sql(statements)
        }

        package func drop() async {
            _ = try? await PostgresScratch.withConnection(admin) { c in
                try await c.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"), logger: PostgresScratch.logger)
            }
        }
    }

    package struct BadURL: Error {}

    /// One creation at a time (see `create`).
    actor Gate {
        private var busy = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func enter() async {
            if !busy {
                busy = true
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func leave() {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
    }

    static let gate = Gate()

    static let logger = Logger(label: "intake.postgres.scratch", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A new, empty database beside the one `admin` names (its user needs CREATEDB). One at a time
    /// in a process: CREATE DATABASE writes the template database through the WAL, and dozens at
    /// once (a parallel test run) make an I/O storm that slows every other test's commits.
    package static func create(admin: String) async throws -> Database {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        await gate.enter()
        do {
            _ = try await withConnection(admin) { c in
                try await c.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \"\(name)\""), logger: logger)
            }
            await gate.leave()
        } catch {
            await gate.leave()
            throw error
        }
        guard var components = URLComponents(string: admin) else { throw BadURL() }
        components.path = "/" + name
        guard let url = components.string else { throw BadURL() }
        return Database(name: name, url: url, admin: admin)
    }

    /// Runs `statements` as the URL's user (a test acting as one login with plain SQL); the last
    /// one's rows, their first column as text (NULL: nil). A refusal is the server's error.
    package static func texts(_ url: String, _ statements: [String]) async throws -> [String?] {
        try await withConnection(url) { c in
            var last: [String?] = []
            for s in statements {
                last = try await c.query(PostgresQuery(unsafeSQL: s), logger: logger).collect().map { try $0.decode(String?.self) }
            }
            return last
        }
    }

    /// The SQLSTATE of a server's refusal (42501: not permitted), or nil for any other error.
    package static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    package static func withConnection<T: Sendable>(_ url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
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
