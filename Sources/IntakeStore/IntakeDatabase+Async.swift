import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// The session writes (and the reads a session's every answer needs), on the commit thread:
/// concurrent writes share a transaction (group commit); the caller is suspended until its rows
/// are on disk. This is the only way a session is written.
extension IntakeDatabase {
    public func createDurably(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws {
        let entry = try sealed(first, of: info.id)
        let digest = Data(token.digest)
        let chain = try writeChain
        let holder = instance
        try await commitThread.write { db in
            if let client = info.client {
                try db.execute(sql: "INSERT OR IGNORE INTO client (office, id, createdAt) VALUES (?, ?, ?)",
                               arguments: [client.office, client.number, info.startedAt])
            }
            try Self.insertSession(db, info, digest: digest, first: entry, chain: chain, holder: holder)
        }
    }

    public func appendDurably(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                              record: JSON?, at: Int64) async throws {
        let encoded = try entries.map { try sealed($0, of: session) }
        let recordText = try record.map { try cipher.seal($0.rendered(), context: "\(session)/record") }
        let chain = try writeChain
        let (holder, takesOver) = (instance, Self.takesOver(entries))
        try await commitThread.write { db in
            try Self.appendEntries(db, encoded, to: session, status: status, locale: locale, record: recordText, at: at, chain: chain, holder: holder, takesOver: takesOver)
        }
    }

    public func logAsync(of session: String) async throws -> [LogEntry] {
        let chain = self.chain
        let events = try await commitThread.read { db in try Self.storedLog(db, of: session, chain: chain).events }
        return try entries(events, of: session)
    }

    public func sessionAsync(resuming token: ResumeToken) async throws -> SessionInfo? {
        let digest = Data(token.digest)
        let chain = self.chain, sealed = self.sealed
        return try await commitThread.read { db in try Self.session(db, digest: digest, chain: chain, sealed: sealed) }
    }

    public func sessionAsync(_ id: String) async throws -> SessionInfo? {
        let chain = self.chain
        return try await commitThread.read { db in try Self.session(db, id: id, chain: chain) }
    }

    /// Marks a session private to its counselor (her row's), once; durably, before the answer
    /// that makes it private is written.
    public func markPrivateDurably(_ session: String, at: Int64) async throws {
        try await commitThread.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO private_session (sessionId, counselor, markedAt)
                SELECT id, counselor, ? FROM session WHERE id = ?
                """, arguments: [at, session])
        }
    }

    /// Whether a session is marked private, and to whom (nil: not private; `.some(nil)`: to no
    /// counselor yet). Read through the commit thread, after every write it has committed.
    public func privacyAsync(of session: String) async throws -> String?? {
        try await commitThread.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT counselor FROM private_session WHERE sessionId = ?", arguments: [session]) else {
                return String??.none
            }
            return .some(try row.strictOptionalText("counselor"))
        }
    }

    public func setDialogVersionDurably(_ version: String, of session: String) async throws {
        let chain = try writeChain
        try await commitThread.write { db in try Self.updateDialogVersion(db, version, of: session, chain: chain) }
    }

    /// Transactions the commit thread has committed, and the writes they carried (writes / commits
    /// is the mean batch size; the load generator and a test read it).
    public var asyncCommitStats: (commits: Int, writes: Int) { commitThread.stats }
}
