import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// The async path of the session store (the kiosk server): the same rows as `create`/`append`,
/// committed by the commit thread in shared transactions; the caller is suspended until its rows
/// are on disk.
extension IntakeDatabase: AsyncSessionStore {
    public func createDurably(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws {
        let event = try cipher.seal(try Self.encode(first.event), context: "\(info.id)/\(first.seq)")
        let answers = try first.answers.map { try cipher.seal(try Self.encodeAnswers($0), context: "\(info.id)/\(first.seq)/answers") }
        let digest = Data(token.digest)
        let holder = instance
        try await commitThread.write { db in
            if let client = info.clientID {
                try db.execute(sql: "INSERT OR IGNORE INTO client (id, createdAt, office) VALUES (?, ?, ?)",
                               arguments: [client, info.startedAt, info.office])
            }
            try db.cachedStatement(sql: """
                INSERT INTO session (id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt,
                                     counselor, office, tokenDigest, holder)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [info.id, info.clientID, info.dialogID, info.dialogVersion, info.mode.rawValue, info.locale,
                                         info.status.rawValue, info.startedAt, info.updatedAt, info.counselor, info.office, digest, holder])
            try db.cachedStatement(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: [info.id, first.seq, first.at.epochMillis, first.at.utcOffsetMinutes, first.actor.stored, event, answers])
        }
    }

    public func appendDurably(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                              record: JSON?, at: Int64) async throws {
        let encoded = try entries.map { entry in
            EncodedEntry(seq: entry.seq, at: entry.at.epochMillis, utcOffset: entry.at.utcOffsetMinutes, actor: entry.actor.stored,
                         event: try cipher.seal(try Self.encode(entry.event), context: "\(session)/\(entry.seq)"),
                         answers: try entry.answers.map { try cipher.seal(try Self.encodeAnswers($0), context: "\(session)/\(entry.seq)/answers") })
        }
        let recordText = try record.map { try cipher.seal($0.rendered(), context: "\(session)/record") }
        let (holder, takesOver) = (instance, Self.takesOver(entries))
        try await commitThread.write { db in
            // The lease first: a session resumed elsewhere refuses this append (nothing written).
            try Self.updateSession(db, session, status: status, locale: locale, at: at, record: recordText, holder: holder, takesOver: takesOver)
            let insert = try db.cachedStatement(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers) VALUES (?, ?, ?, ?, ?, ?, ?)")
            for e in encoded {
                try insert.execute(arguments: [session, e.seq, e.at, e.utcOffset, e.actor, e.event, e.answers])
            }
        }
    }

    public func logAsync(of session: String) async throws -> [LogEntry] {
        let rows = try await commitThread.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, at, utcOffset, actor, event, answers FROM event WHERE sessionId = ? ORDER BY seq",
                             arguments: [session]).map { row in
                StoredRow(seq: row["seq"], at: row["at"], utcOffset: row["utcOffset"], actor: row["actor"], event: row["event"], answers: row["answers"])
            }
        }
        return try rows.map { row in
            LogEntry(seq: row.seq, at: Moment(epochMillis: row.at, utcOffsetMinutes: row.utcOffset), actor: Actor(stored: row.actor),
                     event: try Self.decode(try cipher.open(row.event, context: "\(session)/\(row.seq)")),
                     answers: try row.answers.map { try Self.decodeAnswers(try cipher.open($0, context: "\(session)/\(row.seq)/answers")) })
        }
    }

    public func sessionAsync(resuming token: ResumeToken) async throws -> SessionInfo? {
        let digest = Data(token.digest)
        return try await commitThread.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM session WHERE tokenDigest = ?", arguments: [digest]).map(Self.info)
        }
    }

    public func setDialogVersionDurably(_ version: String, of session: String) async throws {
        try await commitThread.write { db in
            try db.execute(sql: "UPDATE session SET dialogVersion = ? WHERE id = ?", arguments: [version, session])
        }
    }

    /// Transactions the commit thread has committed, and the writes they carried (writes / commits
    /// is the mean batch size; the load generator and a test read it).
    public var asyncCommitStats: (commits: Int, writes: Int) { commitThread.stats }
}

private struct EncodedEntry: Sendable {
    var seq: Int
    var at: Int64
    var utcOffset: Int
    var actor: String
    var event: String
    var answers: String?
}

private struct StoredRow: Sendable {
    var seq: Int
    var at: Int64
    var utcOffset: Int
    var actor: String
    var event: String
    var answers: String?
}
