import IntakeEngine

/// A session as the store lists it (no answers).
public struct SessionInfo: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case inProgress = "in_progress"
        case suspended
        case complete
        case stopped
    }

    public var id: String
    public var clientID: String?
    public var dialogID: String
    public var dialogVersion: String
    public var mode: SessionState.Mode
    public var locale: String
    public var status: Status
    public var startedAt: Int64
    public var updatedAt: Int64
    public var counselor: String?
    public var office: String?

    public init(id: String, clientID: String? = nil, dialogID: String, dialogVersion: String, mode: SessionState.Mode,
                locale: String, status: Status, startedAt: Int64, updatedAt: Int64, counselor: String? = nil, office: String? = nil) {
        self.id = id
        self.clientID = clientID
        self.dialogID = dialogID
        self.dialogVersion = dialogVersion
        self.mode = mode
        self.locale = locale
        self.status = status
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.counselor = counselor
        self.office = office
    }
}

/// The blocking store of the counselor's terminal and the tests (SQLite's `IntakeDatabase`): the
/// session log only, until the REPL runs on the async `Store` (Store.swift), which covers everything.
/// Every write is durable when it returns: an answer is on disk before the
/// next question is shown or sent (the durability contract).
public protocol SessionStore: Sendable {
    /// A new session, its first log entry and the digest of its resume token.
    func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) throws
    /// Appends log entries and updates what the session list shows (status, locale, time, and the
    /// record when it finished).
    func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                record: JSON?, at: Int64) throws
    func log(of session: String) throws -> [LogEntry]
    func session(_ id: String) throws -> SessionInfo?
    /// The session a resume token opens, if any (compared by digest).
    func session(resuming token: ResumeToken) throws -> SessionInfo?
    /// The session moved to another version of its dialog.
    func setDialogVersion(_ version: String, of session: String) throws
}
