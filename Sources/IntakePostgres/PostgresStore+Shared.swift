import Foundation
import IntakeEngine
import IntakeRuntime
import Logging
import PostgresNIO

extension PostgresStore {
    // MARK: - Limits shared by every instance

    /// `RateLimit.apply` in one transaction of one statement: an upsert that restarts an ended
    /// window, counts the attempt (an admit only while under the limit) and returns the new count.
    /// The address's row is locked by that statement until the commit, so two instances counting the
    /// same address at once count both attempts, and it is held for one round trip and the commit
    /// only (kiosks behind one NAT router share an address: a row held over several statements made
    /// their starts queue behind each other, each waiting out the others' round trips). Windows that
    /// have ended are deleted in the same statement as others are counted, skipping rows another
    /// transaction holds (two instances pruning each other's rows could otherwise deadlock).
    public func limit(_ rule: RateLimit, address: String, counting: RateLimit.Counting, at: Int64) async throws -> Bool {
        let logger = self.logger
        if counting == .check {
            let row = try await client.withConnection { c in
                try await c.query("SELECT window_start, count FROM rate_limit WHERE kind = \(rule.kind) AND address = \(address)",
                                  logger: logger).collect().first
            }
            let current = try row.map { try $0.decode((Int64, Int64).self) }.map { (windowStart: $0.0, count: Int($0.1)) }
            return rule.apply(current, counting: .check, at: at).allowed
        }
        // An admit past the limit changes nothing: the row's own count decides (a window that has
        // ended counts from zero again); a failure is always counted.
        let admit = counting == .admit
        let counted = try await write { c in
            try await c.query("""
                WITH pruned AS (
                  DELETE FROM rate_limit WHERE ctid IN (
                    SELECT ctid FROM rate_limit WHERE kind = \(rule.kind) AND window_start <= \(at - rule.window) AND address <> \(address)
                    FOR UPDATE SKIP LOCKED))
                INSERT INTO rate_limit AS r (kind, address, window_start, count) VALUES (\(rule.kind), \(address), \(at), 1)
                ON CONFLICT (kind, address) DO UPDATE SET
                  window_start = CASE WHEN \(at) - r.window_start >= \(rule.window) OR \(at) < r.window_start THEN \(at) ELSE r.window_start END,
                  count = CASE WHEN \(at) - r.window_start >= \(rule.window) OR \(at) < r.window_start THEN 1 ELSE r.count + 1 END
                WHERE NOT \(admit) OR \(at) - r.window_start >= \(rule.window) OR \(at) < r.window_start OR r.count < \(Int64(rule.limit))
                RETURNING count
                """, logger: logger).collect().first.map { try $0.decode(Int64.self) }
        }
        // No row back: an admit past the limit (nothing counted).
        guard let counted else { return false }
        return admit ? counted <= Int64(rule.limit) : counted < Int64(rule.limit)
    }
}

extension PostgresStore: StoreCopying {
    package var sealFingerprint: String? { sealed ? cipher?.fingerprint : nil }

    package func sessionIDs() async throws -> [String] {
        let logger = self.logger
        let rows = try await client.withConnection { c in
            try await c.query("SELECT id FROM session ORDER BY started_at, id", logger: logger).collect()
        }
        return try rows.map { try $0.decode(String.self) }
    }

    package func storedCopy(of session: String) async throws -> StoredSessionCopy? {
        let logger = self.logger
        guard let row = try await sessionRow(session) else { return nil }
        let stored = try StoredSession(row)
        var client: (createdAt: Int64, office: String?)?
        if let id = stored.row.clientId {
            let c = try await self.client.withConnection { c in
                try await c.query("SELECT created_at, office FROM client WHERE id = \(id)", logger: logger).collect().first
            }
            if let c {
                do { client = try c.decode((Int64, String?).self) } catch { throw RuntimeError.damaged(session: session) }
            }
        }
        let rows = try await self.client.withConnection { c in
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
        return StoredSessionCopy(row: stored.row, hash: stored.hash, unchained: stored.unchained, client: client, events: events)
    }

    package func insertCopy(_ copy: StoredSessionCopy) async throws {
        let logger = self.logger
        try await write { c in
            let r = copy.row
            if let client = r.clientId, let cr = copy.client {
                try await c.query("INSERT INTO client (id, created_at, office) VALUES (\(client), \(cr.createdAt), \(cr.office)) ON CONFLICT (id) DO NOTHING",
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
        }
    }

    package func appendAudit(_ entries: [AuditEntry]) async throws {
        let logger = self.logger
        try await write { c in
            for e in entries {
                try await c.query("INSERT INTO audit (at, actor, action, detail) VALUES (\(e.at), \(e.actor), \(e.action), \(e.detail))", logger: logger)
            }
        }
    }
}
