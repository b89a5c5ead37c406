import Foundation
import IntakeRuntime
import Logging
import PostgresNIO

/// A write the committer batches: a new session, or entries appended to one.
enum PendingWrite: Sendable {
    case create(NewSession)
    case append(Append)

    struct NewSession: Sendable {
        var info: SessionInfo
        var digest: Data
        var first: SealedEntry
        var holder: String
        var chain: Chain
    }

    struct Append: Sendable {
        var session: String
        var entries: [SealedEntry]
        var status: String
        var locale: String
        var record: String?
        var at: Int64
        var holder: String
        var takesOver: Bool
        var chain: Chain
    }

    var session: String {
        switch self {
        case .create(let n): return n.info.id
        case .append(let a): return a.session
        }
    }
}

/// Group commit on PostgreSQL: every write waiting when a transaction begins goes into that one
/// transaction, so concurrent sessions' answers share one commit (one WAL flush under
/// `synchronous_commit = on`) instead of paying one each. The callers are suspended, never blocked,
/// until their transaction has committed (or failed).
///
/// A batch costs a few round trips whatever its size: one `SELECT … FOR UPDATE` locks every
/// appended-to session's row (in id order, so two instances' batches never deadlock) and reads its
/// newest entry; the checks (lease, order, chain) and the hashes are computed here; one INSERT
/// writes every entry and one UPDATE every session row (arrays through `unnest`). An append that
/// fails its checks (taken over, out of order, damaged) fails alone before anything is written; if
/// a statement fails, each write is retried alone, so one bad write fails only its own caller.
actor PostgresCommitter {
    struct Job {
        let write: PendingWrite
        let done: CheckedContinuation<Void, any Error>
    }

    private let client: PostgresClient
    private let logger: Logger
    private var pending: [Job] = []
    private var draining = false
    private var commits = 0
    private var committedWrites = 0

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Transactions committed so far and the writes they carried (writes / commits is the batch size).
    var stats: (commits: Int, writes: Int) { (commits, committedWrites) }

    /// Queues `write` into the next shared transaction; returns once it committed.
    func submit(_ write: PendingWrite) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append(Job(write: write, done: done))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            // Writes that arrive while this batch commits wait for the next one.
            let batch = pending
            pending = []
            let outcomes = await commit(batch.map(\.write))
            for (job, outcome) in zip(batch, outcomes) { job.done.resume(with: outcome) }
        }
        draining = false
    }

    private func commit(_ writes: [PendingWrite]) async -> [Result<Void, any Error>] {
        let client = self.client, logger = self.logger
        do {
            let outcomes = try await client.withConnection { c in
                try await PostgresStore.transaction(c, logger: logger) { c in try await Self.apply(writes, on: c, logger: logger) }
            }
            record(outcomes)
            return outcomes
        } catch {
            if writes.count == 1 { return [.failure(error)] }
        }
        // A statement failed: each write alone, so that it fails only its own caller.
        var outcomes: [Result<Void, any Error>] = []
        for write in writes {
            do {
                let outcome = try await client.withConnection { c in
                    try await PostgresStore.transaction(c, logger: logger) { c in try await Self.apply([write], on: c, logger: logger) }
                }
                record(outcome)
                outcomes.append(outcome[0])
            } catch {
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }

    private func record(_ outcomes: [Result<Void, any Error>]) {
        commits += 1
        committedWrites += outcomes.filter { if case .success = $0 { true } else { false } }.count
    }

    /// A session row as the batch sees it: locked, checked, with its newest entry.
    private struct Locked {
        var stored: StoredSession
        var lastSeq: Int64
        var previous: Data?
        var changed = false
    }

    /// Writes `writes` in the current transaction; an append that fails its checks has its own
    /// failure in the result and writes nothing. Throws when a statement fails.
    static func apply(_ writes: [PendingWrite], on c: PostgresConnection, logger: Logger) async throws -> [Result<Void, any Error>] {
        var outcomes: [Result<Void, any Error>] = Array(repeating: .success(()), count: writes.count)
        var events: [(session: String, entry: SealedEntry, hash: Data?)] = []

        // New sessions: their rows one by one (rare beside answers), their first entries with the rest.
        for case .create(let n) in writes {
            let info = n.info
            if let client = info.clientID {
                try await c.query("INSERT INTO client (id, created_at, office) VALUES (\(client), \(info.startedAt), \(info.office)) ON CONFLICT (id) DO NOTHING",
                                  logger: logger)
            }
            let head = n.chain.hash(n.first.chained(info.id), after: nil)
            let row = Chain.Session(id: info.id, clientId: info.clientID, dialogId: info.dialogID, dialogVersion: info.dialogVersion,
                                    mode: info.mode.rawValue, locale: info.locale, status: info.status.rawValue, startedAt: info.startedAt,
                                    updatedAt: info.updatedAt, counselor: info.counselor, office: info.office, tokenDigest: n.digest,
                                    record: nil, head: head)
            try await c.query("""
                INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at,
                                     counselor, office, token_digest, head, hash, holder)
                VALUES (\(info.id), \(info.clientID), \(info.dialogID), \(info.dialogVersion), \(info.mode.rawValue), \(info.locale),
                        \(info.status.rawValue), \(info.startedAt), \(info.updatedAt), \(info.counselor), \(info.office), \(ByteBuffer.of(n.digest)),
                        \(ByteBuffer.of(head)), \(ByteBuffer.of(n.chain.hash(row))), \(n.holder))
                """, logger: logger)
            events.append((info.id, n.first, head))
        }

        // Appends: every row locked at once, in id order, with its newest entry's seq and hash.
        let ids = Array(Set(writes.compactMap { if case .append(let a) = $0 { a.session } else { nil } })).sorted()
        var locked: [String: Result<Locked, any Error>] = [:]
        if !ids.isEmpty {
            let rows = try await c.query("""
                SELECT \(unescaped: StoredSession.columns),
                  (SELECT e.seq FROM event e WHERE e.session_id = s.id ORDER BY e.seq DESC LIMIT 1),
                  (SELECT e.hash FROM event e WHERE e.session_id = s.id ORDER BY e.seq DESC LIMIT 1)
                FROM session s WHERE s.id = ANY(\(ids)) ORDER BY s.id FOR UPDATE OF s
                """, logger: logger).collect()
            for row in rows {
                guard let id = try? row.decode(String.self) else { continue }
                locked[id] = Result {
                    let stored = try StoredSession(row)
                    let columns = row.makeRandomAccess()
                    do {
                        let seq = try columns[18].decode(Int64?.self)
                        return Locked(stored: stored, lastSeq: seq ?? .min, previous: seq == nil ? nil : try columns[19].decode(Data?.self))
                    } catch {
                        throw RuntimeError.damaged(session: id)
                    }
                }
            }
        }
        for (i, write) in writes.enumerated() {
            guard case .append(let a) = write else { continue }
            do {
                // No such session (deleted meanwhile): not stored, and the client is told.
                guard var s = try locked[a.session]?.get() else { throw RuntimeError.takenOver }
                // The lease before anything else: another instance resumed the session since this one took it.
                if !a.takesOver, s.stored.holder != a.holder { throw RuntimeError.takenOver }
                let unchained = s.stored.unchained
                if !unchained {
                    _ = try s.stored.checked(a.chain)
                    // The chain goes on from the entry the row names as newest: entries cut off
                    // from its end are damage, not laundered by a new head.
                    if s.previous != s.stored.row.head { throw RuntimeError.damaged(session: a.session) }
                }
                var new: [(String, SealedEntry, Data?)] = []
                for e in a.entries {
                    guard e.seq > s.lastSeq else { throw StoreError.outOfOrder(session: a.session) }
                    s.lastSeq = e.seq
                    let hash = unchained ? nil : a.chain.hash(e.chained(a.session), after: s.previous)
                    new.append((a.session, e, hash))
                    s.previous = hash
                }
                s.stored.row.status = a.status
                s.stored.row.locale = a.locale
                s.stored.row.updatedAt = a.at
                if let record = a.record { s.stored.row.record = record }
                if !unchained, !a.entries.isEmpty { s.stored.row.head = s.previous }
                s.stored.hash = unchained ? nil : a.chain.hash(s.stored.row)
                if a.takesOver { s.stored.holder = a.holder }
                s.changed = true
                locked[a.session] = .success(s)
                events += new
            } catch {
                outcomes[i] = .failure(error)
            }
        }

        // Every entry in one statement (NULL travels as an empty value: no stored value is empty).
        if !events.isEmpty {
            try await c.query("""
                INSERT INTO event (session_id, seq, at, utc_offset, actor, event, answers, hash)
                SELECT v.session_id, v.seq, v.at, v.utc_offset, v.actor, v.event, NULLIF(v.answers, ''), NULLIF(v.hash, '\\x'::bytea)
                FROM unnest(\(events.map(\.session))::text[], \(events.map(\.entry.seq))::bigint[], \(events.map(\.entry.at))::bigint[],
                            \(events.map(\.entry.utcOffset))::bigint[], \(events.map(\.entry.actor))::text[], \(events.map(\.entry.event))::text[],
                            \(events.map { $0.entry.answers ?? "" })::text[], \(events.map { ByteBuffer.of($0.hash ?? Data()) })::bytea[])
                     AS v(session_id, seq, at, utc_offset, actor, event, answers, hash)
                """, logger: logger)
        }
        // Every changed session row in one statement.
        let changed = locked.values.compactMap { try? $0.get() }.filter(\.changed).map(\.stored)
        if !changed.isEmpty {
            try await c.query("""
                UPDATE session AS s SET status = v.status, locale = v.locale, updated_at = v.updated_at, record = NULLIF(v.record, ''),
                                        head = NULLIF(v.head, '\\x'::bytea), hash = NULLIF(v.hash, '\\x'::bytea), holder = NULLIF(v.holder, '')
                FROM unnest(\(changed.map(\.row.id))::text[], \(changed.map(\.row.status))::text[], \(changed.map(\.row.locale))::text[],
                            \(changed.map(\.row.updatedAt))::bigint[], \(changed.map { $0.row.record ?? "" })::text[],
                            \(changed.map { ByteBuffer.of($0.row.head ?? Data()) })::bytea[], \(changed.map { ByteBuffer.of($0.hash ?? Data()) })::bytea[],
                            \(changed.map { $0.holder ?? "" })::text[])
                     AS v(id, status, locale, updated_at, record, head, hash, holder)
                WHERE s.id = v.id
                """, logger: logger)
        }
        return outcomes
    }
}
