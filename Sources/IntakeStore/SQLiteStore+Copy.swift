import Foundation
import GRDB
import IntakeRuntime

extension SQLiteStore: StoreCopying {
    package var sealFingerprint: String? { database.sealed ? database.cipher?.fingerprint : nil }

    package func sessionIDs() async throws -> [String] {
        try await database.commitThread.read { db in try String.fetchAll(db, sql: "SELECT id FROM session ORDER BY rowid") }
    }

    package func storedCopy(of session: String) async throws -> StoredSessionCopy? {
        try await database.commitThread.read { db -> StoredSessionCopy? in
            guard let row = try Row.fetchOne(db, sql: StoredSession.select + " WHERE id = ?", arguments: [session]) else { return nil }
            let stored = try StoredSession(row)
            var clientSince: Int64?
            if let id = stored.row.clientId,
               let c = try Row.fetchOne(db, sql: "SELECT createdAt FROM client WHERE office = ? AND id = ?", arguments: [stored.row.office ?? "", id]) {
                do { clientSince = try c.strictInt("createdAt") } catch { throw RuntimeError.damaged(session: session) }
            }
            var events: [StoredEventCopy] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT \(IntakeDatabase.eventColumns) FROM event WHERE sessionId = ? ORDER BY seq",
                                           arguments: [session])
            while let r = try rows.next() {
                do {
                    let (event, hash) = try r.storedEvent(of: session)
                    events.append(StoredEventCopy(event: event, hash: hash))
                } catch {
                    throw RuntimeError.damaged(session: session)
                }
            }
            var privacy: Privacy?, privateSince: Int64?
            if let p = try Row.fetchOne(db, sql: "SELECT counselor, markedAt FROM private_session WHERE sessionId = ?", arguments: [session]) {
                do {
                    privacy = Privacy(counselor: try p.strictOptionalText("counselor"))
                    privateSince = try p.strictInt("markedAt")
                } catch { throw RuntimeError.damaged(session: session) }
            }
            return StoredSessionCopy(row: stored.row, hash: stored.hash, unchained: stored.unchained, clientSince: clientSince, events: events,
                                     privacy: privacy, privateSince: privateSince)
        }
    }

    package func insertCopy(_ copy: StoredSessionCopy) async throws {
        try await database.commitThread.write { db in
            let r = copy.row
            if let client = r.clientId {
                try db.execute(sql: "INSERT OR IGNORE INTO client (office, id, createdAt) VALUES (?, ?, ?)",
                               arguments: [r.office ?? "", client, copy.clientSince ?? r.startedAt])
            }
            try db.execute(sql: """
                INSERT INTO session (id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt,
                                     counselor, office, tokenDigest, record, head, hash, holder)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                """, arguments: [r.id, r.clientId, r.dialogId, r.dialogVersion, r.mode, r.locale, r.status, r.startedAt, r.updatedAt,
                                 r.counselor, r.office, r.tokenDigest, r.record, r.head, copy.hash])
            if copy.unchained { try db.execute(sql: "INSERT INTO unchained_session (id) VALUES (?)", arguments: [r.id]) }
            let insert = try db.makeStatement(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for e in copy.events {
                try insert.execute(arguments: [r.id, e.event.seq, e.event.at, e.event.utcOffset, e.event.actor, e.event.event, e.event.answers, e.hash])
            }
            if let privacy = copy.privacy {
                try db.execute(sql: "INSERT OR REPLACE INTO private_session (sessionId, counselor, markedAt) VALUES (?, ?, ?)",
                               arguments: [r.id, privacy.counselor, copy.privateSince ?? r.startedAt])
            }
        }
    }

    package func appendAudit(_ entries: [AuditEntry]) async throws {
        try await database.commitThread.write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO audit (at, actor, action, detail, session) VALUES (?, ?, ?, ?, ?)")
            for e in entries { try insert.execute(arguments: [e.at, e.actor, e.action, e.detail, e.session]) }
        }
    }
}
