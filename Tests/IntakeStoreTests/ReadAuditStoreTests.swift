import Foundation
import IntakePostgres
import IntakeRuntime
import IntakeStore
import Testing

/// Reading is audited (issue 16): what the conformance suite cannot say through one store of each
/// kind — a sealed database opened only for reading, and a read whose rows cannot all be written.
@Suite struct ReadAuditStoreTests {
    /// A sealed database read with its key (or without it: ids, times and the audit trail are not
    /// sealed) still takes the audit rows of the records read through it.
    @Test func aSealedDatabaseOpenedForReadingRecordsReads() async throws {
        let keyPath = FileManager.default.temporaryDirectory.appendingPathComponent("intake-key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: keyPath) }
        try Cipher.newKeyFile(at: keyPath)
        let cipher = try Cipher(keyFile: keyPath)
        var stores: [(any Store, reading: [any Store], cleanup: @Sendable () async -> Void)] = []
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-sealed-\(UUID().uuidString).sqlite").path
        let sqlite = try IntakeDatabase.open(path: path, cipher: cipher).store
        stores.append((sqlite, [try IntakeDatabase.open(path: path, cipher: cipher, access: .read).store,
                                try IntakeDatabase.open(path: path, access: .read).store],
                       { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }))
        if let admin = StoreKind.postgresURL {
            let db = try await PostgresScratch.create(admin: admin)
            let writer = try await db.open(cipher: cipher)
            let withKey = try await db.open(cipher: cipher, access: .read), without = try await db.open(access: .read)
            stores.append((writer, [withKey, without], {
                for s in [writer, withKey, without] { await s.close() }
                await db.drop()
            }))
        } else if StoreKind.postgresRequired {
            Issue.record("PostgreSQL is required here but INTAKE_TEST_POSTGRES is not set")
        }
        for (writer, reading, cleanup) in stores {
            try await StoreConformanceTests.finished(writer, ["z-1"], secret: "秘密", tokens: 130)
            for (i, reader) in reading.enumerated() {
                try await reader.recordReads(["z-1"], kind: "show", by: reader.identity, at: StoreConformanceTests.at(Int64(10 + i)).epochMillis)
            }
            #expect(try await writer.accessHistory(of: "z-1").map(\.at) == [StoreConformanceTests.at(10).epochMillis, StoreConformanceTests.at(11).epochMillis])
            #expect(try await reading[1].accessHistory(of: "z-1").count == 2)
            await cleanup()
        }
    }

    /// The rows of one read are one transaction: when one of them cannot be written, none is, and
    /// the caller (which prints only after) is told.
    @Test func aReadIsRecordedWhollyOrNotAtAll() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-atomic-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let db = try IntakeDatabase.open(path: path)
        try await StoreConformanceTests.finished(db.store, ["y-1", "y-2"], secret: "秘密", tokens: 140)
        try await db.writer.write { c in
            try c.execute(sql: "CREATE TRIGGER refuse_y2 BEFORE INSERT ON audit WHEN NEW.session = 'y-2' BEGIN SELECT RAISE(ABORT, 'refused'); END")
        }
        await #expect(throws: (any Error).self) {
            try await db.store.recordReads(["y-1", "y-2"], kind: "export:json", by: "kawada", at: StoreConformanceTests.at(10).epochMillis)
        }
        #expect(try await db.store.audit().isEmpty)
        #expect(try await db.store.accessHistory(of: "y-1").isEmpty)
    }
}
