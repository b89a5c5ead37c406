import Foundation
import GRDB
import IntakeRuntime
import Testing
@testable import IntakeStore

/// A store under test: a fresh, empty database; a second opening of the same database (another
/// instance, as another process or machine would have); a way to damage a stored event as someone
/// with access to the database could; and cleanup.
struct StoreUnderTest: Sendable {
    let store: any Store
    let reopen: @Sendable () async throws -> any Store
    /// Overwrites the stored text of one event of a session (an edit behind the store's back).
    let damageEvent: @Sendable (_ session: String, _ seq: Int) async throws -> Void
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

    static var all: [StoreKind] { [sqlite, sqliteSealed] }

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
            reopen: { try IntakeDatabase.open(path: path, cipher: cipher).store },
            damageEvent: { session, seq in
                let other = try IntakeDatabase.open(path: path, cipher: cipher)
                try await other.writer.write { db in
                    try db.execute(sql: "UPDATE event SET event = ? WHERE sessionId = ? AND seq = ?",
                                   arguments: [#"{"suspend":{}}"#, session, seq])
                }
            },
            cleanup: {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            })
    }
}
