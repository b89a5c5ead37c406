import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// The SQLite database behind the one async `Store` protocol. The session writes and reads a
/// server makes on every answer (create, append, log, resume, leases) go through the commit
/// thread (group commit: concurrent appends share one transaction; the caller is suspended, never
/// blocked, while the disk syncs). The rest (lists, records, audit, deletion, retention,
/// verification: a command's or a counselor's occasional call) runs the same SQL as the blocking
/// methods of `IntakeDatabase`, on a thread of its own, so no task of the cooperative pool waits
/// for the disk.
public struct SQLiteStore: Store {
    public let database: IntakeDatabase

    public init(_ database: IntakeDatabase) {
        self.database = database
    }

    public var instance: String { database.instance }

    public var identity: String { database.identity }

    public func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws {
        try await database.createDurably(info, first: first, token: token)
    }

    public func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                       record: JSON?, at: Int64) async throws {
        try await database.appendDurably(entries, to: session, status: status, locale: locale, record: record, at: at)
    }

    public func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                       record: JSON?, at: Int64, snapshot: SessionSnapshot?) async throws {
        try await database.appendDurably(entries, to: session, status: status, locale: locale, record: record, at: at, snapshot: snapshot)
    }

    public func resumeLog(of session: String) async throws -> ResumeLog {
        try await database.resumeLogAsync(of: session)
    }

    public func markPrivate(_ session: String, at: Int64) async throws {
        try await database.markPrivateDurably(session, at: at)
    }

    public func privacy(of session: String) async throws -> Privacy? {
        try await database.privacyAsync(of: session).map(Privacy.init(counselor:))
    }

    public func setDialogVersion(_ version: String, of session: String) async throws {
        try await database.setDialogVersionDurably(version, of: session)
    }

    public func log(of session: String) async throws -> [LogEntry] {
        try await database.logAsync(of: session)
    }

    public func session(_ id: String) async throws -> SessionInfo? {
        try await database.sessionAsync(id)
    }

    public func session(resuming token: ResumeToken) async throws -> SessionInfo? {
        try await database.sessionAsync(resuming: token)
    }

    public func listSessions(_ filter: SessionFilter) async throws -> SessionList {
        let database = self.database
        return try await offThePool { try database.listSessions(filter) }
    }

    public func holder(of session: String) async throws -> String? {
        try await database.commitThread.read { db in
            try String.fetchOne(db, sql: "SELECT holder FROM session WHERE id = ?", arguments: [session])
        }
    }

    public func sessionsHeldElsewhere(_ sessions: [String]) async throws -> [String] {
        try await database.sessionsHeldElsewhere(sessions)
    }

    public func record(of session: String) async throws -> JSON? {
        let database = self.database
        return try await offThePool { try database.recordJSON(of: session) }
    }

    public func records(ofClient client: ClientKey) async throws -> [FinishedRecord] {
        let database = self.database
        return try await offThePool { try database.records(ofClient: client) }
    }

    public func audit() async throws -> [AuditEntry] {
        let database = self.database
        return try await offThePool { try database.audit() }
    }

    public func recordReads(_ sessions: [String], kind: String, by actor: String, at: Int64) async throws {
        // Audit rows are not sealed data: written whether or not the key was given.
        guard !sessions.isEmpty else { return }
        try await database.commitThread.write { db in try IntakeDatabase.insertReads(db, sessions, kind: kind, by: actor, at: at) }
    }

    public func accessHistory(of session: String) async throws -> [AuditEntry] {
        try await database.commitThread.read { db in try IntakeDatabase.audit(db, of: session) }
    }

    public func deleteSession(_ id: String, by actor: Actor, at: Int64) async throws -> Bool {
        let database = self.database
        return try await offThePool { try database.deleteSession(id, by: actor, at: at) }
    }

    public func abandonedSessions(updatedBefore: Int64) async throws -> [String] {
        let database = self.database
        return try await offThePool { try database.abandonedSessions(updatedBefore: updatedBefore) }
    }

    public func abandonedSessions(startedFrom from: Int64, to: Int64) async throws -> Set<String> {
        let database = self.database
        return try await offThePool { try database.abandonedSessions(startedFrom: from, to: to) }
    }

    @discardableResult
    public func purgeAbandoned(olderThanDays days: Int, by actor: Actor, at: Int64) async throws -> Int {
        let database = self.database
        return try await offThePool { try database.purgeAbandoned(olderThanDays: days, by: actor, at: at) }
    }

    public func limit(_ rule: RateLimit, address: String, counting: RateLimit.Counting, at: Int64) async throws -> Bool {
        @Sendable func row(_ db: Database) throws -> (windowStart: Int64, count: Int)? {
            try Row.fetchOne(db, sql: "SELECT windowStart, count FROM rate_limit WHERE kind = ? AND address = ?", arguments: [rule.kind, address])
                .map { (try $0.strictInt("windowStart"), Int(try $0.strictInt("count"))) }
        }
        if counting == .check {
            return try await database.commitThread.read { db in rule.apply(try row(db), counting: .check, at: at).allowed }
        }
        return try await database.commitThread.write { db -> Bool in
            let (write, allowed) = rule.apply(try row(db), counting: counting, at: at)
            // Windows that have ended are forgotten (the table stays as small as the traffic of one window).
            try db.execute(sql: "DELETE FROM rate_limit WHERE kind = ? AND windowStart <= ? AND address <> ?",
                           arguments: [rule.kind, at - rule.window, address])
            if let write {
                try db.execute(sql: "INSERT OR REPLACE INTO rate_limit (kind, address, windowStart, count) VALUES (?, ?, ?, ?)",
                               arguments: [rule.kind, address, write.windowStart, write.count])
            }
            return allowed
        }
    }

    public func checkStorage() async throws {
        let database = self.database
        try await offThePool { try database.checkFile() }
    }

    public func verify() async throws -> Verification {
        let database = self.database
        return try await offThePool { try database.verify() }
    }
}

extension IntakeDatabase {
    /// This database behind the `Store` protocol.
    public var store: SQLiteStore { SQLiteStore(self) }
}

/// Runs blocking database work on a thread of its own and suspends the caller until it is done,
/// so that neither an event loop nor a thread of the cooperative pool waits for SQLite's lock or
/// the disk.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            continuation.resume(with: Result { try work() })
        }
        thread.name = "intake.store"
        thread.start()
    }
}
