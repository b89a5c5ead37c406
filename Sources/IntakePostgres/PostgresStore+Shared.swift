import Foundation
import IntakeEngine
import IntakeRuntime
import Logging
import PostgresNIO

extension PostgresStore {
    // MARK: - Limits shared by every instance

    /// `RateLimit.apply` against the address's row in the database, so that every instance counts
    /// into the same window. A check only reads. Counted attempts go through the store's
    /// `PostgresLimiter`: the attempts for one address that arrive together are counted in one
    /// transaction, in the order they arrived.
    public func limit(_ rule: RateLimit, address: String, counting: RateLimit.Counting, at: Int64) async throws -> Bool {
        let logger = self.logger
        if counting == .check {
            let row = try await client.leasing { c in
                try await c.query("SELECT window_start, count FROM rate_limit WHERE kind = \(rule.kind) AND address = \(address)",
                                  logger: logger).collect().first
            }
            let current = try row.map { try $0.decode((Int64, Int64).self) }.map { (windowStart: $0.0, count: Int($0.1)) }
            return rule.apply(current, counting: .check, at: at).allowed
        }
        return try await limiter.count(rule, address: address, counting: counting, at: at)
    }
}

/// The `rate_limit` row of one kind of attempt from one address; rows are locked in this order
/// (kind, then address) by every transaction that locks more than one, so two never deadlock.
struct RateLimitRow: Hashable, Comparable {
    var kind: String
    var address: String

    static func < (a: RateLimitRow, b: RateLimitRow) -> Bool { (a.kind, a.address) < (b.kind, b.address) }
}

/// Counts attempts into the shared `rate_limit` rows, grouping the attempts for one (kind, address)
/// that arrive while that address's previous group is being counted: each group is one transaction
/// that locks the address's row (an upsert that creates it if missing, so two instances never both
/// start from "no row"), applies `RateLimit.apply` to each attempt in arrival order, writes the
/// row's new state and commits; then each caller has its own answer.
///
/// Kiosks behind one NAT router share an address. Counted one transaction each, their attempts
/// queued on that one row lock, each waiting out the others' commits (100 kiosks starting at once
/// waited up to 150 ms); grouped, a burst costs a few transactions, and the rule and its exactness
/// are unchanged: every attempt is counted, in order, in a committed transaction, before its
/// caller is answered. (A kiosk's start is counted by the committer instead, in the transaction
/// that creates its session: `PostgresCommitter.admit`.)
actor PostgresLimiter {
    typealias Key = RateLimitRow

    private struct Attempt {
        var rule: RateLimit
        var counting: RateLimit.Counting
        var at: Int64
        var done: CheckedContinuation<Bool, any Error>
    }

    private let client: RenewingPool
    private let logger: Logger
    private var waiting: [Key: [Attempt]] = [:]
    private var counting: Set<Key> = []

    init(client: RenewingPool, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Counts one attempt (`.admit` or `.failure`); returns once it is committed.
    func count(_ rule: RateLimit, address: String, counting how: RateLimit.Counting, at: Int64) async throws -> Bool {
        let key = Key(kind: rule.kind, address: address)
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<Bool, any Error>) in
            waiting[key, default: []].append(Attempt(rule: rule, counting: how, at: at, done: done))
            if !counting.contains(key) {
                counting.insert(key)
                Task { await self.drain(key) }
            }
        }
    }

    private func drain(_ key: Key) async {
        while let group = waiting.removeValue(forKey: key), !group.isEmpty {
            do {
                let answers = try await Self.apply(group.map { ($0.rule, $0.counting, $0.at) }, key: key, client: client, logger: logger)
                for (attempt, allowed) in zip(group, answers) { attempt.done.resume(returning: allowed) }
            } catch {
                for attempt in group { attempt.done.resume(throwing: error) }
            }
        }
        counting.remove(key)
    }

    /// One transaction for a group of attempts at one address, oldest first.
    private static func apply(_ attempts: [(rule: RateLimit, counting: RateLimit.Counting, at: Int64)], key: Key,
                              client: RenewingPool, logger: Logger) async throws -> [Bool] {
        guard let first = attempts.first else { return [] }
        return try await client.leasing { c in
            try await PostgresStore.transaction(c, logger: logger) { c in
                // Windows that have ended are deleted as others are counted, skipping rows another
                // transaction holds (two instances pruning each other's rows could otherwise
                // deadlock). The address's own row is created if missing and locked either way.
                let row = try await c.query("""
                    WITH pruned AS (
                      DELETE FROM rate_limit WHERE ctid IN (
                        SELECT ctid FROM rate_limit WHERE kind = \(key.kind) AND window_start <= \(first.at - first.rule.window)
                          AND address <> \(key.address)
                        FOR UPDATE SKIP LOCKED))
                    INSERT INTO rate_limit AS r (kind, address, window_start, count) VALUES (\(key.kind), \(key.address), \(first.at), 0)
                    ON CONFLICT (kind, address) DO UPDATE SET count = r.count
                    RETURNING window_start, count
                    """, logger: logger).collect().first
                guard let (windowStart, count) = try row?.decode((Int64, Int64).self) else {
                    throw PostgresLimitError()
                }
                var current = (windowStart: windowStart, count: Int(count))
                var changed = false
                var answers: [Bool] = []
                for attempt in attempts {
                    let (write, allowed) = attempt.rule.apply(current, counting: attempt.counting, at: attempt.at)
                    if let write { current = write; changed = true }
                    answers.append(allowed)
                }
                if changed {
                    try await c.query("""
                        UPDATE rate_limit SET window_start = \(current.windowStart), count = \(Int64(current.count))
                        WHERE kind = \(key.kind) AND address = \(key.address)
                        """, logger: logger)
                }
                return answers
            }
        }
    }
}

/// The upsert that locks an address's row returned no row (it always returns one).
struct PostgresLimitError: Error, CustomStringConvertible {
    var description: String { "the rate limit's row could not be read" }
}

extension PostgresStore: StoreCopying {
    package var sealFingerprint: String? { sealed ? cipher?.fingerprint : nil }

    package func sessionIDs() async throws -> [String] {
        let logger = self.logger
        let rows = try await client.leasing { c in
            try await c.query("SELECT id FROM session ORDER BY started_at, id", logger: logger).collect()
        }
        return try rows.map { try $0.decode(String.self) }
    }

    package func storedCopy(of session: String) async throws -> StoredSessionCopy? {
        let logger = self.logger
        guard let row = try await sessionRow(session) else { return nil }
        let stored = try StoredSession(row)
        var clientSince: Int64?
        if let id = stored.row.clientId {
            let office = stored.row.office ?? ""
            let c = try await self.client.leasing { c in
                try await c.query("SELECT created_at FROM client WHERE office = \(office) AND id = \(id)", logger: logger).collect().first
            }
            if let c {
                do { clientSince = try c.decode(Int64.self) } catch { throw RuntimeError.damaged(session: session) }
            }
        }
        let rows = try await self.client.leasing { c in
            try await c.query("SELECT seq, at, utc_offset, actor, event, answers, hash FROM event WHERE session_id = \(session) ORDER BY seq",
                              logger: logger).collect()
        }
        let events = try rows.map { r -> StoredEventCopy in
            do {
                let (seq, at, offset, actor, event, answers, hash) = try r.decode((Int64, Int64, Int64, String, String, String?, Data?).self)
                return StoredEventCopy(event: Chain.Event(session: session, seq: seq, at: at, utcOffset: offset, actor: actor, event: event,
                                                          answers: answers), hash: hash)
            } catch {
                throw RuntimeError.damaged(session: session)
            }
        }
        let marked = try await self.client.leasing { c in
            try await c.query("SELECT counselor, marked_at FROM private_session WHERE session_id = \(session)", logger: logger).collect().first
        }
        var privacy: Privacy?, privateSince: Int64?
        if let marked {
            do {
                let (counselor, since) = try marked.decode((String?, Int64).self)
                (privacy, privateSince) = (Privacy(counselor: counselor), since)
            } catch { throw RuntimeError.damaged(session: session) }
        }
        return StoredSessionCopy(row: stored.row, hash: stored.hash, unchained: stored.unchained, clientSince: clientSince, events: events,
                                 privacy: privacy, privateSince: privateSince)
    }

    package func insertCopy(_ copy: StoredSessionCopy) async throws {
        let logger = self.logger
        try await write { c in
            let r = copy.row
            if let client = r.clientId {
                let (office, since) = (r.office ?? "", copy.clientSince ?? r.startedAt)
                try await c.query("INSERT INTO client (office, id, created_at) VALUES (\(office), \(client), \(since)) ON CONFLICT (office, id) DO NOTHING",
                                  logger: logger)
            }
            try await c.query("""
                INSERT INTO session (id, client_id, dialog_id, dialog_version, mode, locale, status, started_at, updated_at,
                                     counselor, office, token_digest, record, head, hash, holder)
                VALUES (\(r.id), \(r.clientId), \(r.dialogId), \(r.dialogVersion), \(r.mode), \(r.locale), \(r.status), \(r.startedAt),
                        \(r.updatedAt), \(r.counselor), \(r.office), \(r.tokenDigest), \(r.record), \(r.head), \(copy.hash), NULL)
                """, logger: logger)
            if copy.unchained { try await c.query("INSERT INTO unchained_session (id) VALUES (\(r.id))", logger: logger) }
            for e in copy.events {
                let v = e.event
                try await c.query("""
                    INSERT INTO event (session_id, seq, at, utc_offset, actor, event, answers, hash)
                    VALUES (\(r.id), \(v.seq), \(v.at), \(v.utcOffset), \(v.actor), \(v.event), \(v.answers), \(e.hash))
                    """, logger: logger)
            }
            if let privacy = copy.privacy {
                let since = copy.privateSince ?? r.startedAt
                try await c.query("""
                    INSERT INTO private_session (session_id, counselor, marked_at) VALUES (\(r.id), \(privacy.counselor), \(since))
                    ON CONFLICT (session_id) DO UPDATE SET counselor = excluded.counselor, marked_at = excluded.marked_at
                    """, logger: logger)
            }
        }
    }

    package func appendAudit(_ entries: [AuditEntry]) async throws {
        let logger = self.logger
        try await write { c in
            for e in entries {
                try await c.query("""
                    INSERT INTO audit (at, actor, action, detail, session) VALUES (\(e.at), \(e.actor), \(e.action), \(e.detail), \(e.session))
                    """, logger: logger)
            }
        }
    }
}
