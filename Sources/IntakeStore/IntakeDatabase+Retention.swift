import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// Sessions abandoned before any answer: started (at a kiosk, or by a counselor), never finished,
/// and no event after the start changed an answer — someone pressed start and left, or a client
/// (or a script) opened sessions and never answered. They hold no client data beyond the start, are
/// not consultations in `report`, and go after the office's retention period (`records purge`).
extension IntakeDatabase {
    /// The SQL condition on `session` for "abandoned before any answer". Only the nullness of
    /// `event.answers` is read, so it works on a sealed database without the key.
    static let abandonedCondition = """
        session.status IN ('in_progress', 'suspended') AND NOT EXISTS (
            SELECT 1 FROM event WHERE event.sessionId = session.id AND event.seq > 0 AND event.answers IS NOT NULL)
        """

    /// Ids of abandoned sessions last touched before `updatedBefore` (epoch ms), oldest first.
    public func abandonedSessions(updatedBefore: Int64) throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM session WHERE session.updatedAt < ? AND \(Self.abandonedCondition) ORDER BY updatedAt, id",
                                arguments: [updatedBefore])
        }
    }

    /// Ids of abandoned sessions started in [from, to) (the report leaves them out).
    public func abandonedSessions(startedFrom from: Int64, to: Int64) throws -> Set<String> {
        try writer.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM session WHERE startedAt >= ? AND startedAt < ? AND \(Self.abandonedCondition)",
                                    arguments: [from, to]))
        }
    }

    /// Deletes every session abandoned before any answer and untouched for `days` days before
    /// `at`, with its log, in one transaction; the audit trail says how many, by whom and under
    /// which rule, and nothing of the data. Like `deleteSession`, the pages are overwritten
    /// (secure_delete) and the WAL checkpointed. Returns how many sessions went.
    @discardableResult
    public func purgeAbandoned(olderThanDays days: Int, by actor: Actor, at: Int64) throws -> Int {
        let cutoff = at - Int64(days) * 86_400_000
        let purged = try writer.write { db -> Int in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM session WHERE session.updatedAt < ? AND \(Self.abandonedCondition)",
                                          arguments: [cutoff])
            var events = 0
            let countEvents = try db.makeStatement(sql: "SELECT COUNT(*) FROM event WHERE sessionId = ?")
            let deleteEvents = try db.makeStatement(sql: "DELETE FROM event WHERE sessionId = ?")
            let deleteSnapshots = try db.makeStatement(sql: "DELETE FROM snapshot WHERE sessionId = ?")
            let deleteSession = try db.makeStatement(sql: "DELETE FROM session WHERE id = ?")
            let deleteUnchained = try db.makeStatement(sql: "DELETE FROM unchained_session WHERE id = ?")
            for id in ids {
                events += try Int.fetchOne(countEvents, arguments: [id]) ?? 0
                try deleteEvents.execute(arguments: [id])
                try deleteSnapshots.execute(arguments: [id])
                try deleteSession.execute(arguments: [id])
                try deleteUnchained.execute(arguments: [id])
            }
            try db.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, 'purge-abandoned', ?)",
                           arguments: [at, actor.stored,
                                       "\(ids.count) sessions abandoned before any answer and untouched for more than \(days) days, and their \(events) events"])
            return ids.count
        }
        if purged > 0 {
            try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        return purged
    }
}
