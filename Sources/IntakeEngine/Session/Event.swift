/// What a person (through a front end) does in a session.
public enum Event: Equatable, Sendable, Codable {
    /// An answer as typed; parsed by the question's kind (full-width digits, 和暦, choice number or label…).
    case answer(String)
    /// An answer already typed by the front end (JSON kiosk clients).
    case value(Value)
    /// "Prefer not to answer" (答えない), where the question allows it.
    case decline
    /// Leave an optional question empty.
    case skip
    /// Go back to the previous question.
    case back
    /// Change an earlier answer: by its number in the review, or by path (`children[2].age`, `children[2]`).
    case edit(String)
    /// Add an instance to a repeat group (`children`, `jobs[1].tasks`).
    case add(String)
    /// Remove a repeat instance (`children[2]`).
    case remove(String)
    /// Show the answers so far.
    case review
    case locale(String)
    /// Keep an answer that a soft check warned about, with an optional reason (a counselor's override).
    case confirm(reason: String?)
    /// Finish after the review.
    case finish
    /// A counselor's remark on the current question.
    case note(String)
    /// Show the current question again (after a restore or reconnect).
    case repeatQuestion
}
