import IntakeEngine

/// Which sessions a listing returns: every field that is set must match.
public struct SessionFilter: Sendable, Equatable {
    public var status: SessionInfo.Status?
    /// Started at or after (epoch ms).
    public var from: Int64?
    /// Started before (epoch ms).
    public var to: Int64?
    public var counselor: String?
    public var office: String?
    public var client: String?

    public init(status: SessionInfo.Status? = nil, from: Int64? = nil, to: Int64? = nil, counselor: String? = nil,
                office: String? = nil, client: String? = nil) {
        self.status = status
        self.from = from
        self.to = to
        self.counselor = counselor
        self.office = office
        self.client = client
    }

    public static let all = SessionFilter()

    public func matches(_ s: SessionInfo) -> Bool {
        (status.map { s.status == $0 } ?? true) && (from.map { s.startedAt >= $0 } ?? true) && (to.map { s.startedAt < $0 } ?? true)
            && (counselor.map { s.counselor == $0 } ?? true) && (office.map { s.office == $0 } ?? true)
            && (client.map { s.clientID == $0 } ?? true)
    }
}

/// Sessions as a store lists them, newest first (started, then id), and apart the ids of those that
/// are damaged (their rows do not read or do not match their hashes): one damaged session never
/// hides the others. A damaged session is listed as damaged whatever the filter (its filtered
/// values cannot be trusted).
/// A private session's reader: the counselor it is private to (nil: none yet, a kiosk session
/// nobody has claimed — only a supervisor reads it).
public struct Privacy: Sendable, Equatable {
    public var counselor: String?
    public init(counselor: String?) { self.counselor = counselor }
}

public struct SessionList: Sendable, Equatable {
    public var sessions: [SessionInfo]
    public var damaged: [String]

    public init(sessions: [SessionInfo], damaged: [String]) {
        self.sessions = sessions
        self.damaged = damaged
    }

    /// The order every store lists in: newest start first, then id.
    public static func ordered(_ sessions: [SessionInfo]) -> [SessionInfo] {
        sessions.sorted { ($0.startedAt, $1.id) > ($1.startedAt, $0.id) }
    }
}

/// A finished session's record, with the session it belongs to.
public struct FinishedRecord: Sendable, Equatable {
    public var session: SessionInfo
    public var record: JSON

    public init(session: SessionInfo, record: JSON) {
        self.session = session
        self.record = record
    }
}

/// One entry of the audit trail: who did what, when — never the data.
public struct AuditEntry: Sendable, Equatable {
    public var at: Int64
    public var actor: String
    public var action: String
    public var detail: String
    /// The session the entry is about (a record read: see `Store.recordReads`); nil for entries
    /// about the store as a whole. Kept when the session is deleted: the access history outlives
    /// the data.
    public var session: String?

    public init(at: Int64, actor: String, action: String, detail: String, session: String? = nil) {
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
        self.session = session
    }

    /// The action of an entry that says a record was read (its kind of output is the detail).
    public static let read = "read"
}

/// What `records verify` finds in a whole store.
public struct Verification: Sendable, Equatable {
    public struct Intact: Sendable, Equatable {
        public var id: String
        public var entries: Int
        /// The newest entry's hash, in hex.
        public var head: String

        public init(id: String, entries: Int, head: String) {
            self.id = id
            self.entries = entries
            self.head = head
        }
    }

    /// Sessions whose chain holds.
    public var intact: [Intact]
    /// Sessions that are damaged (ids, or row numbers when the id itself is unreadable).
    public var damaged: [String]
    /// Sessions recorded before hash chains existed (not checked).
    public var unchained: [String]
    /// Session ids that have log entries but no session row.
    public var orphans: [String]

    public init(intact: [Intact] = [], damaged: [String] = [], unchained: [String] = [], orphans: [String] = []) {
        self.intact = intact
        self.damaged = damaged
        self.unchained = unchained
        self.orphans = orphans
    }
}

/// Everything intake stores and reads, behind one protocol: sessions and their event log, the
/// lease that keeps a session live on one connection, records, clients and their visits, the
/// audit trail, deletion, retention and verification. SQLite (`IntakeStore`) and PostgreSQL
/// (`IntakePostgres`) implement it once each; `StoreConformance` runs every operation against
/// every store.
///
/// The durability contract: a write is committed (on disk, or on the database server with
/// `synchronous_commit` on) when its call returns, and not before — an answer's reply is sent only
/// after that. Concurrent writers' calls share commits (group commit). A caller is suspended, never
/// blocked, while the commit happens.
///
/// Damage is never data: a row that does not read, a value that does not open or decode, a broken
/// link of the log's hash chain is `RuntimeError.damaged(session:)`; a list names its damaged
/// sessions apart (`SessionList.damaged`).
public protocol Store: Sendable {
    /// This opening of the store (a random id): the lease holder it writes on the sessions it
    /// starts or resumes.
    var instance: String { get }
    /// Who is reading and writing through this opening, for the audit trail: the database login
    /// (PostgreSQL), or the operating-system account that runs the process (SQLite). Read once at
    /// opening; never a name typed on a command line.
    var identity: String { get }

    // MARK: Sessions and their event log

    /// A new session (holding its lease), its first log entry and the digest of its resume token;
    /// the client row when the session names one.
    func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws
    /// A new session as `create`, if the address starting it is under its limit: the start counted
    /// (`RateLimit.Counting.admit`) and the session created. At the limit it throws
    /// `RateLimit.Refused`, and nothing is created. (By default the two steps one after the other;
    /// a store may do both in one transaction.)
    func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken, admitting: RateLimit.Admission) async throws
    /// Appends log entries and updates what the session list shows (status, locale, time, and the
    /// record when it finished). An entry that resumes or migrates the session takes its lease;
    /// any other append from an instance that does not hold the lease is `RuntimeError.takenOver`
    /// and writes nothing. Entries must come after the session's newest (`StoreError.outOfOrder`).
    func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                record: JSON?, at: Int64) async throws
    /// `append`, with a snapshot of the session's state after the entry `snapshot.seq` (one of
    /// `entries`) written in the same transaction (see `SessionSnapshot`). A store that keeps none
    /// ignores it (the default).
    func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                record: JSON?, at: Int64, snapshot: SessionSnapshot?) async throws
    /// What a resume reads: the newest snapshot that checks against the log and the entries after
    /// it, chain checked from it to the head; else the whole log (`log(of:)`). The default: the
    /// whole log.
    func resumeLog(of session: String) async throws -> ResumeLog
    /// The session moved to another version of its dialog.
    func setDialogVersion(_ version: String, of session: String) async throws
    /// The session's log, oldest first, its chain checked.
    func log(of session: String) async throws -> [LogEntry]
    func session(_ id: String) async throws -> SessionInfo?
    /// The session a resume token opens, if any (compared by digest).
    func session(resuming token: ResumeToken) async throws -> SessionInfo?
    /// Sessions matching `filter`, newest first, and the damaged ones apart.
    func listSessions(_ filter: SessionFilter) async throws -> SessionList

    /// Marks `session` private: its client said no to sharing among counselors (the dialog's
    /// `private_when` came to hold). It is private to the counselor the session names (none: a
    /// kiosk session, until a counselor claims it with her resume token); on PostgreSQL row-level
    /// security then hides it, its log and its access history from every other counselor (a
    /// supervisor still reads it). Once marked, it stays marked. Called before the answer that
    /// makes it private is written: a failure writes nothing of that answer.
    func markPrivate(_ session: String, at: Int64) async throws
    /// Whether `session` is marked private, and to whom (nil: not private).
    func privacy(of session: String) async throws -> Privacy?

    // MARK: Leases

    /// The instance that holds a session now (nil: none, or no such session).
    func holder(of session: String) async throws -> String?
    /// Which of `sessions` (held by this instance) another instance has taken over since.
    func sessionsHeldElsewhere(_ sessions: [String]) async throws -> [String]

    // MARK: Records, clients and visits

    /// The record of a finished session (nil: none, or not finished), checked with its row.
    func record(of session: String) async throws -> JSON?
    /// A client's finished records (status complete, with a record), newest first: only her
    /// office's (another office's client of the same number is another person).
    func records(ofClient client: ClientKey) async throws -> [FinishedRecord]

    // MARK: Audit, deletion, retention

    /// The audit trail, oldest first.
    func audit() async throws -> [AuditEntry]
    /// Records that `actor` read the records of `sessions` at `at`, as output of `kind` ("show",
    /// "sheet:record", "export:csv", "list"): one audit entry per session (action `AuditEntry.read`,
    /// the kind as detail, the session as subject), all in one transaction; nothing of the data.
    /// An empty list writes nothing. A caller writes this before it shows the data, and shows
    /// nothing when it throws.
    func recordReads(_ sessions: [String], kind: String, by actor: String, at: Int64) async throws
    /// The audit entries about `session` (who read it, when, as what), oldest first; they stay
    /// after the session is deleted.
    func accessHistory(of session: String) async throws -> [AuditEntry]
    /// Deletes a session and its log, leaving an audit entry that says what was deleted, when and
    /// by whom (and nothing of the data); false when there was no such session.
    func deleteSession(_ id: String, by actor: Actor, at: Int64) async throws -> Bool
    /// Sessions abandoned before any answer (never finished, no event after the start changed an
    /// answer) last touched before `updatedBefore`, oldest first.
    func abandonedSessions(updatedBefore: Int64) async throws -> [String]
    /// Sessions abandoned before any answer, started in [from, to).
    func abandonedSessions(startedFrom from: Int64, to: Int64) async throws -> Set<String>
    /// Deletes every session abandoned before any answer and untouched for `days` days before `at`,
    /// with an audit entry; how many went.
    @discardableResult
    func purgeAbandoned(olderThanDays days: Int, by actor: Actor, at: Int64) async throws -> Int

    // MARK: Limits shared by every instance

    /// One attempt of `rule.kind` from `address` at `at`, counted in the database so that every
    /// instance on it sees the same count (session starts, wrong resume tokens): see `RateLimit`.
    /// Returns whether the attempt is allowed.
    func limit(_ rule: RateLimit, address: String, counting: RateLimit.Counting, at: Int64) async throws -> Bool

    // MARK: Verification

    /// The database's own check of its storage (SQLite: `integrity_check`): `StoreError.damagedFile`.
    func checkStorage() async throws
    /// Every session checked: its row, its log's chain, its head, every value opens and decodes.
    func verify() async throws -> Verification
}

extension Store {
    public func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken, admitting a: RateLimit.Admission) async throws {
        guard try await limit(a.rule, address: a.address, counting: .admit, at: a.at) else { throw RateLimit.Refused() }
        try await create(info, first: first, token: token)
    }

    /// Sessions matching `filter`; any damaged one is `StoreError.damagedSessions` naming them all
    /// (use `listSessions` to have the others).
    public func sessions(_ filter: SessionFilter = .all) async throws -> [SessionInfo] {
        let list = try await listSessions(filter)
        guard list.damaged.isEmpty else { throw StoreError.damagedSessions(list.damaged) }
        return list.sessions
    }

    /// A later visit of `client` under `dialog`: the answers her finished records carry (each
    /// section from the newest record that holds it), from the newest record; nil when she has none.
    public func carried(forClient client: ClientKey, into dialog: Dialog, utcOffsetMinutes: Int = 540) async throws -> Carried? {
        try Carried.from(try await records(ofClient: client), into: dialog, utcOffsetMinutes: utcOffsetMinutes)
    }
}

extension Carried {
    /// A later visit under `dialog` from a client's finished `records` (newest first): the answers
    /// they carry (each section from the newest record that holds it); nil when there are none.
    /// A stored document that does not read as a record is `RuntimeError.damaged`, naming its session.
    public static func from(_ records: [FinishedRecord], into dialog: Dialog, utcOffsetMinutes: Int = 540) throws -> Carried? {
        guard let newest = records.first else { return nil }
        let date = Moment(epochMillis: newest.session.startedAt, utcOffsetMinutes: utcOffsetMinutes).localDate.iso
        let typed = try records.map { r in
            guard let record = try? IntakeRecord(json: r.record) else { throw RuntimeError.damaged(session: r.session.id) }
            return record
        }
        return Carried(previous: newest.session.id, previousDate: date, answers: dialog.carriedAnswers(records: typed))
    }
}

/// A limit on what one client address may do in a window of time, kept in the store so that
/// several server instances share it: a fixed window that begins with the address's first counted
/// attempt and ends `window` ms later (the count then starts again).
public struct RateLimit: Sendable, Equatable {
    /// What is limited ("start", "wrong_token"): the limits of different kinds count apart.
    public var kind: String
    public var limit: Int
    /// The window's length in milliseconds.
    public var window: Int64

    public init(kind: String, limit: Int, window: Int64) {
        self.kind = kind
        self.limit = limit
        self.window = window
    }

    public enum Counting: Sendable, Equatable {
        /// Only asks: is the address under the limit now? (Nothing is counted.)
        case check
        /// Counts the attempt if the address is under the limit (a start): past it, nothing more
        /// is counted until the window ends, and the attempt is refused.
        case admit
        /// Counts a failure (a wrong token) and says whether the address may still try.
        case failure
    }

    /// A session start from `address` at `at` (epoch ms), to be admitted under `rule`.
    public struct Admission: Sendable, Equatable {
        public var rule: RateLimit
        public var address: String
        public var at: Int64

        public init(rule: RateLimit, address: String, at: Int64) {
            self.rule = rule
            self.address = address
            self.at = at
        }
    }

    /// A start refused: its address is at its limit for the window.
    public struct Refused: Error, Equatable {
        public init() {}
    }

    /// The rule every store applies, inside one transaction: the row the address has (`windowStart`,
    /// `count`; nil: none), what to write back (nil: nothing), and the answer.
    ///
    /// An attempt timed a little before its window's start counts in that window: attempts are
    /// timed as they arrive and counted as their turn comes, so concurrent ones (or another
    /// instance's, on a clock a little behind) reach the row out of order — starting the window
    /// again for them would let a burst reset its own count. Only a window that starts a whole
    /// window's length after the attempt (a clock set back) starts again.
    public func apply(_ row: (windowStart: Int64, count: Int)?, counting: Counting, at: Int64)
        -> (write: (windowStart: Int64, count: Int)?, allowed: Bool) {
        var current = row ?? (at, 0)
        if at - current.windowStart >= window || current.windowStart - at >= window { current = (at, 0) }
        switch counting {
        case .check:
            return (nil, current.count < limit)
        case .admit:
            guard current.count < limit else { return (nil, false) }
            return ((current.windowStart, current.count + 1), true)
        case .failure:
            return ((current.windowStart, current.count + 1), current.count + 1 < limit)
        }
    }
}

/// What a store refuses to open or to read. Never carries a stored value: only ids and counts.
public enum StoreError: Error, Equatable, Sendable {
    // A damaged session is `RuntimeError.damaged(session:)` (the runtime's word, so that the server
    // and the REPL can say so without knowing the store).
    /// Sessions that could not be read (a list, an export, a report).
    case damagedSessions([String])
    /// The database is sealed and was opened for writing without its key.
    case sealedNeedsKey
    /// The key given is not the key the database was sealed with (its fingerprint differs).
    case wrongKey
    /// A key was given for writing a database that already holds sessions in clear.
    case notSealed(sessions: Int)
    /// An entry appended with a sequence number not after the session's newest (the chain runs in order).
    case outOfOrder(session: String)
    /// The database's own check of its storage fails (a damaged page or index: a row can vanish
    /// from a listing without any value of it changing, which no hash of a row can see).
    case damagedFile
    /// The database's own bookkeeping (the `meta` table) is damaged.
    case damagedDatabase
    /// A deleted session's data may still be in the WAL: other processes kept the checkpoint from
    /// completing (the deletion is committed; the next checkpoint overwrites it).
    case checkpointBlocked
}

/// How a database is opened: commands that only read may open a sealed database without its key
/// (ids, times and statuses stay readable); every command that may write needs the key.
public enum DatabaseAccess: Sendable {
    case read, write
}
