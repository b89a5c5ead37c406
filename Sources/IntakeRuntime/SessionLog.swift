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
public enum LogEvent: Equatable, Sendable {
    /// A later visit names the record it started from (`previous`, a session id, and its date);
    /// the entry carries the answers brought forward from it.
    case start(dialog: String, version: String, locale: String, mode: SessionState.Mode, previous: String? = nil, previousDate: String? = nil)
    /// Something a person did (answer, decline, back, edit, confirm with reason, locale switch, …).
    case input(Event)
    case suspend
    /// The session came back, over a channel of `mode` (a kiosk, a counselor's terminal): the mode
    /// belongs to the channel, so from here on the session runs in it. Logs written before the mode
    /// was recorded hold `{"resume":{}}` (nil: the mode did not change).
    case resume(mode: SessionState.Mode? = nil)
    /// The session moved to another version of its dialog when it resumed (over a channel of
    /// `mode`, nil in logs written before it was recorded); the entry carries every answer as it
    /// stood, and replay starts again from there.
    case migrate(from: String, to: String, mode: SessionState.Mode? = nil)
}

public struct LogEntry: Equatable, Sendable, Codable {
    /// 0, 1, 2, … within the session.
    public var seq: Int
    public var at: Moment
    public var actor: Actor
    public var event: LogEvent
    /// The answers this event changed.
    public var answers: [AnswerChange]?

    public init(seq: Int, at: Moment, actor: Actor, event: LogEvent, answers: [AnswerChange]? = nil) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.event = event
        self.answers = answers
    }

    /// Every answer of a state, as a `start` or `migrate` entry carries them (replay begins there).
    public static func all(_ answers: [Path: AnswerEntry]) -> [AnswerChange]? {
        answers.isEmpty ? nil : answers.map { AnswerChange(path: $0.key, entry: $0.value) }.sorted { $0.path < $1.path }
    }

    /// What an engine step says it changed, as an entry carries it (nil: nothing).
    public static func changes(_ step: Engine.Step) -> [AnswerChange]? {
        step.changes.isEmpty ? nil : step.changes
    }
}
