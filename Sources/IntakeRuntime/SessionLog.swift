import IntakeEngine

/// Who acted: the client herself (at a kiosk, or answering at a counselor's terminal), or a named counselor.
public enum Actor: Hashable, Sendable, Codable {
    case client
    case counselor(String)

    /// `client` or `counselor:NAME`, as stored.
    public var stored: String {
        switch self {
        case .client: return "client"
        case .counselor(let name): return "counselor:" + name
        }
    }

    public init(stored: String) {
        self = stored.hasPrefix("counselor:") ? .counselor(String(stored.dropFirst("counselor:".count))) : .client
    }
}

/// What happened in a session, in order: the append-only log that is both the audit trail and the
/// paradata (time per question). The session's state is the log replayed through the engine.
public enum LogEvent: Equatable, Sendable, Codable {
    case start(dialog: String, version: String, locale: String, mode: SessionState.Mode)
    /// Something a person did (answer, decline, back, edit, confirm with reason, locale switch, …).
    case input(Event)
    case suspend
    case resume
}

public struct LogEntry: Equatable, Sendable, Codable {
    /// 0, 1, 2, … within the session.
    public var seq: Int
    public var at: Moment
    public var actor: Actor
    public var event: LogEvent

    public init(seq: Int, at: Moment, actor: Actor, event: LogEvent) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.event = event
    }
}
