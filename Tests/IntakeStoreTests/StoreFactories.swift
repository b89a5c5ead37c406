import Foundation
import GRDB
import IntakePostgres
import IntakeRuntime
import Testing
@testable import IntakeStore

/// A store under test: a fresh, empty database; a second opening of the same database (another
/// instance, as another process or machine would have); a way to damage a stored event as someone
/// with access to the database could; and cleanup.
struct StoreUnderTest: Sendable {
    let store: any StoreCopying
    /// The key it is sealed with (nil: not sealed): a database copied into it must be sealed alike.
    let cipher: Cipher?
    let reopen: @Sendable () async throws -> any Store
    /// Overwrites the stored text of one event of a session (an edit behind the store's back).
    let damageEvent: @Sendable (_ session: String, _ seq: Int) async throws -> Void
    /// Deletes a session's newest event (entries cut off the end of its log).
    let cutNewestEvent: @Sendable (_ session: String) async throws -> Void
    /// Changes a session row's locale without its hash (an edit of the row behind the store's back).
    let editRow: @Sendable (_ session: String) async throws -> Void
    /// Changes one character in the middle of the stored state of a session's newest snapshot
    /// (an edit of its bytes behind the store's back).
    let damageSnapshot: @Sendable (_ session: String) async throws -> Void
    let cleanup: @Sendable () async -> Void
}

/// Every store the conformance suite runs against. A store that needs a server it cannot find
/// says so: `unavailable` carries the reason, and the suite fails on it when the environment
/// requires that store (CI sets INTAKE_REQUIRE_POSTGRES=1).
struct StoreKind: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    let name: String
    let make: @Sendable () async throws -> StoreUnderTest
    /// Why this store cannot run here (nil: it can).
    let unavailable: String?
    /// Whether a missing store fails the run instead of being reported as not run.
    let required: Bool

    var description: String { name }
    var testDescription: String { name }

    static var all: [StoreKind] { [sqlite, sqliteSealed, postgres, postgresSealed] }

    /// PostgreSQL: a fresh database per test on the server INTAKE_TEST_POSTGRES names
    /// (`eval "$(Tests/Postgres/cluster start DIR)"`); without it the cases say so and pass only
    /// when PostgreSQL is not required (INTAKE_REQUIRE_POSTGRES=1 in CI makes them fail).
    static let postgresURL = ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let postgresRequired = ProcessInfo.processInfo.environment["INTAKE_REQUIRE_POSTGRES"] == "1"
    static let postgresMissing = postgresURL == nil ? "INTAKE_TEST_POSTGRES is not set (Tests/Postgres/cluster start DIR)" : nil

    static let postgres = StoreKind(name: "PostgreSQL", make: { try await postgresStore(cipher: nil) },
                                    unavailable: postgresMissing, required: postgresRequired)
    static let postgresSealed = StoreKind(name: "PostgreSQL sealed", make: {
        let keyPath = FileManager.default.temporaryDirectory.appendingPathComponent("intake-key-\(UUID().uuidString)").path
        try Cipher.newKeyFile(at: keyPath)
        return try await postgresStore(cipher: try Cipher(keyFile: keyPath))
    }, unavailable: postgresMissing, required: postgresRequired)

    static func postgresStore(cipher: Cipher?) async throws -> StoreUnderTest {
        guard let admin = postgresURL else { throw PostgresMissing() }
        let db = try await PostgresScratch.create(admin: admin)
        let store: PostgresStore
        do { store = try await db.open(cipher: cipher) } catch {
            await db.drop()
            throw error
        }
        let others = Others()
        return StoreUnderTest(
            store: store,
            cipher: cipher,
            reopen: {
                let other = try await db.open(cipher: cipher)
                await others.add(other)
                return other
            },
            damageEvent: { session, seq in
                _ = try await db.sql(["UPDATE event SET event = '{\"suspend\":{}}' WHERE session_id = '\(session)' AND seq = \(seq)"])
            },
            cutNewestEvent: { session in
                _ = try await db.sql(["DELETE FROM event WHERE session_id = '\(session)' AND seq = (SELECT max(seq) FROM event WHERE session_id = '\(session)')"])
            },
            editRow: { session in
                _ = try await db.sql(["UPDATE session SET locale = 'en' WHERE id = '\(session)'"])
            },
            damageSnapshot: { session in
                _ = try await db.sql(["""
                    UPDATE snapshot SET state = \(StoreKind.flipMiddle)
                    WHERE session_id = '\(session)' AND seq = (SELECT max(seq) FROM snapshot WHERE session_id = '\(session)')
                    """])
            },
            cleanup: {
                await store.close()
                for o in await others.all { await o.close() }
                await db.drop()
            })
    }

    struct PostgresMissing: Error {}

    /// SQL (SQLite and PostgreSQL alike) for `state` with its middle character changed.
    static let flipMiddle = """
        substr(state, 1, length(state) / 2) || CASE substr(state, length(state) / 2 + 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END
          || substr(state, length(state) / 2 + 2)
        """

    /// The second openings a test made, closed with the store.
    actor Others {
        var all: [PostgresStore] = []
        func add(_ s: PostgresStore) { all.append(s) }
    }

    static let sqlite = StoreKind(name: "SQLite", make: { try sqliteStore(cipher: nil) }, unavailable: nil, required: true)
    static let sqliteSealed = StoreKind(name: "SQLite sealed", make: {
        let keyPath = FileManager.default.temporaryDirectory.appendingPathComponent("intake-key-\(UUID().uuidString)").path
        try Cipher.newKeyFile(at: keyPath)
        return try sqliteStore(cipher: try Cipher(keyFile: keyPath))
    }, unavailable: nil, required: true)

    static func sqliteStore(cipher: Cipher?) throws -> StoreUnderTest {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-conf-\(UUID().uuidString).sqlite").path
        let db = try IntakeDatabase.open(path: path, cipher: cipher)
        return StoreUnderTest(
            store: db.store,
            cipher: cipher,
            reopen: { try IntakeDatabase.open(path: path, cipher: cipher).store },
            damageEvent: { session, seq in
                let other = try IntakeDatabase.open(path: path, cipher: cipher)
                try await other.writer.write { db in
                    try db.execute(sql: "UPDATE event SET event = ? WHERE sessionId = ? AND seq = ?",
                                   arguments: [#"{"suspend":{}}"#, session, seq])
                }
            },
            cutNewestEvent: { session in
                let other = try IntakeDatabase.open(path: path, cipher: cipher)
                try await other.writer.write { db in
                    try db.execute(sql: "DELETE FROM event WHERE sessionId = ? AND seq = (SELECT max(seq) FROM event WHERE sessionId = ?)",
                                   arguments: [session, session])
                }
            },
            editRow: { session in
                let other = try IntakeDatabase.open(path: path, cipher: cipher)
                try await other.writer.write { db in
                    try db.execute(sql: "UPDATE session SET locale = 'en' WHERE id = ?", arguments: [session])
                }
            },
            damageSnapshot: { session in
                let other = try IntakeDatabase.open(path: path, cipher: cipher)
                try await other.writer.write { db in
                    try db.execute(sql: """
                        UPDATE snapshot SET state = \(StoreKind.flipMiddle)
                        WHERE sessionId = ? AND seq = (SELECT max(seq) FROM snapshot WHERE sessionId = ?)
                        """, arguments: [session, session])
                }
            },
            cleanup: {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            })
    }
}
