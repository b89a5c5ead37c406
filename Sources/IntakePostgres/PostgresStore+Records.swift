import Foundation
import IntakeEngine
import IntakeRuntime
import Logging
import PostgresNIO

extension PostgresStore {
    // MARK: - Records

    public func record(of session: String) async throws -> JSON? {
        guard let row = try await sessionRow(session) else { return nil }
        let stored = try StoredSession(row)
        _ = try stored.checked(chain)
        return try openedRecord(stored)
    }

    public func records(ofClient client: ClientKey) async throws -> [FinishedRecord] {
        let logger = self.logger, chain = self.chain
        let (office, number) = (client.office, client.number)
        let rows = try await self.client.leasing { c in
            try await c.query("""
                \(unescaped: StoredSession.select) WHERE s.client_id = \(number) AND coalesce(s.office, '') = \(office)
                  AND s.status = 'complete' AND s.record IS NOT NULL
                ORDER BY s.started_at DESC, s.id
                """, logger: logger).collect()
        }
        return try rows.map { row in
            let stored = try StoredSession(row)
            let info = try stored.checked(chain)
            guard let record = try openedRecord(stored) else { throw RuntimeError.damaged(session: info.id) }
            return FinishedRecord(session: info, record: record)
        }
    }

    func sessionRow(_ id: String) async throws -> PostgresRow? {
        let logger = self.logger
        return try await client.leasing { c in
            try await c.query("\(unescaped: StoredSession.select) WHERE s.id = \(id)", logger: logger).collect().first
        }
    }

    // MARK: - Audit, deletion, retention

    public func audit() async throws -> [AuditEntry] {
        let logger = self.logger
        let rows = try await client.leasing { c in
            try await c.query("SELECT id, at, actor, action, detail, session FROM audit ORDER BY id", logger: logger).collect()
        }
        return try rows.map(Self.auditEntry)
    }

    public func recordReads(_ sessions: [String], kind: String, by actor: String, at: Int64) async throws {
        // Audit rows are not sealed data: written whether or not the key was given.
        guard !sessions.isEmpty else { return }
        let logger = self.logger
        try await write { c in
            try await c.query("""
                INSERT INTO audit (at, actor, action, detail, session)
                SELECT \(at), \(actor), \(AuditEntry.read), \(kind), u.session FROM unnest(\(sessions)::text[]) WITH ORDINALITY AS u(session, n)
                ORDER BY u.n
                """, logger: logger)
        }
    }

    public func accessHistory(of session: String) async throws -> [AuditEntry] {
        let logger = self.logger
        let rows = try await client.leasing { c in
            try await c.query("SELECT id, at, actor, action, detail, session FROM audit WHERE session = \(session) ORDER BY id", logger: logger).collect()
        }
        return try rows.map(Self.auditEntry)
    }

    /// An audit row (id, at, actor, action, detail, session); one that does not read is damage named by its id.
    static func auditEntry(_ row: PostgresRow) throws -> AuditEntry {
        do {
            let (_, at, actor, action, detail, session) = try row.decode((Int64, Int64, String, String, String, String?).self)
            return AuditEntry(at: at, actor: actor, action: action, detail: detail, session: session)
        } catch {
            throw RuntimeError.damaged(session: "audit \((try? row.decode(Int64.self)).map(String.init) ?? "?")")
        }
    }

    /// Deletes a session and its log, with an audit entry (what, when, by whom; nothing of the
    /// data). PostgreSQL marks the rows dead: their bytes stay in the table's pages until VACUUM
    /// reuses them, and in the WAL until it is recycled (no `secure_delete` here: SECURITY.md).
    public func deleteSession(_ id: String, by actor: IntakeRuntime.Actor, at: Int64) async throws -> Bool {
        let logger = self.logger
        return try await write { c in
            let events = try await c.query("SELECT count(*) FROM event WHERE session_id = \(id)", logger: logger).collect().first?.decode(Int64.self) ?? 0
            try await c.query("DELETE FROM event WHERE session_id = \(id)", logger: logger)
            try await c.query("DELETE FROM snapshot WHERE session_id = \(id)", logger: logger)
            let deleted = try await c.query("DELETE FROM session WHERE id = \(id) RETURNING id", logger: logger).collect()
            guard !deleted.isEmpty else { return false }
            try await c.query("DELETE FROM unchained_session WHERE id = \(id)", logger: logger)
            try await c.query("""
                INSERT INTO audit (at, actor, action, detail) VALUES (\(at), \(actor.stored), 'delete-session', \("session \(id) and its \(events) events"))
                """, logger: logger)
            return true
        }
    }

    /// "Abandoned before any answer": never finished, and no event after the start changed an
    /// answer (only the nullness of `answers` is read: works sealed without the key).
    static let abandonedCondition = """
        s.status IN ('in_progress', 'suspended') AND NOT EXISTS (
            SELECT 1 FROM event e WHERE e.session_id = s.id AND e.seq > 0 AND e.answers IS NOT NULL)
        """

    /// The same rule as the purge reads it: the deleter may not read `answers` (pg10), so whether
    /// an entry after the start changed one is asked of `intake_answered`, which says only that.
    static let purgeableCondition = """
        s.status IN ('in_progress', 'suspended') AND NOT intake_answered(s.id)
        """

    public func abandonedSessions(updatedBefore: Int64) async throws -> [String] {
        let logger = self.logger
        return try await client.leasing { c in
            var ids: [String] = []
            for try await id in try await c.query("""
                SELECT s.id FROM session s WHERE s.updated_at < \(updatedBefore) AND \(unescaped: Self.abandonedCondition) ORDER BY s.updated_at, s.id
                """, logger: logger).decode(String.self) { ids.append(id) }
            return ids
        }
    }

    public func abandonedSessions(startedFrom from: Int64, to: Int64) async throws -> Set<String> {
        let logger = self.logger
        return try await client.leasing { c in
            var ids: Set<String> = []
            for try await id in try await c.query("""
                SELECT s.id FROM session s WHERE s.started_at >= \(from) AND s.started_at < \(to) AND \(unescaped: Self.abandonedCondition)
                """, logger: logger).decode(String.self) { ids.insert(id) }
            return ids
        }
    }

    @discardableResult
    public func purgeAbandoned(olderThanDays days: Int, by actor: IntakeRuntime.Actor, at: Int64) async throws -> Int {
        let cutoff = at - Int64(days) * 86_400_000
        let logger = self.logger
        return try await write { c in
            var ids: [String] = []
            for try await id in try await c.query("""
                SELECT s.id FROM session s WHERE s.updated_at < \(cutoff) AND \(unescaped: Self.purgeableCondition) ORDER BY s.id FOR UPDATE OF s
                """, logger: logger).decode(String.self) { ids.append(id) }
            let events = try await c.query("SELECT count(*) FROM event WHERE session_id = ANY(\(ids))", logger: logger).collect().first?.decode(Int64.self) ?? 0
            try await c.query("DELETE FROM event WHERE session_id = ANY(\(ids))", logger: logger)
            try await c.query("DELETE FROM snapshot WHERE session_id = ANY(\(ids))", logger: logger)
            try await c.query("DELETE FROM session WHERE id = ANY(\(ids))", logger: logger)
            try await c.query("DELETE FROM unchained_session WHERE id = ANY(\(ids))", logger: logger)
            let detail = "\(ids.count) sessions abandoned before any answer and untouched for more than \(days) days, and their \(events) events"
            try await c.query("INSERT INTO audit (at, actor, action, detail) VALUES (\(at), \(actor.stored), 'purge-abandoned', \(detail))", logger: logger)
            return ids.count
        }
    }

    // MARK: - Verification

    /// What PostgreSQL can check cheaply of its own storage (it has no `integrity_check`; page
    /// checksums and `amcheck` are the server operator's): that every migration this intake knows
    /// is recorded and none it does not know, that intake's tables are all there, and that `meta`
    /// still says whether the database is sealed. Else `StoreError.damagedFile`.
    public func checkStorage() async throws {
        let logger = self.logger
        let ok = try await read { c in
            let applied = try await PostgresSchema.appliedMigrations(c, logger: logger)
            guard Set(applied) == Set(PostgresSchema.migrations.map(\.name)) else { return false }
            for table in PostgresSchema.tables {
                let exists = try await c.query("SELECT to_regclass(\(table)) IS NOT NULL", logger: logger).collect().first?.decode(Bool.self) ?? false
                guard exists else { return false }
            }
            let sealed = try await c.query("SELECT value FROM meta WHERE key = 'sealed'", logger: logger).collect().first?.decode(String.self)
            return ["yes", "no", "legacy"].contains(sealed ?? "")
        }
        guard ok else { throw StoreError.damagedFile }
    }

    public func verify() async throws -> Verification {
        guard let chain else { throw Cipher.Failure.needsKey }
        let logger = self.logger
        let (rows, logs, orphans) = try await read { c -> ([PostgresRow], [String: Result<([Chain.Event], Data?), RuntimeError>], [String]) in
            var orphans: [String] = []
            for try await id in try await c.query("""
                SELECT DISTINCT e.session_id FROM event e WHERE NOT EXISTS (SELECT 1 FROM session s WHERE s.id = e.session_id) ORDER BY 1
                """, logger: logger).decode(String.self) { orphans.append(id) }
            let rows = try await c.query("\(unescaped: StoredSession.select) ORDER BY s.started_at, s.id", logger: logger).collect()
            var logs: [String: Result<([Chain.Event], Data?), RuntimeError>] = [:]
            for row in rows {
                guard let id = try? row.decode(String.self) else { continue }
                do {
                    let log = try await Self.storedLog(c, of: id, chain: chain, logger: logger)
                    logs[id] = .success((log.events, log.head))
                } catch let error as RuntimeError {
                    logs[id] = .failure(error)
                }
            }
            return (rows, logs, orphans)
        }
        var result = Verification(orphans: orphans)
        for row in rows {
            let stored: StoredSession
            do { stored = try StoredSession(row) } catch RuntimeError.damaged(let id) {
                result.damaged.append(id)
                continue
            }
            let id = stored.row.id
            do {
                _ = try stored.checked(chain)
                guard let log = logs[id] else { throw RuntimeError.damaged(session: id) }
                let (events, head) = try log.get()
                _ = try entries(events, of: id)
                _ = try openedRecord(stored)
                if stored.unchained {
                    result.unchained.append(id)
                    continue
                }
                guard !events.isEmpty, let head, stored.row.head == head else { throw RuntimeError.damaged(session: id) }
                result.intact.append(.init(id: id, entries: events.count, head: head.map { String(format: "%02x", $0) }.joined()))
            } catch RuntimeError.damaged {
                result.damaged.append(id)
            } catch Cipher.Failure.cannotOpen {
                result.damaged.append(id)
            }
        }
        return result
    }
}
