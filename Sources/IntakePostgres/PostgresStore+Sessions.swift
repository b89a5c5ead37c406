import Foundation
import IntakeEngine
import IntakeRuntime
import Logging
import PostgresNIO

/// A session row as stored, read strictly, with its hash.
struct StoredSession: Sendable {
    var row: Chain.Session
    var hash: Data?
    /// Recorded before hash chains existed: not checked.
    var unchained: Bool
    var holder: String?

    /// The columns every session read selects, in the order `init` decodes them.
    static let columns = """
        s.id, s.client_id, s.dialog_id, s.dialog_version, s.mode, s.locale, s.status, s.started_at, s.updated_at,
        s.counselor, s.office, s.token_digest, s.record, s.head, s.hash,
        EXISTS (SELECT 1 FROM unchained_session u WHERE u.id = s.id), s.holder, s.ctid::text
        """
    static let select = "SELECT \(columns) FROM session s"

    init(row: Chain.Session, hash: Data?, unchained: Bool, holder: String?) {
        (self.row, self.hash, self.unchained, self.holder) = (row, hash, unchained, holder)
    }

    /// Reads a row; a row that cannot be read throws `damaged` with its id (or its row's place).
    init(_ r: PostgresRow) throws {
        let id = try? r.decode(String.self)
        do {
            let (id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt, counselor, office, tokenDigest,
                 record, head, hash, unchained, holder, _) = try r.decode(
                    (String, String?, String, String, String, String, String, Int64, Int64, String?, String?, Data, String?, Data?, Data?,
                     Bool, String?, String).self)
            row = Chain.Session(id: id, clientId: clientId, dialogId: dialogId, dialogVersion: dialogVersion, mode: mode, locale: locale,
                                status: status, startedAt: startedAt, updatedAt: updatedAt, counselor: counselor, office: office,
                                tokenDigest: tokenDigest, record: record, head: head)
            self.hash = hash
            self.unchained = unchained
            self.holder = holder
        } catch {
            let place = r.makeRandomAccess()[17]
            throw RuntimeError.damaged(session: id ?? "row \((try? place.decode(String.self)) ?? "?")")
        }
    }

    /// Checks the row against its hash (when the chain can be checked) and makes it a SessionInfo.
    func checked(_ chain: Chain?) throws -> SessionInfo {
        try row.checked(hash: hash, unchained: unchained, chain: chain)
    }
}

/// An event as it is written: sealed text, ready to insert.
struct SealedEntry: Sendable {
    var seq: Int64
    var at: Int64
    var utcOffset: Int64
    var actor: String
    var event: String
    var answers: String?

    func chained(_ session: String) -> Chain.Event {
        Chain.Event(session: session, seq: seq, at: at, utcOffset: utcOffset, actor: actor, event: event, answers: answers)
    }
}

extension PostgresStore {
    // MARK: - Sessions and their log

    public func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws {
        let entry = try sealed(first, of: info.id)
        try await committer.submit(.create(.init(info: info, digest: Data(token.digest), first: entry, holder: instance, chain: try writeChain)))
    }

    /// The start counted and the session created in the same shared transaction
    /// (`PostgresCommitter`): a start costs one commit, not two, and a start that is not
    /// created is not counted.
    public func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken, admitting: RateLimit.Admission) async throws {
        let entry = try sealed(first, of: info.id)
        try await committer.submit(.create(.init(info: info, digest: Data(token.digest), first: entry, holder: instance, chain: try writeChain,
                                                 admission: admitting)))
    }

    /// Appends entries after the session's newest, in a transaction shared with every write
    /// waiting meanwhile (`PostgresCommitter`): the row is locked (`FOR UPDATE`) and its lease
    /// checked under the lock, so two instances can never both append.
    public func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                       record: JSON?, at: Int64) async throws {
        let encoded = try entries.map { try sealed($0, of: session) }
        let recordText = try record.map { try cipher.seal($0.rendered(), context: "\(session)/record") }
        let takesOver = entries.contains { entry in
            switch entry.event {
            case .resume, .migrate: return true
            default: return false
            }
        }
        try await committer.submit(.append(.init(session: session, entries: encoded, status: status.rawValue, locale: locale, record: recordText,
                                                 at: at, holder: instance, takesOver: takesOver, chain: try writeChain)))
    }

    public func markPrivate(_ session: String, at: Int64) async throws {
        let logger = self.logger
        try await write { c in
            try await c.query("""
                INSERT INTO private_session (session_id, counselor, marked_at)
                SELECT id, counselor, \(at) FROM session WHERE id = \(session)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    public func privacy(of session: String) async throws -> Privacy? {
        let logger = self.logger
        let rows = try await read { c in
            try await c.query("SELECT counselor FROM private_session WHERE session_id = \(session)", logger: logger).collect()
        }
        return try rows.first.map { Privacy(counselor: try $0.decode(String?.self)) }
    }

    public func setDialogVersion(_ version: String, of session: String) async throws {
        let chain = try writeChain
        let logger = self.logger
        try await write { c in
            guard let row = try await c.query("\(unescaped: StoredSession.select) WHERE s.id = \(session) FOR UPDATE OF s", logger: logger).collect().first else {
                return
            }
            var stored = try StoredSession(row)
            if !stored.unchained { _ = try stored.checked(chain) }
            stored.row.dialogVersion = version
            let hash = stored.unchained ? nil : chain.hash(stored.row)
            try await c.query("UPDATE session SET dialog_version = \(version), hash = \(hash.map(ByteBuffer.of)) WHERE id = \(session)", logger: logger)
        }
    }

    public func log(of session: String) async throws -> [LogEntry] {
        let chain = self.chain, logger = self.logger
        let events = try await read { c in try await Self.storedLog(c, of: session, chain: chain, logger: logger).events }
        return try entries(events, of: session)
    }

    public func session(_ id: String) async throws -> SessionInfo? {
        let chain = self.chain, logger = self.logger
        let row = try await client.leasing { c in
            try await c.query("\(unescaped: StoredSession.select) WHERE s.id = \(id)", logger: logger).collect().first
        }
        return try row.map { try StoredSession($0).checked(chain) }
    }

    public func session(resuming token: ResumeToken) async throws -> SessionInfo? {
        let chain = self.chain, logger = self.logger
        let digest = ByteBuffer(bytes: token.digest)
        let row = try await client.leasing { c in
            // A counselor who is given a private kiosk session's token claims it (it becomes
            // private to her); for anyone else, and for any other session, this does nothing.
            // A kiosk login sees only the sessions its instance holds: the token takes the lease
            // first (for any other login this does nothing; the resume's entry takes it as always).
            try await c.query("SELECT intake_claim_private(\(digest)), intake_kiosk_take(\(digest))", logger: logger)
            return try await c.query("\(unescaped: StoredSession.select) WHERE s.token_digest = \(digest)", logger: logger).collect().first
        }
        guard let row else { return nil }
        // Sealed: a session listed as recorded before hash chains opens nothing by token (nothing the
        // key protects covers its token digest; IntakeDatabase.session(_:digest:chain:sealed:)).
        let stored = try StoredSession(row)
        if sealed && stored.unchained { throw RuntimeError.damaged(session: stored.row.id) }
        return try stored.checked(chain)
    }

    public func listSessions(_ filter: SessionFilter) async throws -> SessionList {
        // Every row is read and checked, and the filter applied to the rows that check: a damaged
        // value must not move a session out of sight of the filter unnoticed.
        let chain = self.chain
        let rows = try await allSessionRows()
        var sessions: [SessionInfo] = [], damaged: [String] = []
        for row in rows {
            do { sessions.append(try StoredSession(row).checked(chain)) } catch RuntimeError.damaged(let id) { damaged.append(id) }
        }
        return SessionList(sessions: SessionList.ordered(sessions.filter(filter.matches)), damaged: damaged)
    }

    func allSessionRows() async throws -> [PostgresRow] {
        let logger = self.logger
        return try await client.leasing { c in
            try await c.query("\(unescaped: StoredSession.select) ORDER BY s.started_at, s.id", logger: logger).collect()
        }
    }

    // MARK: - Leases

    public func holder(of session: String) async throws -> String? {
        let logger = self.logger
        return try await client.leasing { c in
            try await c.query("SELECT holder FROM session WHERE id = \(session)", logger: logger).collect().first?.decode(String?.self)
        } ?? nil
    }

    public func sessionsHeldElsewhere(_ sessions: [String]) async throws -> [String] {
        guard !sessions.isEmpty else { return [] }
        let logger = self.logger, instance = self.instance
        return try await client.leasing { c in
            var found: [String] = []
            for start in stride(from: 0, to: sessions.count, by: 1_000) {
                let ids = Array(sessions[start..<min(start + 1_000, sessions.count)])
                // Held by another instance: stored (`intake_stored_status` reads past row security)
                // and not held here — for a kiosk login, whose policy shows only what its instance
                // holds, a session taken elsewhere is one it no longer sees.
                for row in try await c.query("""
                    SELECT x FROM unnest(\(ids)::text[]) AS x
                    WHERE NOT EXISTS (SELECT 1 FROM session s WHERE s.id = x AND s.holder = \(instance))
                      AND intake_stored_status(x) IS NOT NULL
                    """, logger: logger).collect() {
                    found.append(try row.decode(String.self))
                }
            }
            return found
        }
    }

    // MARK: - Reading, checked

    /// One session's log as stored, checked against its chain (when it can be: with the key, or
    /// unsealed), or `damaged`. Run inside one snapshot (`read`), so the log and the row agree.
    static func storedLog(_ c: PostgresConnection, of session: String, chain: Chain?, logger: Logger) async throws -> (events: [Chain.Event], head: Data?) {
        let unchained = try await c.query("SELECT EXISTS (SELECT 1 FROM unchained_session WHERE id = \(session))", logger: logger)
            .collect().first?.decode(Bool.self) ?? false
        var previous: Data?
        var events: [Chain.Event] = []
        let rows = try await c.query("SELECT seq, at, utc_offset, actor, event, answers, hash FROM event WHERE session_id = \(session) ORDER BY seq",
                                     logger: logger).collect()
        for row in rows {
            let e: Chain.Event, hash: Data?
            do {
                let (seq, at, offset, actor, event, answers, h) = try row.decode((Int64, Int64, Int64, String, String, String?, Data?).self)
                e = Chain.Event(session: session, seq: seq, at: at, utcOffset: offset, actor: actor, event: event, answers: answers)
                hash = h
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
        // The newest entry must be the one the session row names (its hash covers `head`).
        if let chain, !unchained {
            guard let row = try await c.query("\(unescaped: StoredSession.select) WHERE s.id = \(session)", logger: logger).collect().first else {
                if events.isEmpty { return (events, previous) }
                throw RuntimeError.damaged(session: session)
            }
            let stored = try StoredSession(row)
            _ = try stored.checked(chain)
            guard stored.row.head == previous else { throw RuntimeError.damaged(session: session) }
        }
        return (events, previous)
    }

    /// Seals a log entry for its row.
    func sealed(_ entry: LogEntry, of session: String) throws -> SealedEntry {
        SealedEntry(seq: Int64(entry.seq), at: entry.at.epochMillis, utcOffset: Int64(entry.at.utcOffsetMinutes), actor: entry.actor.stored,
                    event: try cipher.seal(try entry.event.storedJSON(), context: "\(session)/\(entry.seq)"),
                    answers: try entry.answers.map { try cipher.seal(try AnswerChange.storedJSON($0), context: "\(session)/\(entry.seq)/answers") })
    }

    /// Opens a stored value: in a sealed database, a value that is not sealed is damage.
    func opened(_ stored: String, context: String, session: String) throws -> String {
        if sealed && !stored.hasPrefix(Cipher.prefix) { throw RuntimeError.damaged(session: session) }
        return try cipher.open(stored, context: context)
    }

    /// Stored events decoded into log entries; a value that does not open or decode is damage.
    func entries(_ events: [Chain.Event], of session: String) throws -> [LogEntry] {
        try events.map { e in
            guard let seq = Int(exactly: e.seq), let offset = Int(exactly: e.utcOffset) else { throw RuntimeError.damaged(session: session) }
            let eventText: String, answersText: String?
            do {
                eventText = try opened(e.event, context: "\(session)/\(seq)", session: session)
                answersText = try e.answers.map { try opened($0, context: "\(session)/\(seq)/answers", session: session) }
            } catch Cipher.Failure.cannotOpen {
                throw RuntimeError.damaged(session: session)
            }
            do {
                return LogEntry(seq: seq, at: Moment(epochMillis: e.at, utcOffsetMinutes: offset), actor: IntakeRuntime.Actor(stored: e.actor),
                                event: try LogEvent.decoding(stored: eventText),
                                answers: try answersText.map { try AnswerChange.decoding(stored: $0) })
            } catch {
                // A DecodingError's description can hold the value: only the session id goes on.
                throw RuntimeError.damaged(session: session)
            }
        }
    }

    /// A finished record's text opened and decoded, or `damaged`.
    func openedRecord(_ stored: StoredSession) throws -> JSON? {
        let id = stored.row.id
        guard let record = stored.row.record else { return nil }
        let text: String
        do { text = try opened(record, context: "\(id)/record", session: id) } catch Cipher.Failure.cannotOpen { throw RuntimeError.damaged(session: id) }
        guard let json = try? JSON(parsing: text, keepingOrder: true) else { throw RuntimeError.damaged(session: id) }
        return json
    }
}

