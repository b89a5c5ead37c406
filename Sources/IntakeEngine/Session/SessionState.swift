/// Everything a session is, as a value: encode it at any point, restore it, and the engine goes on
/// exactly as before. The dialog itself is not in it (only its id and version).
public struct SessionState: Codable, Equatable, Sendable {
    public enum Mode: String, Codable, Sendable {
        /// A client alone at a kiosk: counselor-only questions are never asked.
        case kiosk
        /// A counselor's guided interview.
        case counselor
    }

    public enum Phase: Codable, Equatable, Sendable {
        case asking
        /// All questions answered: the person checks the summary and finishes.
        case reviewing
        case done(status: String)
    }

    public var dialogID: String
    public var dialogVersion: String
    /// Earlier versions of the dialog the session was taken under (it moved on when resumed).
    public var earlierVersions: [String]?
    public var locale: String
    public var mode: Mode
    public var started: Moment
    public var updated: Moment
    public var finished: Moment?
    public var phase: Phase
    public var answers: [Path: AnswerEntry]
    /// Questions in the order they were answered (for `back`).
    public var trail: [Path]
    /// Answered questions the person went back to or chose to edit: asked again, old answer kept until replaced.
    public var reopened: Set<Path>
    /// The question or prompt last shown, which an answer applies to.
    public var current: Path?
    /// How many answers lie after `current` in the dialog (after going back or editing). When
    /// none do, answering `current` cannot make an answer stale, and the next walk starts there.
    public var answersAfterCurrent: Int?
    /// An answer that failed a soft check, waiting for the person to confirm it or answer again.
    public var pending: PendingAnswer?
    public var warnings: [ConfirmedWarning]
    /// Answers set aside: dropped because they no longer apply, or replaced.
    public var history: [HistoryEntry]
    public var notes: [Note]
    /// A later visit: the record it started from and the answers as they were.
    public var revisit: Revisit?

    public init(dialog: Dialog, locale: String, mode: Mode, at now: Moment) {
        dialogID = dialog.id
        dialogVersion = dialog.version
        self.locale = locale
        self.mode = mode
        started = now
        updated = now
        phase = .asking
        answers = [:]
        trail = []
        reopened = []
        warnings = []
        history = []
        notes = []
    }

    /// The session's date, against which ages are computed.
    public var today: CivilDate { started.localDate }
}

public struct PendingAnswer: Codable, Equatable, Sendable {
    public var path: Path
    public var value: Value
    /// Locale keys of the soft checks that failed.
    public var messages: [String]
}

public struct ConfirmedWarning: Codable, Equatable, Sendable {
    public var path: Path
    public var message: String
    public var value: Value
    public var at: Int64
    /// Why the answer stands despite the warning (a counselor's override), if given.
    public var reason: String?
}

public struct HistoryEntry: Codable, Equatable, Sendable {
    public enum Why: String, Codable, Sendable {
        /// An earlier answer changed and this question no longer applies.
        case noLongerApplies
        /// The person gave a different answer.
        case replaced
        /// The repeat instance it belonged to was removed.
        case instanceRemoved
        /// The dialog changed while the session was suspended and the question is gone.
        case dialogChanged
    }

    public var path: Path
    public var entry: AnswerEntry
    public var why: Why
    public var at: Int64
}

public struct Note: Codable, Equatable, Sendable {
    public var path: Path?
    public var text: String
    public var at: Int64
}
