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
    /// Changed only by the engine (each change noted for `Step.changes` and the walk's memo).
    public internal(set) var answers: [Path: AnswerEntry]
    /// Questions in the order they were answered (for `back`).
    public var trail: [Path]
    /// Answered questions the person went back to or chose to edit: asked again, old answer kept until replaced.
    /// A reopened answer counts as still to come, so each one reopened or settled is noted for the walk's memo.
    public var reopened: Set<Path> {
        didSet {
            guard !memo.sums.isEmpty, reopened != oldValue else { return }
            for p in reopened.symmetricDifference(oldValue) { memo.changed(p) }
        }
    }
    /// The question or prompt last shown, which an answer applies to.
    public var current: Path?
    /// How many answers lie after `current` in the dialog (after going back or editing). When
    /// none do, answering `current` cannot make an answer stale, and the next walk starts there.
    public var answersAfterCurrent: Int?
    /// An answer that failed a soft check, waiting for the person to confirm it or answer again.
    public var pending: PendingAnswer?
    public var warnings: [ConfirmedWarning]
    public var notes: [Note]
    /// A later visit: the record it started from and the answers as they were.
    public var revisit: Revisit?
    /// The answers the engine step under way touched, as they were before it (`Step.changes`).
    /// Not part of the session: never encoded, never compared.
    var ledger = AnswerLedger()
    /// What walking each later section added up to, for the next walk (see `WalkMemo`). Derived,
    /// like the ledger: never encoded, never compared, empty after a restore.
    var memo = WalkMemo()

    /// Every stored property but `ledger` and `memo`, under the names Swift gives them. A state
    /// stored before answers set aside left it (its `history`: every replaced or dropped answer,
    /// which the session's log holds as well) reads as before, that member passed over.
    enum CodingKeys: String, CodingKey {
        case dialogID, dialogVersion, earlierVersions, locale, mode, started, updated, finished, phase, answers, trail
        case reopened, current, answersAfterCurrent, pending, warnings, notes, revisit
    }

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

public struct Note: Codable, Equatable, Sendable {
    public var path: Path?
    public var text: String
    public var at: Int64
}

/// The answers one engine step touched, each with its entry from before the step (nil: none), so
/// the step can say what it set, changed or dropped without comparing the whole answer maps.
/// Always equal to another (it is not part of what a session is).
struct AnswerLedger: Equatable, Sendable {
    private(set) var touched: [(path: Path, was: AnswerEntry?)] = []

    /// Before `path`'s answer changes: remembers what it was, the first time in the step.
    mutating func touch(_ path: Path, was: AnswerEntry?) {
        // A step touches a few answers (many only when an instance is removed): a list will do.
        if touched.contains(where: { $0.path == path }) { return }
        touched.append((path, was))
    }

    var isEmpty: Bool { touched.isEmpty }

    static func == (_: AnswerLedger, _: AnswerLedger) -> Bool { true }
}

/// An answer that changed with an event (nil: removed), kept in the log so that a session can
/// move to a new version of its dialog without replaying events the new version would misread.
public struct AnswerChange: Equatable, Sendable, Codable {
    public var path: Path
    public var entry: AnswerEntry?

    public init(path: Path, entry: AnswerEntry?) {
        self.path = path
        self.entry = entry
    }
}

extension SessionState {
    /// Sets (or with nil removes) an answer, noting it in the step's ledger.
    mutating func setAnswer(_ entry: AnswerEntry?, at path: Path) {
        ledger.touch(path, was: answers[path])
        memo.changed(path)
        answers[path] = entry
    }

    /// Removes an answer, noting it in the step's ledger; returns what it was.
    @discardableResult
    mutating func removeAnswer(at path: Path) -> AnswerEntry? {
        guard let old = answers.removeValue(forKey: path) else { return nil }
        ledger.touch(path, was: old)
        memo.changed(path)
        return old
    }

    /// Replaces every answer at once (an instance removed, a visit carried in), noting each that differs.
    mutating func replaceAnswers(with new: [Path: AnswerEntry]) {
        for (p, e) in answers where new[p] != e { ledger.touch(p, was: e) }
        for p in new.keys where answers[p] == nil { ledger.touch(p, was: nil) }
        answers = new
        memo = WalkMemo()
    }

    /// The state with no step under way (what `apply` left in the ledger dropped).
    public var settled: SessionState {
        var s = self
        s.ledger = AnswerLedger()
        return s
    }

    /// The answers the step set, changed or dropped, in path order; the ledger is emptied.
    mutating func takeChanges() -> [AnswerChange] {
        guard !ledger.isEmpty else { return [] }
        var out: [AnswerChange] = []
        for (p, was) in ledger.touched {
            let now = answers[p]
            if now != was { out.append(AnswerChange(path: p, entry: now)) }
        }
        ledger = AnswerLedger()
        return out.sorted { $0.path < $1.path }
    }
}
