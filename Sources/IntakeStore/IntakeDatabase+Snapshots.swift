import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// A snapshot as it is written: its state sealed, ready to insert.
struct SealedSnapshot: Sendable {
    var seq: Int
    var state: String
}

/// Snapshots of a session's state (`SessionSnapshot`): written with the entry they follow, read
/// by a resume with only the entries after them, each checked against the chain.
extension IntakeDatabase {
    /// Seals a snapshot's state (its own context: a sealed state opens only as this session's
    /// snapshot at this entry).
    func sealed(_ snapshot: SessionSnapshot, of session: String) throws -> SealedSnapshot {
        SealedSnapshot(seq: snapshot.seq, state: try cipher.seal(String(decoding: snapshot.state, as: UTF8.self),
                                                                  context: "\(session)/snapshot/\(snapshot.seq)"))
    }

    /// `appendDurably`, with a snapshot after one of the entries, in the same transaction.
    public func appendDurably(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                              record: JSON?, at: Int64, snapshot: SessionSnapshot?) async throws {
        guard let snapshot else {
            return try await appendDurably(entries, to: session, status: status, locale: locale, record: record, at: at)
        }
        let encoded = try entries.map { try sealed($0, of: session) }
        let recordText = try record.map { try cipher.seal($0.rendered(), context: "\(session)/record") }
        let sealedSnapshot = try sealed(snapshot, of: session)
        let chain = try writeChain
        let (holder, takesOver) = (instance, Self.takesOver(entries))
        try await commitThread.write { db in
            try Self.appendEntries(db, encoded, to: session, status: status, locale: locale, record: recordText, at: at, chain: chain,
                                   holder: holder, takesOver: takesOver, snapshot: sealedSnapshot)
        }
    }

    static func insertSnapshot(_ db: Database, _ snapshot: SealedSnapshot, of session: String, entryHash: Data, chain: Chain) throws {
        let hash = chain.hash(Chain.Snapshot(session: session, seq: Int64(snapshot.seq), entryHash: entryHash, state: snapshot.state))
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO snapshot (sessionId, seq, entryHash, state, hash) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [session, snapshot.seq, entryHash, snapshot.state, hash])
        // A resume reads only the newest snapshot (one that does not check means the whole log):
        // the ones before it are superseded, and a long session keeps one state, not dozens.
        try db.cachedStatement(sql: "DELETE FROM snapshot WHERE sessionId = ? AND seq < ?").execute(arguments: [session, snapshot.seq])
    }

    /// What a resume reads (`Store.resumeLog`): the newest snapshot, if it checks, and the entries
    /// after it; else the whole log.
    public func resumeLogAsync(of session: String) async throws -> ResumeLog {
        let chain = self.chain
        let read = try await commitThread.read { db in try Self.storedResumeLog(db, of: session, chain: chain) }
        guard let snapshot = read.snapshot else {
            return ResumeLog(snapshot: nil, entries: try entries(read.events, of: session), ignored: read.problem)
        }
        let state: String
        do {
            state = try opened(snapshot.state, context: "\(session)/snapshot/\(snapshot.seq)", session: session)
        } catch {
            // The snapshot does not open: the whole log, as without one.
            return ResumeLog(snapshot: nil, entries: try await logAsync(of: session), ignored: .unreadable)
        }
        return ResumeLog(snapshot: SessionSnapshot(seq: snapshot.seq, state: Data(state.utf8)), entries: try entries(read.events, of: session))
    }

    /// The newest snapshot of `session` and the stored entries after it, checked: the snapshot's
    /// own hash, its entry's hash as the log stores it, and the chain from that entry to the
    /// session row's head (the row checked against its hash) — only those entries are read.
    /// Without a snapshot, or with one that does not check, the whole log (`storedLog`), and why.
    /// A log damaged after the snapshot is `RuntimeError.damaged`, as `storedLog` finds it.
    static func storedResumeLog(_ db: Database, of session: String, chain: Chain?) throws
        -> (snapshot: SealedSnapshot?, events: [Chain.Event], problem: SnapshotProblem?) {
        let whole = { (problem: SnapshotProblem?) throws -> (snapshot: SealedSnapshot?, events: [Chain.Event], problem: SnapshotProblem?) in
            (nil, try Self.storedLog(db, of: session, chain: chain).events, problem)
        }
        // A log that cannot be checked (sealed, read without the key) or recorded before chains:
        // no snapshot is taken on trust.
        guard let chain else { return try whole(nil) }
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT seq, entryHash, state, hash, EXISTS (SELECT 1 FROM unchained_session u WHERE u.id = ?) AS unchained
            FROM snapshot WHERE sessionId = ? ORDER BY seq DESC LIMIT 1
            """), arguments: [session, session]) else { return try whole(nil) }
        let seq: Int64, entryHash: Data, state: String, hash: Data
        do {
            guard try row.strictInt("unchained") == 0 else { return try whole(nil) }
            (seq, entryHash, state, hash) = (try row.strictInt("seq"), try row.strictBlob("entryHash"), try row.strictText("state"), try row.strictBlob("hash"))
        } catch {
            return try whole(.unreadable)
        }
        guard let snapshotSeq = Int(exactly: seq),
              chain.hash(Chain.Snapshot(session: session, seq: seq, entryHash: entryHash, state: state)) == hash else {
            return try whole(.chainMismatch)
        }
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT \(eventColumns) FROM event WHERE sessionId = ? AND seq >= ? ORDER BY seq
            """), arguments: [session, seq])
        // The snapshot's entry: its stored hash is the one the snapshot names, or the snapshot is
        // not of this log (the whole log then finds whether the log itself is damaged).
        guard let first = try rows.next() else { return try whole(.chainMismatch) }
        do {
            let (event, stored) = try first.storedEvent(of: session)
            guard event.seq == seq, stored == entryHash else { return try whole(.chainMismatch) }
        } catch {
            return try whole(.chainMismatch)
        }
        var previous = entryHash
        var events: [Chain.Event] = []
        while let row = try rows.next() {
            let e: Chain.Event, stored: Data?
            do {
                (e, stored) = try row.storedEvent(of: session)
            } catch {
                throw RuntimeError.damaged(session: session)
            }
            let expected = chain.hash(e, after: previous)
            guard stored == expected else { throw RuntimeError.damaged(session: session) }
            previous = expected
            events.append(e)
        }
        // The newest entry is the one the session row (checked against its hash) names.
        guard let sessionRow = try Row.fetchOne(db.cachedStatement(sql: StoredSession.select + " WHERE id = ?"), arguments: [session]) else {
            throw RuntimeError.damaged(session: session)
        }
        let storedSession = try StoredSession(sessionRow)
        _ = try storedSession.checked(chain)
        guard storedSession.row.head == previous else { throw RuntimeError.damaged(session: session) }
        return (SealedSnapshot(seq: snapshotSeq, state: state), events, nil)
    }
}
