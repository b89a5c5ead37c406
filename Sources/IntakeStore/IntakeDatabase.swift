import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// The intake database: sessions and their event logs, clients, and the audit trail, in SQLite.
/// One write transaction per method; every commit is on disk when the method returns
/// (WAL with `synchronous = FULL`, checked after opening — GRDB sets NORMAL in WAL mode).
public struct IntakeDatabase: Sendable {
    public let writer: any DatabaseWriter
    /// Every session write (create, append, a new dialog version): one commit thread, every
    /// queued write in one transaction (group commit).
    let commitThread: AsyncCommitter
    /// Seals answers and records at rest when a key is given.
    public let cipher: Cipher?
    /// The database is sealed (it says so itself, with its key's fingerprint): an unsealed value in
    /// it is damage, never data.
    public let sealed: Bool
    /// The hash chain of the log; nil when it cannot be checked (a sealed database read without its key).
    let chain: Chain?

    /// Opening took read or write permission away from other users (a file made before files were
    /// created 0600): the caller says so.
    public internal(set) var permissionsTightened = false

    /// This opening of the database (a random id): the holder it writes on the sessions it runs, so
    /// that a session is live in one process at a time (see `IntakeDatabase+Sharing.swift`).
    public let instance: String

    /// Who this process runs as (the operating-system account): the actor of the audit entries
    /// for the records it reads (`Store.identity`).
    public let identity: String

    /// Opens (or creates) the database file and brings its schema up to date. The file (and its
    /// `-wal` and `-shm`) is only the owner's (0600). Fails with a `StoreOpenError` that says why.
    /// A sealed database opened for writing needs its key; a wrong key is refused for reading too (`StoreError`).
    public static func open(path: String, cipher: Cipher? = nil, access: DatabaseAccess = .write) throws -> IntakeDatabase {
        try classifyingOpenErrors(path) {
            try createPrivateFile(path)
            // Before anything is written (WAL mode is a write): is it ours? Another program's
            // database, or a damaged or locked one, is left exactly as it was.
            try probeExisting(path)
            var config = Configuration()
            config.journalMode = .wal
            config.foreignKeysEnabled = true
            // Statement arguments (client answers) never appear in errors or logs.
            config.publicStatementArguments = false
            // Other processes (the kiosk server, a counselor's REPL, `records`, `export`) use the same
            // file: a write waits its turn instead of failing with "database is locked".
            config.busyMode = .callback(Self.waitForTurn)
            let queue = try DatabaseQueue(path: path, configuration: config)
            let tightened = tightenPermissions(path)
            try queue.writeWithoutTransaction { db in
                // After opening: GRDB's WAL setup would override a FULL set while preparing the connection.
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // Deleted client data is overwritten, not only unlinked.
                try db.execute(sql: "PRAGMA secure_delete = ON")
            }
            var database = try IntakeDatabase(queue, cipher: cipher, access: access)
            database.permissionsTightened = tightened
            return database
        }
    }

    /// An in-memory database (tests).
    public static func inMemory() throws -> IntakeDatabase {
        var config = Configuration()
        config.foreignKeysEnabled = true
        let queue = try DatabaseQueue(configuration: config)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        return try IntakeDatabase(queue)
    }

    public init(_ writer: any DatabaseWriter, cipher: Cipher? = nil, access: DatabaseAccess = .write) throws {
        self.writer = writer
        self.cipher = cipher
        instance = UUID().uuidString
        identity = Self.operatingSystemAccount()
        commitThread = AsyncCommitter(writer)
        try Self.migrator.migrate(writer)
        sealed = try writer.write { db in try Self.checkSeal(db, cipher: cipher, access: access) }
        chain = sealed ? cipher.map(Chain.init(cipher:)) : .unkeyed
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
        migrator.registerMigration("v3: the process a session is live in") { db in
            // The opening of the database (a random id) that last started or resumed the session:
            // an append from any other is refused (the session was resumed elsewhere).
            try db.alter(table: "session") { t in
                t.add(column: "holder", .text)
            }
        }
        migrator.registerMigration("v4: sealed databases, hash-chained log") { db in
            // What the database says of itself: `sealed` (no, yes, legacy: sealed values written
            // before it said so) and `key_fingerprint`.
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.execute(sql: """
                INSERT INTO meta (key, value) VALUES ('sealed', CASE
                  WHEN EXISTS (SELECT 1 FROM event WHERE event LIKE 'enc1:%') OR EXISTS (SELECT 1 FROM session WHERE record LIKE 'enc1:%')
                  THEN 'legacy' ELSE 'no' END)
                """)
            // Each event's hash, chained to the one before it; each session row's hash and its newest event's.
            try db.alter(table: "event") { t in t.add(column: "hash", .blob) }
            try db.alter(table: "session") { t in
                t.add(column: "head", .blob)
                t.add(column: "hash", .blob)
            }
            // Sessions recorded before the chain: not checked, and named by `records verify`.
            try db.create(table: "unchained_session") { t in t.primaryKey("id", .text) }
            try db.execute(sql: "INSERT INTO unchained_session (id) SELECT id FROM session")
        }
        migrator.registerMigration("v5: limits shared by every instance") { db in
            // Per client address and kind (session starts, wrong resume tokens): the window's start
            // and the count in it. Rows whose window has ended are deleted as others are counted.
            try db.create(table: "rate_limit") { t in
                t.column("kind", .text).notNull()
                t.column("address", .text).notNull()
                t.column("windowStart", .integer).notNull()
                t.column("count", .integer).notNull()
                t.primaryKey(["kind", "address"])
            }
            try db.create(index: "rate_limit_by_window", on: "rate_limit", columns: ["kind", "windowStart"])
        }
        migrator.registerMigration("v6: clients belong to an office") { db in
            // A client is (office, number): two offices' client "1024" are two people. The old
            // table held one row per number, with the office of her first session; each (office,
            // number) her sessions name becomes a client, since her first session in that office
            // (the old row's time where its office is that one). A number no session names any
            // more keeps its row. Sessions without an office belong to the unnamed office, ''.
            try db.execute(sql: """
                CREATE TABLE client_by_office ("office" TEXT NOT NULL, "id" TEXT NOT NULL, "createdAt" INTEGER NOT NULL,
                                               PRIMARY KEY ("office", "id"))
                """)
            try db.execute(sql: """
                INSERT INTO client_by_office (office, id, createdAt)
                SELECT g.office, g.id, coalesce((SELECT c.createdAt FROM client c WHERE c.id = g.id AND coalesce(c.office, '') = g.office), g.first)
                FROM (SELECT coalesce(office, '') AS office, clientId AS id, min(startedAt) AS first
                      FROM session WHERE clientId IS NOT NULL GROUP BY 1, 2) AS g
                """)
            try db.execute(sql: """
                INSERT OR IGNORE INTO client_by_office (office, id, createdAt)
                SELECT coalesce(office, ''), id, createdAt FROM client WHERE id NOT IN (SELECT clientId FROM session WHERE clientId IS NOT NULL)
                """)
            // The session's reference to the old key goes (SQLite changes a reference only by
            // building the table again, rows in the order written): a session names its client by
            // its own office and number.
            try db.execute(sql: """
                CREATE TABLE session_rebuilt ("id" TEXT PRIMARY KEY NOT NULL, "clientId" TEXT, "dialogId" TEXT NOT NULL,
                  "dialogVersion" TEXT NOT NULL, "mode" TEXT NOT NULL, "locale" TEXT NOT NULL, "status" TEXT NOT NULL,
                  "startedAt" INTEGER NOT NULL, "updatedAt" INTEGER NOT NULL, "counselor" TEXT, "office" TEXT,
                  "tokenDigest" BLOB NOT NULL UNIQUE, "record" TEXT, "holder" TEXT, "head" BLOB, "hash" BLOB)
                """)
            let columns = "id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt, counselor, office, tokenDigest, record, holder, head, hash"
            try db.execute(sql: "INSERT INTO session_rebuilt (\(columns)) SELECT \(columns) FROM session ORDER BY rowid")
            try db.execute(sql: "DROP TABLE session")
            try db.execute(sql: "ALTER TABLE session_rebuilt RENAME TO session")
            try db.execute(sql: #"CREATE INDEX "session_on_status" ON "session"("status")"#)
            try db.execute(sql: #"CREATE INDEX "session_on_startedAt" ON "session"("startedAt")"#)
            try db.execute(sql: #"CREATE INDEX "session_by_client" ON "session"("clientId")"#)
            try db.execute(sql: "DROP TABLE client")
            try db.execute(sql: "ALTER TABLE client_by_office RENAME TO client")
        }
        migrator.registerMigration("v7: who read which record") { db in
            // The session an audit entry is about (a record shown, printed as a sheet, exported,
            // listed): the access history of one session. No foreign key: the history stays when
            // the session is deleted.
            try db.alter(table: "audit") { t in t.add(column: "session", .text) }
            try db.create(index: "audit_by_session", on: "audit", columns: ["session"])
        }
        migrator.registerMigration("v8: records private to their counselor") { db in
            // A session whose client said no to sharing among counselors (the dialog's
            // `private_when`), and the counselor it is private to (nil: taken at a kiosk, by no
            // counselor yet). Goes with its session. A SQLite file is one office's: nothing here
            // keeps another account that can open the file from reading it (SECURITY.md).
            try db.execute(sql: """
                CREATE TABLE private_session (
                  sessionId TEXT PRIMARY KEY NOT NULL REFERENCES session(id) ON DELETE CASCADE,
                  counselor TEXT,
                  markedAt INTEGER NOT NULL)
                """)
            // A later session of a client one of whose sessions is private is private from its
            // start, to the counselor who starts it (as on PostgreSQL).
            try db.execute(sql: """
                CREATE TRIGGER session_inherits_private AFTER INSERT ON session WHEN NEW.clientId IS NOT NULL
                BEGIN
                  INSERT OR IGNORE INTO private_session (sessionId, counselor, markedAt)
                  SELECT NEW.id, NEW.counselor, NEW.startedAt
                  WHERE EXISTS (SELECT 1 FROM private_session p JOIN session s ON s.id = p.sessionId
                                WHERE s.clientId = NEW.clientId AND coalesce(s.office, '') = coalesce(NEW.office, '')
                                  AND s.id <> NEW.id);
                END
                """)
        }
        migrator.registerMigration("v9: snapshots of a session's state") { db in
            // Every so many entries the runner saves the session's state (sealed like its answers)
            // with the entry it follows, in the same transaction: a resume starts from the newest
            // one that checks and replays only the entries after it. `entryHash` is that entry's
            // chain hash; `hash` covers the session, seq, entryHash and state (see `Chain.Snapshot`).
            // Goes with its session.
            try db.execute(sql: """
                CREATE TABLE snapshot (
                  sessionId TEXT NOT NULL REFERENCES session(id) ON DELETE CASCADE,
                  seq INTEGER NOT NULL,
                  entryHash BLOB NOT NULL,
                  state TEXT NOT NULL,
                  hash BLOB NOT NULL,
                  PRIMARY KEY (sessionId, seq))
                """)
        }
        return migrator
    }

    /// Whether the database is sealed, refusing what must not open: a sealed database opened for
    /// writing without its key, a wrong key (by fingerprint), a key for writing a database that
    /// holds sessions in clear. The first open with a key of a database without sessions seals it.
    static func checkSeal(_ db: Database, cipher: Cipher?, access: DatabaseAccess) throws -> Bool {
        // A value that is not text, or the table dropped (its migration still recorded): the
        // database's record of its seal does not read — damage, not a disk to check.
        let meta: [String: String]
        do {
            meta = try Dictionary(Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { row in
                (try row.strictText("key"), try row.strictText("value"))
            }, uniquingKeysWith: { a, _ in a })
        } catch is Malformed {
            throw StoreError.damagedDatabase
        } catch let error as DatabaseError where error.resultCode == .SQLITE_ERROR {
            throw StoreError.damagedDatabase
        }
        func seal(_ cipher: Cipher) throws {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('sealed', 'yes'), ('key_fingerprint', ?)",
                           arguments: [cipher.fingerprint])
        }
        switch meta["sealed"] {
        case "yes":
            guard let fingerprint = meta["key_fingerprint"] else { throw StoreError.damagedDatabase }
            guard let cipher else {
                if access == .write { throw StoreError.sealedNeedsKey }
                return true
            }
            guard cipher.fingerprint == fingerprint else { throw StoreError.wrongKey }
            return true
        case "legacy":
            // Sealed before the database said so: the key must open a sealed value to be taken.
            guard let cipher else {
                if access == .write { throw StoreError.sealedNeedsKey }
                return true
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT sessionId, seq, event FROM event WHERE event LIKE 'enc1:%' LIMIT 1"),
                  let session = try? row.strictText("sessionId"), let seq = try? row.strictInt("seq"), let event = try? row.strictText("event") else {
                throw StoreError.damagedDatabase
            }
            do { _ = try cipher.open(event, context: "\(session)/\(seq)") } catch { throw StoreError.wrongKey }
            try seal(cipher)
            return true
        case "no":
            // The newest entry sealed in a database that says it is not: its bookkeeping was changed.
            if let newest = try String.fetchOne(db, sql: "SELECT CAST(event AS TEXT) FROM event ORDER BY rowid DESC LIMIT 1"),
               newest.hasPrefix(Cipher.prefix) {
                throw StoreError.damagedDatabase
            }
            guard let cipher else { return false }
            let sessions = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM session") ?? 0
            if sessions == 0 {
                try seal(cipher)
                return true
            }
            // Sessions in clear cannot be sealed in place: writing sealed rows beside them would
            // leave a database half in clear that says it is sealed.
            if access == .write { throw StoreError.notSealed(sessions: sessions) }
            return false
        default:
            throw StoreError.damagedDatabase
        }
    }
}
