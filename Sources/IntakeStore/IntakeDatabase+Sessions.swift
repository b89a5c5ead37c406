import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

extension IntakeDatabase: SessionStore {
    public func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) throws {
        let event = try cipher.seal(try Self.encode(first.event), context: "\(info.id)/\(first.seq)")
        let answers = try first.answers.map { try cipher.seal(try Self.encodeAnswers($0), context: "\(info.id)/\(first.seq)/answers") }
        try writer.write { db in
            if let client = info.clientID {
                try db.execute(sql: "INSERT OR IGNORE INTO client (id, createdAt, office) VALUES (?, ?, ?)",
                               arguments: [client, info.startedAt, info.office])
            }
            try db.execute(sql: """
                INSERT INTO session (id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt,
                                     counselor, office, tokenDigest, holder)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [info.id, info.clientID, info.dialogID, info.dialogVersion, info.mode.rawValue, info.locale,
                                 info.status.rawValue, info.startedAt, info.updatedAt, info.counselor, info.office,
                                 Data(token.digest), instance])
            try db.execute(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [info.id, first.seq, first.at.epochMillis, first.at.utcOffsetMinutes, first.actor.stored, event, answers])
        }
    }

    public func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                       record: JSON?, at: Int64) throws {
        let encoded = try entries.map { entry in
            (entry, try cipher.seal(try Self.encode(entry.event), context: "\(session)/\(entry.seq)"),
             try entry.answers.map { try cipher.seal(try Self.encodeAnswers($0), context: "\(session)/\(entry.seq)/answers") })
        }
        let recordText = try record.map { try cipher.seal($0.rendered(), context: "\(session)/record") }
        let (holder, takesOver) = (instance, Self.takesOver(entries))
        try appends.write { db in
            // The lease first: a session resumed elsewhere refuses this append (nothing written).
            try Self.updateSession(db, session, status: status, locale: locale, at: at, record: recordText, holder: holder, takesOver: takesOver)
            // Cached statements: a batch of a hundred appends compiles these two once.
            let insert = try db.cachedStatement(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event, answers) VALUES (?, ?, ?, ?, ?, ?, ?)")
            for (entry, event, answers) in encoded {
                try insert.execute(arguments: [session, entry.seq, entry.at.epochMillis, entry.at.utcOffsetMinutes, entry.actor.stored, event, answers])
            }
        }
    }

    public func log(of session: String) throws -> [LogEntry] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, at, utcOffset, actor, event, answers FROM event WHERE sessionId = ? ORDER BY seq",
                             arguments: [session]).map { row in
                let seq: Int = row["seq"]
                return LogEntry(seq: seq, at: Moment(epochMillis: row["at"], utcOffsetMinutes: row["utcOffset"]),
                                actor: Actor(stored: row["actor"]),
                                event: try Self.decode(try cipher.open(row["event"], context: "\(session)/\(seq)")),
                                answers: try (row["answers"] as String?).map { try Self.decodeAnswers(try cipher.open($0, context: "\(session)/\(seq)/answers")) })
            }
        }
    }

    public func session(_ id: String) throws -> SessionInfo? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM session WHERE id = ?", arguments: [id]).map(Self.info)
        }
    }

    public func session(resuming token: ResumeToken) throws -> SessionInfo? {
        try writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM session WHERE tokenDigest = ?", arguments: [Data(token.digest)]).map(Self.info)
        }
    }

    /// Sessions, newest first, optionally only those of a status or started in [from, to).
    public func sessions(status: SessionInfo.Status? = nil, from: Int64? = nil, to: Int64? = nil,
                         counselor: String? = nil, office: String? = nil) throws -> [SessionInfo] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let status { conditions.append("status = ?"); arguments += [status.rawValue] }
        if let from { conditions.append("startedAt >= ?"); arguments += [from] }
        if let to { conditions.append("startedAt < ?"); arguments += [to] }
        if let counselor { conditions.append("counselor = ?"); arguments += [counselor] }
        if let office { conditions.append("office = ?"); arguments += [office] }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM session\(filter) ORDER BY startedAt DESC, id", arguments: arguments).map(Self.info)
        }
    }

    /// The record of a finished session, as JSON text.
    public func record(of session: String) throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT record FROM session WHERE id = ?", arguments: [session]) }
            .map { try cipher.open($0, context: "\(session)/record") }
    }

    /// A later visit of `client` under `dialog`: the answers its finished records carry (each
    /// section from the newest record that holds it), from the newest record; nil when it has none.
    public func carried(forClient client: String, into dialog: Dialog, utcOffsetMinutes: Int = 540) throws -> Carried? {
        let rows = try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT id, startedAt, record FROM session WHERE clientId = ? AND status = 'complete' AND record IS NOT NULL ORDER BY startedAt DESC, id",
                             arguments: [client])
        }
        guard let newest = rows.first else { return nil }
        let records = try rows.map { row -> JSON in
            let id: String = row["id"]
            let text = try cipher.open(row["record"], context: "\(id)/record")
            return try JSONDecoder().decode(JSON.self, from: Data(text.utf8))
        }
        let date = Moment(epochMillis: newest["startedAt"], utcOffsetMinutes: utcOffsetMinutes).localDate.iso
        return Carried(previous: newest["id"], previousDate: date, answers: dialog.carriedAnswers(records: records))
    }

    /// Deletes a session and its log at the client's request, leaving an audit entry that says what
    /// was deleted, when and by whom — and nothing of the data. The deleted pages are overwritten
    /// (secure_delete) and the WAL is checkpointed, so the data is gone from the files.
    public func deleteSession(_ id: String, by actor: Actor, at: Int64) throws -> Bool {
        let deleted = try writer.write { db -> Bool in
            let events = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE sessionId = ?", arguments: [id]) ?? 0
            try db.execute(sql: "DELETE FROM event WHERE sessionId = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM session WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, 'delete-session', ?)",
                           arguments: [at, actor.stored, "session \(id) and its \(events) events"])
            return true
        }
        if deleted { try checkpointAfterDeletion() }
        return deleted
    }

    /// The audit trail, oldest first.
    public func audit() throws -> [(at: Int64, actor: String, action: String, detail: String)] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT at, actor, action, detail FROM audit ORDER BY id").map {
                (at: $0["at"], actor: $0["actor"], action: $0["action"], detail: $0["detail"])
            }
        }
    }

    static func info(_ row: Row) -> SessionInfo {
        SessionInfo(id: row["id"], clientID: row["clientId"], dialogID: row["dialogId"], dialogVersion: row["dialogVersion"],
                    mode: SessionState.Mode(rawValue: row["mode"]) ?? .kiosk, locale: row["locale"],
                    status: SessionInfo.Status(rawValue: row["status"]) ?? .suspended, startedAt: row["startedAt"],
                    updatedAt: row["updatedAt"], counselor: row["counselor"], office: row["office"])
    }

    /// The stored text of an event: `JSONEncoder`'s form, written by hand (`LogEvent.storedJSON`).
    static func encode(_ event: LogEvent) throws -> String {
        try event.storedJSON()
    }

    static func decode(_ text: String) throws -> LogEvent {
        try JSONDecoder().decode(LogEvent.self, from: Data(text.utf8))
    }

    static func encodeAnswers(_ changes: [AnswerChange]) throws -> String {
        try AnswerChange.storedJSON(changes)
    }

    static func decodeAnswers(_ text: String) throws -> [AnswerChange] {
        try JSONDecoder().decode([AnswerChange].self, from: Data(text.utf8))
    }

    public func setDialogVersion(_ version: String, of session: String) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE session SET dialogVersion = ? WHERE id = ?", arguments: [version, session])
        }
    }
}
