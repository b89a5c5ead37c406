import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// The intake database: sessions and their event logs, clients, and the audit trail, in SQLite.
/// One write transaction per method; every commit is on disk when the method returns
/// (WAL with `synchronous = FULL`, checked after opening — GRDB sets NORMAL in WAL mode).
public struct IntakeDatabase: Sendable {
    public let writer: any DatabaseWriter
    /// Appends from concurrent sessions share transactions (group commit).
    let appends: GroupCommitter
    /// Async callers' writes: one commit thread, every queued write in one transaction.
    let commitThread: AsyncCommitter
    /// Seals answers and records at rest when a key is given.
    public let cipher: Cipher?
    /// This opening of the database (a random id): the holder it writes on the sessions it runs, so
    /// that a session is live in one process at a time (see `IntakeDatabase+Sharing.swift`).
    public let instance: String

    /// Opens (or creates) the database file and brings its schema up to date.
    public static func open(path: String, cipher: Cipher? = nil) throws -> IntakeDatabase {
        var config = Configuration()
        config.journalMode = .wal
        config.foreignKeysEnabled = true
        // Statement arguments (client answers) never appear in errors or logs.
        config.publicStatementArguments = false
        // Other processes (the kiosk server, a counselor's REPL, `records`, `export`) use the same
        // file: a write waits its turn instead of failing with "database is locked".
        config.busyMode = .callback(Self.waitForTurn)
        let queue = try DatabaseQueue(path: path, configuration: config)
        try queue.writeWithoutTransaction { db in
            // After opening: GRDB's WAL setup would override a FULL set while preparing the connection.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Deleted client data is overwritten, not only unlinked.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        return try IntakeDatabase(queue, cipher: cipher)
    }

    /// An in-memory database (tests).
    public static func inMemory() throws -> IntakeDatabase {
        var config = Configuration()
        config.foreignKeysEnabled = true
        let queue = try DatabaseQueue(configuration: config)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        return try IntakeDatabase(queue)
    }

    public init(_ writer: any DatabaseWriter, cipher: Cipher? = nil) throws {
        self.writer = writer
        self.cipher = cipher
        instance = UUID().uuidString
        appends = GroupCommitter(writer)
        commitThread = AsyncCommitter(writer)
        try Self.migrator.migrate(writer)
    }

    /// The schema's history. Migrations are frozen: string names, literal columns, no app types.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sessions, events, clients, audit") { db in
            try db.create(table: "client") { t in
                t.primaryKey("id", .text)
                t.column("createdAt", .integer).notNull()
                t.column("office", .text)
            }
            try db.create(table: "session") { t in
                t.primaryKey("id", .text)
                t.column("clientId", .text).references("client", onDelete: .setNull)
                t.column("dialogId", .text).notNull()
                t.column("dialogVersion", .text).notNull()
                t.column("mode", .text).notNull()
                t.column("locale", .text).notNull()
                t.column("status", .text).notNull().indexed()
                t.column("startedAt", .integer).notNull().indexed()
                t.column("updatedAt", .integer).notNull()
                t.column("counselor", .text)
                t.column("office", .text)
                t.column("tokenDigest", .blob).notNull().unique()
                t.column("record", .text)
            }
            try db.create(table: "event") { t in
                t.column("sessionId", .text).notNull().references("session", onDelete: .cascade)
                t.column("seq", .integer).notNull()
                t.column("at", .integer).notNull()
                t.column("utcOffset", .integer).notNull()
                t.column("actor", .text).notNull()
                t.column("event", .text).notNull()
                t.primaryKey(["sessionId", "seq"])
            }
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .integer).notNull()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        migrator.registerMigration("v2: answer changes in the log") { db in
            try db.alter(table: "event") { t in
                t.add(column: "answers", .text)
            }
        }
        migrator.registerMigration("v3-w2: the process a session is live in") { db in
            // The opening of the database (a random id) that last started or resumed the session:
            // an append from any other is refused (the session was resumed elsewhere).
            try db.alter(table: "session") { t in
                t.add(column: "holder", .text)
            }
        }
        return migrator
    }
}
