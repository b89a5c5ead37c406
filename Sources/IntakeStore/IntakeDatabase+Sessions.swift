import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

#if canImport(Glibc)
import Glibc
#endif

/// The blocking reads of the session store (the verification, the tools, `SQLiteStore` on a thread
/// of its own), the SQL they share with the async reads, and deletion. A session is written
/// (created, appended to, moved to a new dialog version) only through the commit thread
/// (`IntakeDatabase+Async.swift`, `SQLiteStore`): there is no blocking path that writes a log.
extension IntakeDatabase {
    /// The session's log, its chain checked: a broken link, a value of the wrong type or one that
    /// does not decode is `RuntimeError.damaged(session:)`, never a crash and never data.
    public func log(of session: String) throws -> [LogEntry] {
        let events = try writer.read { db in try Self.storedLog(db, of: session, chain: chain).events }
        return try entries(events, of: session)
    }

    public func session(_ id: String) throws -> SessionInfo? {
        try writer.read { db in try Self.session(db, id: id, chain: chain) }
    }

    public func session(resuming token: ResumeToken) throws -> SessionInfo? {
        let sealed = self.sealed
        return try writer.read { db in try Self.session(db, digest: Data(token.digest), chain: chain, sealed: sealed) }
    }

    /// The session row with this id, checked (shared by the blocking and the async reads).
    static func session(_ db: Database, id: String, chain: Chain?) throws -> SessionInfo? {
        try Row.fetchOne(db.cachedStatement(sql: StoredSession.select + " WHERE id = ?"), arguments: [id]).map { try StoredSession($0).checked(chain) }
    }

    /// The session row a resume token's digest opens, checked. In a sealed database a session
    /// listed as recorded before hash chains (`unchained_session`) opens nothing by token: its row,
    /// token digest included, is covered by nothing the key protects, so anyone who can write the
    /// file could list a session there and give it a token of their own (SECURITY.md).
    static func session(_ db: Database, digest: Data, chain: Chain?, sealed: Bool) throws -> SessionInfo? {
        guard let row = try Row.fetchOne(db, sql: StoredSession.select + " WHERE tokenDigest = ?", arguments: [digest]) else { return nil }
        let stored = try StoredSession(row)
        if sealed && stored.unchained { throw RuntimeError.damaged(session: stored.row.id) }
        return try stored.checked(chain)
    }

    /// Sessions, newest first, optionally only those of a status or started in [from, to); a damaged
    /// one is `StoreError.damagedSessions` (naming every damaged one): use `listSessions` to have the others.
    public func sessions(status: SessionInfo.Status? = nil, from: Int64? = nil, to: Int64? = nil,
                         counselor: String? = nil, office: String? = nil) throws -> [SessionInfo] {
        let list = try listSessions(SessionFilter(status: status, from: from, to: to, counselor: counselor, office: office))
        guard list.damaged.isEmpty else { throw StoreError.damagedSessions(list.damaged) }
        return list.sessions
    }

    /// Sessions, newest first, and apart the ids of those that are damaged.
    public func listSessions(status: SessionInfo.Status? = nil, from: Int64? = nil, to: Int64? = nil,
                             counselor: String? = nil, office: String? = nil) throws -> (sessions: [SessionInfo], damaged: [String]) {
        let list = try listSessions(SessionFilter(status: status, from: from, to: to, counselor: counselor, office: office))
        return (list.sessions, list.damaged)
    }

    /// Sessions matching `filter`, newest first, and apart the ids of those that are damaged (their
    /// rows do not read or do not match their hashes): one damaged session never hides the others.
    public func listSessions(_ filter: SessionFilter) throws -> SessionList {
        // Every row is read and checked, and the filter applied to the rows that check: a damaged
        // value (a start time flipped out of the month, a status changed) must not move a session
        // out of sight of the filter unnoticed.
        let rows = try writer.read { db in try Row.fetchAll(db, sql: StoredSession.select + " ORDER BY rowid") }
        var sessions: [SessionInfo] = [], damaged: [String] = []
        for row in rows {
            do { sessions.append(try StoredSession(row).checked(chain)) } catch RuntimeError.damaged(let id) { damaged.append(id) }
        }
        return SessionList(sessions: SessionList.ordered(sessions.filter(filter.matches)), damaged: damaged)
    }

    /// The record of a finished session, as JSON text. A record is read with its session row, checked against the row's hash: a record edited or
    /// damaged in the file is `RuntimeError.damaged`, never exported.
    public func record(of session: String) throws -> String? {
        let stored = try writer.read { db in
            try Row.fetchOne(db, sql: StoredSession.select + " WHERE id = ?", arguments: [session]).map(StoredSession.init)
        }
        guard let stored else { return nil }
        _ = try stored.checked(chain)
        guard let text = try stored.row.record.map({ try opened($0, context: "\(session)/record", session: session) }) else { return nil }
        guard (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) != nil else { throw RuntimeError.damaged(session: session) }
        return text
    }

    /// The record of a finished session, decoded (see `record(of:)`), its members in the order
    /// stored: rendered again, it is the stored text byte for byte (`records show`, `export`).
    public func recordJSON(of session: String) throws -> JSON? {
        guard let text = try record(of: session) else { return nil }
        guard let json = try? JSON(parsing: text, keepingOrder: true) else { throw RuntimeError.damaged(session: session) }
        return json
    }

    /// A client's finished records (status complete, with a record), newest first, each checked with its row.
    public func records(ofClient client: ClientKey) throws -> [FinishedRecord] {
        let rows = try writer.read { db in
            try Row.fetchAll(db, sql: StoredSession.select + """
                 WHERE clientId = ? AND coalesce(office, '') = ? AND status = 'complete' AND record IS NOT NULL ORDER BY startedAt DESC, id
                """, arguments: [client.number, client.office]).map(StoredSession.init)
        }
        return try rows.map { stored in
            let id = stored.row.id
            let info = try stored.checked(chain)
            guard let record = stored.row.record else { throw RuntimeError.damaged(session: id) }
            let text = try opened(record, context: "\(id)/record", session: id)
            guard let json = try? JSON(parsing: text, keepingOrder: true) else { throw RuntimeError.damaged(session: id) }
            return FinishedRecord(session: info, record: json)
        }
    }

    /// Deletes a session and its log at the client's request, leaving an audit entry that says what
    /// was deleted, when and by whom — and nothing of the data. The deleted pages are overwritten
    /// (secure_delete) and the WAL is checkpointed, so the data is gone from the files.
    public func deleteSession(_ id: String, by actor: Actor, at: Int64) throws -> Bool {
        let deleted = try writer.write { db -> Bool in
            let events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE sessionId = ?", arguments: [id]) ?? 0
            try db.execute(sql: "DELETE FROM event WHERE sessionId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM snapshot WHERE sessionId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM session WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM unchained_session WHERE id = ?", arguments: [id])
            try db.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, 'delete-session', ?)",
                           arguments: [at, actor.stored, "session \(id) and its \(events) events"])
            return true
        }
        if deleted { try checkpointAfterDeletion() }
        return deleted
    }

    /// The audit trail, oldest first (a row that does not read is `StoreError.damaged` named by its row id).
    public func audit() throws -> [AuditEntry] {
        try writer.read { db in try Self.audit(db, of: nil) }
    }

    static let auditColumns = "SELECT id, at, actor, action, detail, session FROM audit"

    /// The audit entries, oldest first: all of them, or those about `session`.
    static func audit(_ db: Database, of session: String?) throws -> [AuditEntry] {
        let rows = try session.map { try Row.fetchAll(db, sql: auditColumns + " WHERE session = ? ORDER BY id", arguments: [$0]) }
            ?? Row.fetchAll(db, sql: auditColumns + " ORDER BY id")
        return try rows.map { row in
            do {
                return AuditEntry(at: try row.strictInt("at"), actor: try row.strictText("actor"), action: try row.strictText("action"),
                                  detail: try row.strictText("detail"), session: try row.strictOptionalText("session"))
            } catch {
                throw RuntimeError.damaged(session: "audit \((try? row.strictInt("id")).map(String.init) ?? "?")")
            }
        }
    }

    /// One audit entry per session read (see `Store.recordReads`), in the transaction of `db`.
    static func insertReads(_ db: Database, _ sessions: [String], kind: String, by actor: String, at: Int64) throws {
        let insert = try db.makeStatement(sql: "INSERT INTO audit (at, actor, action, detail, session) VALUES (?, ?, ?, ?, ?)")
        for session in sessions { try insert.execute(arguments: [at, actor, AuditEntry.read, kind, session]) }
    }

    /// The operating-system account the process runs as (its effective user id's name; the number
    /// when the system has no name for it). Not `$USER`, which any process can set.
    static func operatingSystemAccount() -> String {
        let uid = geteuid()
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name {
            let text = String(cString: name)
            if !text.isEmpty { return text }
        }
        return "uid \(uid)"
    }

    /// The stored text of an event: `JSONEncoder`'s form, written by hand (`LogEvent.storedJSON`).
    static func encode(_ event: LogEvent) throws -> String {
        try event.storedJSON()
    }

    static func decode(_ text: String) throws -> LogEvent {
        try LogEvent.decoding(stored: text)
    }

    static func encodeAnswers(_ changes: [AnswerChange]) throws -> String {
        try AnswerChange.storedJSON(changes)
    }

    static func decodeAnswers(_ text: String) throws -> [AnswerChange] {
        try AnswerChange.decoding(stored: text)
    }
}
