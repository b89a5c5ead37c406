/// What the engine asks a front end to show. Every step's effects end with where the session now
/// stands: an `ask`, a final `review`, or `done`.
public enum Effect: Equatable, Sendable {
    case ask(Prompt)
    /// The answer was not accepted; the same question is asked again.
    case invalid(Message)
    /// Soft checks failed: the person may confirm the answer or give another.
    case warn([Message])
    /// Earlier answers that no longer apply after a change, named to the person.
    case dropped([AnswerLine])
    case review(Review)
    case notice(Message)
    case done(Record)
}

/// A localized message and the locale key it came from (tests assert on keys).
public struct Message: Equatable, Sendable {
    public var key: String
    public var text: String
}

public struct Prompt: Equatable, Sendable {
    public var path: Path
    /// `children[2].age`
    public var display: String
    /// text, integer, decimal, yesno, choice, multi, date
    public var kind: String
    public var text: String
    public var help: String?
    public var choices: [ChoiceOption]
    public var required: Bool
    public var declinable: Bool
    /// The answer given before, when the person went back to this question (Enter keeps it).
    public var current: String?
    /// Section titles and repeat-instance labels, outermost first (e.g. ["世帯", "お子さん（2人目）"]).
    public var context: [String]
    public var answered: Int
    /// Estimated questions left: never more than before, unless an answer added group instances
    /// (see `Walk.remaining`).
    public var remaining: Int
    public var min: String?
    public var max: String?
    /// At a later visit, "is this still right?" shows what the last record says (empty otherwise).
    public var previous: [AnswerLine] = []
    /// A text question's shape (`phone`, `email`): what a screen offers (a phone keypad) and what
    /// the answer must be.
    public var format: String? = nil
    /// Show the "答えない" hint with this question: it may be declined and it is the first such
    /// question she meets in the session (once said, the hint is not repeated at every question).
    public var declineHint: Bool = false
}

public struct ChoiceOption: Equatable, Sendable {
    /// 1-based, as shown.
    public var number: Int
    public var value: String
    public var label: String
}

/// One answer, in the person's words: numbered in a review, or named when dropped.
public struct AnswerLine: Equatable, Sendable {
    public var number: Int
    public var path: String
    public var context: [String]
    public var question: String
    public var answer: String
}

public struct Review: Equatable, Sendable {
    public var lines: [AnswerLine]
    /// All questions are answered and the session waits for `finish` (or an edit).
    public var final: Bool
}

/// A finished (or stopped) session's record.
public struct Record: Equatable, Sendable {
    /// The record as a typed value; `json` is its rendering (what the store keeps).
    public var typed: IntakeRecord
    /// complete, or the status of the end that stopped it (e.g. stopped).
    public var status: String { typed.status }
    public var json: JSON { typed.json }
    /// Ids of the suggestions that fired, in dialog order.
    public var suggestions: [String] { typed.suggestions.map(\.id) }
    /// Their texts as the session's screen shows them (with readings in the screen's furigana
    /// style; the record's own texts always use brackets). Not part of the record: not stored, not
    /// compared.
    public var shown: [String]

    public init(_ typed: IntakeRecord, shown: [String] = []) {
        self.typed = typed
        self.shown = shown
    }

    public static func == (a: Record, b: Record) -> Bool {
        a.status == b.status && a.json == b.json && a.suggestions == b.suggestions
    }
}
