import Foundation
import IntakeEngine
import IntakeRuntime
import Logging
import PostgresNIO

/// A snapshot as it is written: its state sealed, ready to insert.
struct SealedSnapshot: Sendable {
    var seq: Int64
    var state: String
}

/// Snapshots of a session's state (`SessionSnapshot`, table `snapshot`, pg9): written with the
/// entry they follow, read by a resume with only the entries after them, each checked against
/// the chain.
extension PostgresStore {
    public func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                       record: JSON?, at: Int64, snapshot: SessionSnapshot?) async throws {
        // A snapshot follows the last entry appended with it (as the runner writes it); any other is not kept.
        guard let snapshot, snapshot.seq == entries.last?.seq else {
            return try await append(entries, to: session, status: status, locale: locale, record: record, at: at)
        }
        let encoded = try entries.map { try sealed($0, of: session) }
        let recordText = try record.map { try cipher.seal($0.rendered(), context: "\(session)/record") }
        let state = try cipher.seal(String(decoding: snapshot.state, as: UTF8.self), context: "\(session)/snapshot/\(snapshot.seq)")
        let takesOver = entries.contains { entry in
            switch entry.event {
            case .resume, .migrate: return true
            default: return false
            }
        }
        try await committer.submit(.append(.init(session: session, entries: encoded, status: status.rawValue, locale: locale, record: recordText,
                                                 at: at, holder: instance, takesOver: takesOver, chain: try writeChain,
                                                 snapshot: SealedSnapshot(seq: Int64(snapshot.seq), state: state))))
    }

    public func resumeLog(of session: String) async throws -> ResumeLog {
        let chain = self.chain, logger = self.logger
        let read = try await read { c in try await Self.storedResumeLog(c, of: session, chain: chain, logger: logger) }
        guard let snapshot = read.snapshot else {
            return ResumeLog(snapshot: nil, entries: try entries(read.events, of: session), ignored: read.problem)
        }
        let state: String
        do {
            state = try opened(snapshot.state, context: "\(session)/snapshot/\(snapshot.seq)", session: session)
        } catch {
            // The snapshot does not open: the whole log, as without one.
            return ResumeLog(snapshot: nil, entries: try await log(of: session), ignored: .unreadable)
        }
        guard let seq = Int(exactly: snapshot.seq) else { throw RuntimeError.damaged(session: session) }
        return ResumeLog(snapshot: SessionSnapshot(seq: seq, state: Data(state.utf8)), entries: try entries(read.events, of: session))
    }

    /// The newest snapshot of `session` and the stored entries after it, checked: the snapshot's
    /// own hash, its entry's hash as the log stores it, and the chain from that entry to the
    /// session row's head (the row checked against its hash) — only those entries are read.
    /// Without a snapshot, or with one that does not check, the whole log (`storedLog`), and why.
    /// Run inside one snapshot of the database (`read`), so the snapshot, the log and the row agree.
    static func storedResumeLog(_ c: PostgresConnection, of session: String, chain: Chain?, logger: Logger) async throws
        -> (snapshot: SealedSnapshot?, events: [Chain.Event], problem: SnapshotProblem?) {
        let whole = { @Sendable (problem: SnapshotProblem?) async throws -> (snapshot: SealedSnapshot?, events: [Chain.Event], problem: SnapshotProblem?) in
            (nil, try await Self.storedLog(c, of: session, chain: chain, logger: logger).events, problem)
        }
        guard let chain else { return try await whole(nil) }
        guard let row = try await c.query("""
            SELECT seq, entry_hash, state, hash, EXISTS (SELECT 1 FROM unchained_session u WHERE u.id = \(session))
            FROM snapshot WHERE session_id = \(session) ORDER BY seq DESC LIMIT 1
            """, logger: logger).collect().first else { return try await whole(nil) }
        let seq: Int64, entryHash: Data, state: String, hash: Data, unchained: Bool
        do {
            (seq, entryHash, state, hash, unchained) = try row.decode((Int64, Data, String, Data, Bool).self)
        } catch {
            return try await whole(.unreadable)
        }
        guard !unchained else { return try await whole(nil) }
        guard chain.hash(Chain.Snapshot(session: session, seq: seq, entryHash: entryHash, state: state)) == hash else {
            return try await whole(.chainMismatch)
        }
        let rows = try await c.query("""
            SELECT seq, at, utc_offset, actor, event, answers, hash FROM event WHERE session_id = \(session) AND seq >= \(seq) ORDER BY seq
            """, logger: logger).collect()
        // The snapshot's entry: its stored hash is the one the snapshot names, or the snapshot is
        // not of this log (the whole log then finds whether the log itself is damaged).
        guard let first = rows.first, let head = try? first.makeRandomAccess().decodeFirstAndLast(),
              head.seq == seq, head.hash == entryHash else {
            return try await whole(.chainMismatch)
        }
        var previous = entryHash
        var events: [Chain.Event] = []
        for row in rows.dropFirst() {
            let e: Chain.Event, stored: Data?
            do {
                let (seq, at, offset, actor, event, answers, h) = try row.decode((Int64, Int64, Int64, String, String, String?, Data?).self)
                e = Chain.Event(session: session, seq: seq, at: at, utcOffset: offset, actor: actor, event: event, answers: answers)
                stored = h
            } catch {
                throw RuntimeError.damaged(session: session)
            }
            let expected = chain.hash(e, after: previous)
            guard stored == expected else { throw RuntimeError.damaged(session: session) }
            previous = expected
            events.append(e)
        }
        // The newest entry is the one the session row (checked against its hash) names.
        guard let sessionRow = try await c.query("\(unescaped: StoredSession.select) WHERE s.id = \(session)", logger: logger).collect().first else {
            throw RuntimeError.damaged(session: session)
        }
        let stored = try StoredSession(sessionRow)
        _ = try stored.checked(chain)
        guard stored.row.head == previous else { throw RuntimeError.damaged(session: session) }
        return (SealedSnapshot(seq: seq, state: state), events, nil)
    }
}

extension PostgresRandomAccessRow {
    /// An event row's seq (first column) and hash (last column).
    fileprivate func decodeFirstAndLast() throws -> (seq: Int64, hash: Data?) {
        (try self[0].decode(Int64.self), try self[count - 1].decode(Data?.self))
    }
}

extension PostgresCommitter {
    /// The snapshots of the batch's appends that were written, each with its entry's chain hash,
    /// in the batch's transaction. A snapshot is an optimisation: one that cannot be written (a
    /// session written twice in the batch, a refusal) is left out — inside a savepoint, so the
    /// entries it came with are committed all the same; the resume then replays a little more.
    static func insertSnapshots(_ writes: [PendingWrite], _ outcomes: [Result<Void, any Error>], _ after: [String: Written],
                                on c: PostgresConnection, logger: Logger) async throws {
        var rows: [(session: String, seq: Int64, entryHash: Data, state: String, hash: Data)] = []
        for (write, outcome) in zip(writes, outcomes) {
            guard case .append(let a) = write, let snapshot = a.snapshot, case .success = outcome, let w = after[a.session],
                  !w.locked.stored.unchained, w.locked.lastSeq == snapshot.seq, let entryHash = w.locked.previous,
                  !rows.contains(where: { $0.session == a.session }) else { continue }
            let hash = a.chain.hash(Chain.Snapshot(session: a.session, seq: snapshot.seq, entryHash: entryHash, state: snapshot.state))
            rows.append((a.session, snapshot.seq, entryHash, snapshot.state, hash))
        }
        guard !rows.isEmpty else { return }
        try await c.query("SAVEPOINT intake_snapshot", logger: logger)
        do {
            try await c.query("""
                INSERT INTO snapshot (session_id, seq, entry_hash, state, hash)
                SELECT * FROM unnest(\(rows.map(\.session))::text[], \(rows.map(\.seq))::bigint[], \(rows.map { ByteBuffer.of($0.entryHash) })::bytea[],
                                     \(rows.map(\.state))::text[], \(rows.map { ByteBuffer.of($0.hash) })::bytea[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
            // A resume reads only the newest: the ones before it go (pg11).
            try await c.query("""
                DELETE FROM snapshot s USING unnest(\(rows.map(\.session))::text[], \(rows.map(\.seq))::bigint[]) AS n (session_id, seq)
                WHERE s.session_id = n.session_id AND s.seq < n.seq
                """, logger: logger)
            try await c.query("RELEASE SAVEPOINT intake_snapshot", logger: logger)
        } catch {
            try await c.query("ROLLBACK TO SAVEPOINT intake_snapshot", logger: logger)
            logger.warning("snapshots not written (their entries are)", metadata: ["sessions": "\(rows.map(\.session).joined(separator: ","))"])
        }
    }
}
