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
        /// Counted against its address's start limit in the same transaction (refused past it).
        var admission: RateLimit.Admission? = nil
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
        /// A snapshot of the session's state after the last of `entries`, written with them.
        var snapshot: SealedSnapshot? = nil
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
/// A batch is three round trips in the common case: BEGIN, one statement, COMMIT. Every write goes
/// through that one statement (`batchQuery`, prepared once per connection): it inserts new sessions
/// (their clients, rows and first entries) and updates each appended-to row only if it is still the
/// version expected (same `xmin`: nobody updated it since — no takeover, no edit) and its newest
/// entry is still the one expected (none removed or added), inserting the entries of the rows it
/// wrote. The committer remembers each row it wrote last (`Written`: the row, its newest entry and
/// the row version's `xmin`), so an append to such a row is checked and hashed here and expects
/// that version. Any other append — a resume, a row this instance has not written or that changed,
/// a session written twice in one batch — takes the locking path, in the same transaction after
/// the statement for the rest: one `SELECT … FOR UPDATE` locks every such row (in id order) and
/// reads it with its newest entry and version, the checks (lease, order, chain, the row's hash) are
/// made here, and the statement then writes them expecting the version read. An append that fails
/// its checks fails alone before anything of it is written; if a statement fails, each write is
/// retried alone, so one bad write fails only its own caller. (Two instances each taking over a
/// session the other is answering in the same moment can wait on each other's rows: PostgreSQL
/// ends one transaction after `deadlock_timeout`, and its writes are retried one by one.)
actor PostgresCommitter {
    struct Job {
        let write: PendingWrite
        let done: CheckedContinuation<Void, any Error>
    }

    /// A session row as this instance last wrote it, with its newest entry and the row version's
    /// transaction id (`xmin`).
    struct Written: Sendable {
        var locked: Locked
        var xmin: String
    }

    /// How many rows are remembered at most (a row is remembered from its session's start or the
    /// first append this instance makes to it).
    static let remembered = 20_000

    private let client: RenewingPool
    private let logger: Logger
    private var pending: [Job] = []
    private var draining = false
    private var commits = 0
    private var committedWrites = 0
    private var written: [String: Written] = [:]

    init(client: RenewingPool, logger: Logger) {
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
                // Above the sessions' own work: a batch's every step (each round trip's reply) would
                // otherwise wait for a thread behind the turns of every connection, and every
                // waiting answer with it.
                Task(priority: .high) { await self.drain() }
            }
        }
    }

    /// Commits batch after batch on one connection, held while writes keep coming. (Two batches on
    /// their way at once, each on its own connection, was measured: more CPU a turn, smaller
    /// batches, no shorter waits on two cores — BENCHMARKS.md.)
    private func drain() async {
        while !pending.isEmpty {
            do {
                try await client.withConnection { c in
                    while let batch = self.nextBatch() {
                        // A failed transaction may have been a lost connection, or one that can no
                        // longer run the batch statement (a failed prepare stays failed for the
                        // connection's life): it is closed, and the next batch leases a new one.
                        guard await self.commit(batch, on: c) else {
                            try? await c.close()
                            return
                        }
                    }
                }
            } catch {
                // No connection to be had: the writes waiting fail, each caller is told.
                let batch = pending
                pending = []
                for job in batch { forget(job.write.session); job.done.resume(throwing: error) }
            }
        }
        draining = false
    }

    /// The writes waiting now (those that arrive while they commit wait for the next batch).
    private func nextBatch() -> [Job]? {
        guard !pending.isEmpty else { return nil }
        defer { pending = [] }
        return pending
    }

    /// Commits `batch` in one transaction on `c` and answers its callers; false when that
    /// transaction failed (its writes were then retried one by one on connections of their own).
    private func commit(_ batch: [Job], on c: PostgresConnection) async -> Bool {
        let writes = batch.map(\.write)
        let logger = self.logger
        var known: [String: Written] = [:]
        for write in writes {
            if case .append(let a) = write, !a.takesOver, let w = written[write.session] { known[a.session] = w }
        }
        do {
            // On a connection that closed (the database server went away) no batch waits: it fails,
            // and its writes are retried on new connections.
            let (outcomes, after) = try await c.whileOpen { [known] c in
                try await PostgresStore.transaction(c, logger: logger) { c in
                    try await Self.apply(writes, known: known, on: c, logger: logger)
                }
            }
            record(writes, outcomes, after)
            for (job, outcome) in zip(batch, outcomes) { job.done.resume(with: outcome) }
            return true
        } catch {
            for write in writes { forget(write.session) }
            if writes.count == 1 {
                batch[0].done.resume(throwing: error)
                return false
            }
        }
        // A statement failed: each write alone, so that it fails only its own caller.
        for job in batch {
            do {
                let (outcome, after) = try await client.leasing { [job] c in
                    try await PostgresStore.transaction(c, logger: logger) { c in try await Self.apply([job.write], known: [:], on: c, logger: logger) }
                }
                record([job.write], outcome, after)
                job.done.resume(with: outcome[0])
            } catch {
                job.done.resume(throwing: error)
            }
        }
        return false
    }

    private func record(_ writes: [PendingWrite], _ outcomes: [Result<Void, any Error>], _ after: [String: Written]) {
        commits += 1
        for (write, outcome) in zip(writes, outcomes) {
            if case .success = outcome, let w = after[write.session] {
                committedWrites += 1
                written[write.session] = w
            } else {
                if case .success = outcome { committedWrites += 1 }
                forget(write.session)
            }
        }
        // Past the bound every row is forgotten (most are of sessions that have ended); a live
        // session's next append takes the locking path once and is remembered again.
        if written.count > Self.remembered { written.removeAll(keepingCapacity: true) }
    }

    private func forget(_ session: String) {
        written[session] = nil
    }

    /// A session row as the batch sees it: locked (or remembered), checked, with its newest entry.
    struct Locked: Sendable {
        var stored: StoredSession
        var lastSeq: Int64
        var previous: Data?
    }

    typealias NewEvent = (session: String, entry: SealedEntry, hash: Data?)

    /// `a`'s entries after `s`: their hashes and the row as it will be. Throws when an entry is not
    /// after the newest.
    static func advance(_ s: Locked, with a: PendingWrite.Append) throws -> (Locked, [NewEvent]) {
        var s = s
        let unchained = s.stored.unchained
        var new: [NewEvent] = []
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
        return (s, new)
    }

    /// Writes `writes` in the current transaction; an append that fails its checks has its own
    /// failure in the result and writes nothing. Throws when a statement fails. Returns, beside the
    /// outcomes, each written session's row as it now is.
    static func apply(_ writes: [PendingWrite], known: [String: Written], on c: PostgresConnection,
                      logger: Logger) async throws -> ([Result<Void, any Error>], [String: Written]) {
        var after: [String: Written] = [:]
        var locking: [Int] = []
        var fast: [(index: Int, row: Locked, events: [NewEvent], expected: Written)] = []
        var created: [(row: Locked, info: SessionInfo, first: NewEvent)] = []
        let (refused, limits) = try await admit(writes, on: c, logger: logger)
        // A session written twice in one batch (rare: a takeover on this instance while an answer
        // was on its way): the second write takes the locking path, which reads the first.
        var seen: Set<String> = []
        for (i, write) in writes.enumerated() {
            guard !refused.contains(i) else { continue }
            guard seen.insert(write.session).inserted else {
                locking.append(i)
                continue
            }
            switch write {
            case .create(let n):
                let info = n.info
                let head = n.chain.hash(n.first.chained(info.id), after: nil)
                let row = Chain.Session(id: info.id, clientId: info.clientID, dialogId: info.dialogID, dialogVersion: info.dialogVersion,
                                        mode: info.mode.rawValue, locale: info.locale, status: info.status.rawValue, startedAt: info.startedAt,
                                        updatedAt: info.updatedAt, counselor: info.counselor, office: info.office, tokenDigest: n.digest,
                                        record: nil, head: head)
                let stored = StoredSession(row: row, hash: n.chain.hash(row), unchained: false, holder: n.holder)
                created.append((Locked(stored: stored, lastSeq: n.first.seq, previous: head), info, (info.id, n.first, head)))
            case .append(let a):
                if let w = known[a.session], let (row, events) = try? advance(w.locked, with: a) {
                    fast.append((i, row, events, w))
                } else {
                    locking.append(i)
                }
            }
        }
        if !fast.isEmpty || !created.isEmpty || !limits.isEmpty {
            // One statement: the start limits' counts, the new sessions' clients and rows, the
            // remembered rows updated where they are still as this instance wrote them, and the
            // entries of the rows written.
            let events = created.map(\.first) + fast.flatMap(\.events)
            let new = created.map(\.row.stored)
            let clients = created.compactMap { c in c.info.client.map { (key: $0, at: c.info.startedAt) } }
            let statement = BatchStatement(query: Self.batchQuery(limits: limits, clients: clients, new: new,
                                                                  fast: fast.map { ($0.row.stored, $0.expected) }, events: events))
            var versions: [String: String] = [:]
            for try await (id, xmin) in try await c.execute(statement, logger: logger) {
                versions[id] = xmin
            }
            for c in created {
                // Every new row is inserted (or the statement failed): its version is remembered.
                if let xmin = versions[c.row.stored.row.id] { after[c.row.stored.row.id] = Written(locked: c.row, xmin: xmin) }
            }
            for f in fast {
                let row = f.row
                if let xmin = versions[row.stored.row.id] {
                    after[row.stored.row.id] = Written(locked: row, xmin: xmin)
                } else {
                    // The row changed since this instance wrote it: the locking path decides.
                    locking.append(f.index)
                }
            }
        }
        var outcomes: [Result<Void, any Error>] = Array(repeating: .success(()), count: writes.count)
        for i in refused { outcomes[i] = .failure(RateLimit.Refused()) }
        if !locking.isEmpty {
            locking.sort()
            let (lockedOutcomes, lockedAfter) = try await applyLocking(locking.map { writes[$0] }, on: c, logger: logger)
            for (i, outcome) in zip(locking, lockedOutcomes) { outcomes[i] = outcome }
            after.merge(lockedAfter) { _, new in new }
        }
        try await insertSnapshots(writes, outcomes, after, on: c, logger: logger)
        return (outcomes, after)
    }

    /// A start limit's row as the batch writes it.
    typealias Limited = (kind: String, address: String, windowStart: Int64, count: Int64)

    /// The batch's starts that are under a limit: their addresses' rows created if missing and
    /// locked (in key order, so that two instances' batches never wait on each other in a cycle),
    /// then each start counted in arrival order by `RateLimit.apply`, the rule every store applies.
    /// Returns the starts refused (not created, not counted) and the rows to write. Windows that
    /// have ended are deleted as others are counted, skipping rows another transaction holds.
    static func admit(_ writes: [PendingWrite], on c: PostgresConnection, logger: Logger) async throws -> (refused: Set<Int>, limits: [Limited]) {
        typealias Key = RateLimitRow
        var attempts: [(index: Int, key: Key, admission: RateLimit.Admission)] = []
        var first: [Key: RateLimit.Admission] = [:]
        for (i, write) in writes.enumerated() {
            guard case .create(let n) = write, let a = n.admission else { continue }
            let key = Key(kind: a.rule.kind, address: a.address)
            attempts.append((i, key, a))
            if first[key] == nil { first[key] = a }
        }
        guard !attempts.isEmpty else { return ([], []) }
        let firsts = first.sorted { $0.key < $1.key }
        let keys = firsts.map(\.key), starts = firsts.map(\.value)
        let rows = try await c.query("""
            WITH k AS (
              SELECT * FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.address))::text[], \(starts.map(\.at))::bigint[],
                                   \(starts.map { $0.at - $0.rule.window })::bigint[]) AS k(kind, address, at, ended)),
            pruned AS (
              DELETE FROM rate_limit WHERE ctid IN (
                SELECT r.ctid FROM rate_limit r JOIN k ON r.kind = k.kind AND r.window_start <= k.ended
                WHERE NOT EXISTS (SELECT 1 FROM k AS own WHERE own.kind = r.kind AND own.address = r.address)
                FOR UPDATE OF r SKIP LOCKED))
            INSERT INTO rate_limit AS r (kind, address, window_start, count)
            SELECT kind, address, at, 0 FROM k ORDER BY kind, address
            ON CONFLICT (kind, address) DO UPDATE SET count = r.count
            RETURNING kind, address, window_start, count
            """, logger: logger).collect()
        var current: [Key: (windowStart: Int64, count: Int)] = [:]
        for row in rows {
            let (kind, address, windowStart, count) = try row.decode((String, String, Int64, Int64).self)
            current[Key(kind: kind, address: address)] = (windowStart, Int(count))
        }
        var changed: Set<Key> = []
        var refused: Set<Int> = []
        for attempt in attempts {
            // Every key's row was returned (the upsert always returns it); one missing is not counted from zero.
            guard let row = current[attempt.key] else { throw PostgresLimitError() }
            let (write, allowed) = attempt.admission.rule.apply(row, counting: .admit, at: attempt.admission.at)
            if let write {
                current[attempt.key] = write
                changed.insert(attempt.key)
            }
            if !allowed { refused.insert(attempt.index) }
        }
        let limits = changed.sorted().compactMap { key in
            current[key].map { (kind: key.kind, address: key.address, windowStart: $0.windowStart, count: Int64($0.count)) }
        }
        return (refused, limits)
    }

    /// The batch statement: new sessions (their clients, rows and first entries) and appends to
    /// remembered rows. Its text is the same for every batch (the values travel as arrays), so it
    /// is prepared once per connection (`BatchStatement`) and planned once, not per batch.
    ///
    /// A remembered row is updated only if it is still as this instance wrote it (its `xmin`) and
    /// its log still ends with the entry this batch chains to: that entry is there with its hash,
    /// and none after it (a log cut short, or written past, takes the locking path, which names the
    /// damage). Both are lookups by the log's key, one row or none: reading "the newest entry" with
    /// ORDER BY … LIMIT 1 instead was planned, under the kiosk role's row-level security, as a read
    /// of every entry of the session with a policy check on each — PostgreSQL's CPU per turn doubled.
    static func batchQuery(limits: [Limited] = [], clients: [(key: ClientKey, at: Int64)], new: [StoredSession],
                           fast: [(stored: StoredSession, expected: Written)], events: [NewEvent]) -> PostgresQuery {
        let rows = fast.map(\.stored)
        return """
                WITH rl AS (
                  UPDATE rate_limit AS r SET window_start = l.window_start, count = l.count
                  FROM unnest(\(limits.map(\.kind))::text[], \(limits.map(\.address))::text[], \(limits.map(\.windowStart))::bigint[],
                              \(limits.map(\.count))::bigint[]) AS l(kind, address, window_start, count)
                  WHERE r.kind = l.kind AND r.address = l.address),
                nc AS (
                  INSERT INTO client (office, id, created_at)
                  SELECT * FROM unnest(\(clients.map(\.key.office))::text[], \(clients.map(\.key.number))::text[], \(clients.map(\.at))::bigint[])
                  ON CONFLICT (office, id) DO NOTHING),
                ns AS (
                  INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at,
                                       counselor, office, token_digest, head, hash, holder)
                  SELECT n.id, CASE WHEN n.has_client THEN n.client_id END, n.dialog_id, n.dialog_version, n.mode, n.locale, n.status,
                         n.started_at, n.updated_at, CASE WHEN n.has_counselor THEN n.counselor END, CASE WHEN n.has_office THEN n.office END,
                         n.token_digest, n.head, n.hash, n.holder
                  FROM unnest(\(new.map(\.row.id))::text[], \(new.map { $0.row.clientId ?? "" })::text[], \(new.map { $0.row.clientId != nil })::bool[],
                              \(new.map(\.row.dialogId))::text[], \(new.map(\.row.dialogVersion))::text[], \(new.map(\.row.mode))::text[],
                              \(new.map(\.row.locale))::text[], \(new.map(\.row.status))::text[], \(new.map(\.row.startedAt))::bigint[],
                              \(new.map(\.row.updatedAt))::bigint[], \(new.map { $0.row.counselor ?? "" })::text[], \(new.map { $0.row.counselor != nil })::bool[],
                              \(new.map { $0.row.office ?? "" })::text[], \(new.map { $0.row.office != nil })::bool[],
                              \(new.map { ByteBuffer.of($0.row.tokenDigest) })::bytea[], \(new.map { ByteBuffer.of($0.row.head ?? Data()) })::bytea[],
                              \(new.map { ByteBuffer.of($0.hash ?? Data()) })::bytea[], \(new.map { $0.holder ?? "" })::text[])
                       AS n(id, client_id, has_client, dialog_id, dialog_version, mode, locale, status, started_at, updated_at,
                            counselor, has_counselor, office, has_office, token_digest, head, hash, holder)
                  RETURNING id, xmin::text AS xmin),
                v AS (
                  SELECT * FROM unnest(\(rows.map(\.row.id))::text[], \(fast.map(\.expected.xmin))::text[],
                                       \(fast.map(\.expected.locked.lastSeq))::bigint[], \(fast.map { ByteBuffer.of($0.expected.locked.previous ?? Data()) })::bytea[],
                                       \(rows.map(\.row.status))::text[], \(rows.map(\.row.locale))::text[], \(rows.map(\.row.updatedAt))::bigint[],
                                       \(rows.map { $0.row.record ?? "" })::text[], \(rows.map { ByteBuffer.of($0.row.head ?? Data()) })::bytea[],
                                       \(rows.map { ByteBuffer.of($0.hash ?? Data()) })::bytea[], \(rows.map { $0.holder ?? "" })::text[])
                    AS v(id, xmin, last_seq, last_hash, status, locale, updated_at, record, head, hash, holder)),
                upd AS (
                  UPDATE session AS s SET status = v.status, locale = v.locale, updated_at = v.updated_at, record = NULLIF(v.record, ''),
                                          head = NULLIF(v.head, '\\x'::bytea), hash = NULLIF(v.hash, '\\x'::bytea), holder = NULLIF(v.holder, '')
                  FROM v
                  WHERE s.id = ANY(\(rows.map(\.row.id))::text[]) AND s.id = v.id AND s.xmin = v.xmin::xid
                    AND EXISTS (SELECT 1 FROM event e WHERE e.session_id = s.id AND e.seq = v.last_seq
                                  AND e.hash IS NOT DISTINCT FROM NULLIF(v.last_hash, '\\x'::bytea))
                    AND NOT EXISTS (SELECT 1 FROM event e WHERE e.session_id = s.id AND e.seq > v.last_seq)
                  RETURNING s.id, s.xmin::text AS xmin),
                ins AS (
                  INSERT INTO event (session_id, seq, at, utc_offset, actor, event, answers, hash)
                  SELECT e.session_id, e.seq, e.at, e.utc_offset, e.actor, e.event, NULLIF(e.answers, ''), NULLIF(e.hash, '\\x'::bytea)
                  FROM unnest(\(events.map(\.session))::text[], \(events.map(\.entry.seq))::bigint[], \(events.map(\.entry.at))::bigint[],
                              \(events.map(\.entry.utcOffset))::bigint[], \(events.map(\.entry.actor))::text[], \(events.map(\.entry.event))::text[],
                              \(events.map { $0.entry.answers ?? "" })::text[], \(events.map { ByteBuffer.of($0.hash ?? Data()) })::bytea[])
                       AS e(session_id, seq, at, utc_offset, actor, event, answers, hash)
                  WHERE e.session_id IN (SELECT id FROM upd UNION ALL SELECT id FROM ns))
                SELECT id, xmin FROM upd UNION ALL SELECT id, xmin FROM ns
                """
    }

    /// The locking path for appends: each row read under `FOR UPDATE` and checked in full (lease,
    /// row hash, chain head, order), then written by the batch statement like a remembered row —
    /// the version just read is the one expected, which holds while the lock does.
    static func applyLocking(_ writes: [PendingWrite], on c: PostgresConnection,
                             logger: Logger) async throws -> ([Result<Void, any Error>], [String: Written]) {
        var outcomes: [Result<Void, any Error>] = Array(repeating: .success(()), count: writes.count)
        var after: [String: Written] = [:]

        // Every row locked at once, in id order, with its newest entry's seq and hash and its version.
        let ids = Array(Set(writes.compactMap { if case .append(let a) = $0 { a.session } else { nil } })).sorted()
        var locked: [String: Result<Locked, any Error>] = [:]
        var versions: [String: String] = [:]
        if !ids.isEmpty {
            let rows = try await c.query("""
                SELECT \(unescaped: StoredSession.columns),
                  (SELECT e.seq FROM event e WHERE e.session_id = s.id ORDER BY e.seq DESC LIMIT 1),
                  (SELECT e.hash FROM event e WHERE e.session_id = s.id ORDER BY e.seq DESC LIMIT 1),
                  s.xmin::text
                FROM session s WHERE s.id = ANY(\(ids)) ORDER BY s.id FOR UPDATE OF s
                """, logger: logger).collect()
            for row in rows {
                guard let id = try? row.decode(String.self) else { continue }
                let columns = row.makeRandomAccess()
                versions[id] = try? columns[20].decode(String.self)
                locked[id] = Result {
                    let stored = try StoredSession(row)
                    do {
                        let seq = try columns[18].decode(Int64?.self)
                        return Locked(stored: stored, lastSeq: seq ?? .min, previous: seq == nil ? nil : try columns[19].decode(Data?.self))
                    } catch {
                        throw RuntimeError.damaged(session: id)
                    }
                }
            }
        }
        // Each row as locked (before this batch's entries), in the order first appended to.
        var before: [String: Locked] = [:]
        var order: [String] = []
        var events: [NewEvent] = []
        for (i, write) in writes.enumerated() {
            guard case .append(let a) = write else { continue }
            do {
                // No such session (deleted meanwhile): not stored, and the client is told.
                guard let s = try locked[a.session]?.get() else { throw RuntimeError.takenOver }
                // The lease before anything else: another instance resumed the session since this one took it.
                if !a.takesOver, s.stored.holder != a.holder { throw RuntimeError.takenOver }
                if !s.stored.unchained {
                    _ = try s.stored.checked(a.chain)
                    // The chain goes on from the entry the row names as newest: entries cut off
                    // from its end are damage, not laundered by a new head.
                    if s.previous != s.stored.row.head { throw RuntimeError.damaged(session: a.session) }
                }
                let (next, new) = try advance(s, with: a)
                if before[a.session] == nil {
                    before[a.session] = s
                    order.append(a.session)
                }
                locked[a.session] = .success(next)
                events += new
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        guard !order.isEmpty else { return (outcomes, after) }
        let rows = order.compactMap { id -> (stored: StoredSession, expected: Written)? in
            guard let xmin = versions[id], let base = before[id], let now = try? locked[id]?.get() else { return nil }
            return (now.stored, Written(locked: base, xmin: xmin))
        }
        let statement = BatchStatement(query: batchQuery(clients: [], new: [], fast: rows, events: events))
        var written: [String: String] = [:]
        for try await (id, xmin) in try await c.execute(statement, logger: logger) {
            written[id] = xmin
        }
        for id in order {
            if let xmin = written[id], let s = try? locked[id]?.get() {
                after[id] = Written(locked: s, xmin: xmin)
            }
        }
        // A row locked and checked here but not written: an entry was added to its log behind the
        // store's back meanwhile (without its row). Nothing of it was written; it is damage.
        for (i, write) in writes.enumerated() {
            if case .append(let a) = write, case .success = outcomes[i], written[a.session] == nil {
                outcomes[i] = .failure(RuntimeError.damaged(session: a.session))
            }
        }
        return (outcomes, after)
    }
}

/// The batch statement, prepared once per connection.
struct BatchStatement: PostgresPreparedStatement {
    typealias Row = (String, String)
    static let sql = PostgresCommitter.batchQuery(clients: [], new: [], fast: [], events: []).sql
    let query: PostgresQuery

    func makeBindings() throws -> PostgresBindings { query.binds }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((String, String).self) }
}
