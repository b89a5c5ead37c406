import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// A value that is not of its column's type (caught and reported as the session's damage).
struct Malformed: Error {}

extension IntakeDatabase {
    /// The columns of a stored event, in the order `Row.storedEvent(of:)` reads them.
    static let eventColumns = "seq, at, utcOffset, actor, event, answers, hash"
}

extension Row {
    /// A stored event (selected as `IntakeDatabase.eventColumns`) as it is hashed, and its stored
    /// hash; throws `Malformed` for a value not of its column's type. Read by position: by name,
    /// every column was a case-insensitive search of the row's column names, a third of reading a
    /// resume's entries (IntakeBench).
    func storedEvent(of session: String) throws -> (event: Chain.Event, hash: Data?) {
        (Chain.Event(session: session, seq: try strictInt(at: 0), at: try strictInt(at: 1), utcOffset: try strictInt(at: 2),
                     actor: try strictText(at: 3), event: try strictText(at: 4), answers: try strictOptionalText(at: 5)),
         try strictOptionalBlob(at: 6))
    }

    /// The value at a column's position (in a statement whose columns are fixed) or of a column
    /// by name; throws `Malformed` instead of trapping on NULL or another type.
    func strictText(at i: Int) throws -> String { try Self.text(decode(DatabaseValue.self, atIndex: i)) }
    func strictOptionalText(at i: Int) throws -> String? { try Self.optionalText(decode(DatabaseValue.self, atIndex: i)) }
    func strictInt(at i: Int) throws -> Int64 { try Self.int(decode(DatabaseValue.self, atIndex: i)) }
    func strictBlob(at i: Int) throws -> Data { try Self.blob(decode(DatabaseValue.self, atIndex: i)) }
    func strictOptionalBlob(at i: Int) throws -> Data? { try Self.optionalBlob(decode(DatabaseValue.self, atIndex: i)) }

    func strictText(_ column: String) throws -> String { try Self.text(decode(DatabaseValue.self, forColumn: column)) }
    func strictOptionalText(_ column: String) throws -> String? { try Self.optionalText(decode(DatabaseValue.self, forColumn: column)) }
    func strictInt(_ column: String) throws -> Int64 { try Self.int(decode(DatabaseValue.self, forColumn: column)) }
    func strictBlob(_ column: String) throws -> Data { try Self.blob(decode(DatabaseValue.self, forColumn: column)) }
    func strictOptionalBlob(_ column: String) throws -> Data? { try Self.optionalBlob(decode(DatabaseValue.self, forColumn: column)) }

    private static func text(_ v: DatabaseValue) throws -> String {
        guard case .string(let s) = v.storage else { throw Malformed() }
        return s
    }

    private static func optionalText(_ v: DatabaseValue) throws -> String? {
        switch v.storage {
        case .null: return nil
        case .string(let s): return s
        default: throw Malformed()
        }
    }

    private static func int(_ v: DatabaseValue) throws -> Int64 {
        guard case .int64(let n) = v.storage else { throw Malformed() }
        return n
    }

    private static func blob(_ v: DatabaseValue) throws -> Data {
        guard case .blob(let b) = v.storage else { throw Malformed() }
        return b
    }

    private static func optionalBlob(_ v: DatabaseValue) throws -> Data? {
        switch v.storage {
        case .null: return nil
        case .blob(let b): return b
        default: throw Malformed()
        }
    }
}

/// A session row as stored, read strictly, with its hash.
struct StoredSession {
    var row: Chain.Session
    var hash: Data?
    /// Recorded before hash chains existed (listed by the migration): not checked.
    var unchained: Bool

    /// The columns every session read selects, in the order `init` reads them by position (by
    /// name, each of its sixteen lookups searched the row's names: a sixtieth of a kiosk turn's CPU,
    /// on the one commit thread). Other readers of these rows may still read a column by name.
    static let select = """
        SELECT session.id, session.clientId, session.dialogId, session.dialogVersion, session.mode, session.locale, session.status, \
        session.startedAt, session.updatedAt, session.counselor, session.office, session.tokenDigest, session.record, session.holder, \
        session.head, session.hash, EXISTS (SELECT 1 FROM unchained_session u WHERE u.id = session.id) AS unchained, \
        session.rowid AS rowNumber FROM session
        """

    /// Reads a row; a row that cannot be read throws `damaged` with its id (or its row number).
    init(_ r: Row) throws {
        let id = try? r.strictText(at: 0)
        do {
            row = Chain.Session(id: try r.strictText(at: 0), clientId: try r.strictOptionalText(at: 1),
                                dialogId: try r.strictText(at: 2), dialogVersion: try r.strictText(at: 3),
                                mode: try r.strictText(at: 4), locale: try r.strictText(at: 5), status: try r.strictText(at: 6),
                                startedAt: try r.strictInt(at: 7), updatedAt: try r.strictInt(at: 8),
                                counselor: try r.strictOptionalText(at: 9), office: try r.strictOptionalText(at: 10),
                                tokenDigest: try r.strictBlob(at: 11), record: try r.strictOptionalText(at: 12),
                                head: try r.strictOptionalBlob(at: 14))
            hash = try r.strictOptionalBlob(at: 15)
            unchained = try r.strictInt(at: 16) != 0
        } catch {
            throw RuntimeError.damaged(session: id ?? "row \((try? r.strictInt(at: 17)).map(String.init) ?? "?")")
        }
    }

    /// Checks the row against its hash (when the chain can be checked) and makes it a SessionInfo.
    func checked(_ chain: Chain?) throws -> SessionInfo {
        try row.checked(hash: hash, unchained: unchained, chain: chain)
    }
}

/// An event as it is written: sealed text, ready to insert.
struct SealedEntry: Sendable {
    var seq: Int
    var at: Int64
    var utcOffset: Int
    var actor: String
    var event: String
    var answers: String?
}

extension IntakeDatabase {
    // MARK: - Writing, chained

    /// Seals a log entry for its row.
    func sealed(_ entry: LogEntry, of session: String) throws -> SealedEntry {
        SealedEntry(seq: entry.seq, at: entry.at.epochMillis, utcOffset: entry.at.utcOffsetMinutes, actor: entry.actor.stored,
                    event: try cipher.seal(try Self.encode(entry.event), context: "\(session)/\(entry.seq)"),
                    answers: try entry.answers.map { try cipher.seal(try Self.encodeAnswers($0), context: "\(session)/\(entry.seq)/answers") })
    }

    /// The chain to write with: a database opened for writing always has one.
    var writeChain: Chain {
        get throws {
            guard let chain else { throw StoreError.sealedNeedsKey }
            return chain
        }
    }

    /// Inserts a new session's row and its first entry, chained from nothing.
    static func insertSession(_ db: Database, _ info: SessionInfo, digest: Data, first: SealedEntry, chain: Chain, holder: String) throws {
        let head = chain.hash(Chain.Event(session: info.id, seq: Int64(first.seq), at: first.at, utcOffset: Int64(first.utcOffset),
                                          actor: first.actor, event: first.event, answers: first.answers), after: nil)
        let row = Chain.Session(id: info.id, clientId: info.clientID, dialogId: info.dialogID, dialogVersion: info.dialogVersion,
                                mode: info.mode.rawValue, locale: info.locale, status: info.status.rawValue, startedAt: info.startedAt,
                                updatedAt: info.updatedAt, counselor: info.counselor, office: info.office, tokenDigest: digest,
                                record: nil, head: head)
        try db.cachedStatement(sql: """
            INSERT INTO session (id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt,
                                 counselor, office, tokenDigest, head, hash, holder)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [info.id, info.clientID, info.dialogID, info.dialogVersion, info.mode.rawValue, info.locale,
                                     info.status.rawValue, info.startedAt, info.updatedAt, info.counselor, info.office, digest,
                                     head, chain.hash(row), holder])
        try db.cachedStatement(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [info.id, first.seq, first.at, first.utcOffset, first.actor, first.event, first.answers, head])
    }

    /// Appends entries after the session's newest one (read in this transaction: one indexed
    /// lookup), and updates the session row and its hash. A session whose row does not match its
    /// hash is refused (its damage is not laundered by a new hash). The lease (`holder`, see
    /// `IntakeDatabase+Sharing.swift`) is checked by the same UPDATE: a session resumed in another
    /// process since this one took it refuses the append (`RuntimeError.takenOver`, nothing written);
    /// a resumption (`takesOver`) takes it.
    /// The session's row with its newest entry's seq and hash (`appendEntries`).
    static let appendSelect = StoredSession.select.replacingOccurrences(of: " FROM session", with: """
        , (SELECT seq FROM event e WHERE e.sessionId = session.id ORDER BY seq DESC LIMIT 1) AS lastSeq,
          (SELECT hash FROM event e WHERE e.sessionId = session.id ORDER BY seq DESC LIMIT 1) AS lastHash FROM session WHERE id = ?
        """)

    static func appendEntries(_ db: Database, _ entries: [SealedEntry], to session: String, status: SessionInfo.Status, locale: String,
                              record: String?, at: Int64, chain: Chain, holder: String, takesOver: Bool,
                              snapshot: SealedSnapshot? = nil) throws {
        // One indexed lookup: the row, and its newest entry's seq and hash. Read from the cursor's
        // own row (its column names indexed once per statement), not a copy (which looks up each
        // column by lowercasing every name: a tenth of this function, on the one commit thread).
        let rows = try Row.fetchCursor(db.cachedStatement(sql: appendSelect), arguments: [session])
        guard let row = try rows.next() else {
            throw RuntimeError.takenOver  // no such session (deleted meanwhile): not stored, and the client is told
        }
        // The lease before anything else: another process resumed the session since this one
        // took it (its entries then follow on from the other's, not from ours).
        if !takesOver {
            let current = try? row.decode(DatabaseValue.self, forColumn: "holder")
            guard case .string(let h)? = current?.storage, h == holder else { throw RuntimeError.takenOver }
        }
        var stored = try StoredSession(row)
        let unchained = stored.unchained
        if !unchained { _ = try stored.checked(chain) }
        var previous: Data?
        var snapshotHash: Data?
        var lastSeq = Int64.min
        do {
            if try row.decode(DatabaseValue.self, forColumn: "lastSeq").isNull == false {
                lastSeq = try row.strictInt("lastSeq")
                previous = try row.strictOptionalBlob("lastHash")
            }
        } catch {
            throw RuntimeError.damaged(session: session)
        }
        // The chain goes on from the entry the row names as newest: entries cut off from its end
        // are damage, not laundered by a new head.
        if !unchained, previous != stored.row.head { throw RuntimeError.damaged(session: session) }
        // Everything is read from the row: the cursor ends (its statement reset) before the writes.
        guard try rows.next() == nil else { throw RuntimeError.damaged(session: session) }
        let insert = try db.cachedStatement(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        for e in entries {
            // The chain runs in sequence order: an entry only ever comes after the newest.
            guard Int64(e.seq) > lastSeq else { throw StoreError.outOfOrder(session: session) }
            lastSeq = Int64(e.seq)
            // A session recorded before chains goes on unchained (its log has no chain to extend).
            let hash = unchained ? nil : chain.hash(Chain.Event(session: session, seq: Int64(e.seq), at: e.at, utcOffset: Int64(e.utcOffset),
                                                               actor: e.actor, event: e.event, answers: e.answers), after: previous)
            try insert.execute(arguments: [session, e.seq, e.at, e.utcOffset, e.actor, e.event, e.answers, hash])
            previous = hash
            if let snapshot, snapshot.seq == e.seq, let hash { snapshotHash = hash }
        }
        stored.row.status = status.rawValue
        stored.row.locale = locale
        stored.row.updatedAt = at
        if let record { stored.row.record = record }
        if !unchained, !entries.isEmpty { stored.row.head = previous }
        let hash = unchained ? nil : chain.hash(stored.row)
        if takesOver {
            try db.cachedStatement(sql: "UPDATE session SET status = ?, locale = ?, updatedAt = ?, record = ?, head = ?, hash = ?, holder = ? WHERE id = ?")
                .execute(arguments: [stored.row.status, stored.row.locale, stored.row.updatedAt, stored.row.record, stored.row.head,
                                     hash, holder, session])
        } else {
            try db.cachedStatement(sql: "UPDATE session SET status = ?, locale = ?, updatedAt = ?, record = ?, head = ?, hash = ? WHERE id = ? AND holder = ?")
                .execute(arguments: [stored.row.status, stored.row.locale, stored.row.updatedAt, stored.row.record, stored.row.head,
                                     hash, session, holder])
        }
        guard db.changesCount > 0 else { throw RuntimeError.takenOver }
        // With its entry, in its transaction (a session recorded before chains has none).
        if let snapshot, let snapshotHash { try insertSnapshot(db, snapshot, of: session, entryHash: snapshotHash, chain: chain) }
    }

    /// Moves a session to another dialog version (its row re-hashed).
    static func updateDialogVersion(_ db: Database, _ version: String, of session: String, chain: Chain) throws {
        guard let row = try Row.fetchOne(db, sql: StoredSession.select + " WHERE id = ?", arguments: [session]) else { return }
        var stored = try StoredSession(row)
        if !stored.unchained { _ = try stored.checked(chain) }
        stored.row.dialogVersion = version
        try db.execute(sql: "UPDATE session SET dialogVersion = ?, hash = ? WHERE id = ?",
                       arguments: [version, stored.unchained ? nil : chain.hash(stored.row), session])
    }

    // MARK: - Reading, checked

    /// One session's log as stored, checked against its chain (when it can be: with the key, or
    /// unsealed), or `damaged`.
    static func storedLog(_ db: Database, of session: String, chain: Chain?) throws -> (events: [Chain.Event], head: Data?) {
        let unchained = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM unchained_session WHERE id = ?)", arguments: [session]) ?? false
        var previous: Data?
        var events: [Chain.Event] = []
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT \(eventColumns) FROM event WHERE sessionId = ? ORDER BY seq"),
                                       arguments: [session])
        while let row = try rows.next() {
            let e: Chain.Event
            let hash: Data?
            do {
                (e, hash) = try row.storedEvent(of: session)
            } catch {
                throw RuntimeError.damaged(session: session)
            }
            if let chain, !unchained {
                let expected = chain.hash(e, after: previous)
                guard hash == expected else { throw RuntimeError.damaged(session: session) }
                previous = expected
            }
            events.append(e)
        }
        // The newest entry must be the one the session row names (its hash covers `head`): a log
        // whose newest entries were cut off is damaged, not a shorter log.
        if let chain, !unchained {
            guard let row = try Row.fetchOne(db, sql: StoredSession.select + " WHERE id = ?", arguments: [session]) else {
                if events.isEmpty { return (events, previous) }
                throw RuntimeError.damaged(session: session)
            }
            let stored = try StoredSession(row)
            _ = try stored.checked(chain)
            guard stored.row.head == previous else { throw RuntimeError.damaged(session: session) }
        }
        return (events, previous)
    }

    /// Opens a stored value: in a sealed database, a value that is not sealed is damage (forged or
    /// broken), never data.
    func opened(_ stored: String, context: String, session: String) throws -> String {
        if sealed && !stored.hasPrefix(Cipher.prefix) { throw RuntimeError.damaged(session: session) }
        return try cipher.open(stored, context: context)
    }

    /// Stored events decoded into log entries; a value that does not open or decode is damage
    /// (with a wrong key it is `cannotOpen`, though a wrong key is refused when the database opens).
    func entries(_ events: [Chain.Event], of session: String) throws -> [LogEntry] {
        try events.map { e in
            guard let seq = Int(exactly: e.seq), let offset = Int(exactly: e.utcOffset) else { throw RuntimeError.damaged(session: session) }
            let eventText = try opened(e.event, context: "\(session)/\(seq)", session: session)
            let answersText = try e.answers.map { try opened($0, context: "\(session)/\(seq)/answers", session: session) }
            do {
                return LogEntry(seq: seq, at: Moment(epochMillis: e.at, utcOffsetMinutes: offset), actor: Actor(stored: e.actor),
                                event: try Self.decode(eventText), answers: try answersText.map { try Self.decodeAnswers($0) })
            } catch {
                // A DecodingError's description can hold the value: only the session id goes on.
                throw RuntimeError.damaged(session: session)
            }
        }
    }

    // MARK: - Verifying a whole database

    /// SQLite's integrity check of the whole file (every page, every index against its table):
    /// commands that read every record (export, report, verify) run it first. It reads the whole
    /// file once.
    public func checkFile() throws {
        let result = try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        guard result == ["ok"] else { throw StoreError.damagedFile }
    }

    /// Checks every session: its row against its hash, its log against its chain, its head
    /// (the row's `head` is the newest entry's hash), and that every value opens and decodes.
    public func verify() throws -> Verification {
        guard let chain else { throw Cipher.Failure.needsKey }
        return try writer.read { db in
            var result = Verification(intact: [], damaged: [], unchained: [])
            // Events whose session row is gone (or was renamed) are damage too.
            let orphans = try String.fetchAll(db, sql: "SELECT DISTINCT CAST(sessionId AS TEXT) FROM event WHERE sessionId NOT IN (SELECT id FROM session)")
            let rows = try Row.fetchAll(db, sql: StoredSession.select + " ORDER BY rowid")
            for row in rows {
                let stored: StoredSession
                do { stored = try StoredSession(row) } catch RuntimeError.damaged(let id) {
                    result.damaged.append(id)
                    continue
                }
                let id = stored.row.id
                do {
                    _ = try stored.checked(chain)
                    let (events, head) = try Self.storedLog(db, of: id, chain: chain)
                    _ = try entries(events, of: id)
                    if let record = stored.row.record {
                        let text = try opened(record, context: "\(id)/record", session: id)
                        guard (try? JSONDecoder().decode(JSON.self, from: Data(text.utf8))) != nil else { throw RuntimeError.damaged(session: id) }
                    }
                    if stored.unchained {
                        result.unchained.append(id)
                        continue
                    }
                    // The row's head is the newest entry's hash: entries cut off from the end show here,
                    // unless the row was put back as it was before them.
                    guard !events.isEmpty, let head, stored.row.head == head else { throw RuntimeError.damaged(session: id) }
                    result.intact.append(Verification.Intact(id: id, entries: events.count, head: head.map { String(format: "%02x", $0) }.joined()))
                } catch RuntimeError.damaged {
                    result.damaged.append(id)
                } catch Cipher.Failure.cannotOpen {
                    result.damaged.append(id)
                }
            }
            result.orphans = orphans
            return result
        }
    }
}
