/// A session's record as a typed value: what `Engine.record` builds, what the store keeps (as
/// its `json` rendering), what exports, sheets and reports read. The JSON is one rendering of it:
/// `json` gives exactly the tree the record has always been stored as (same keys, same order), and
/// `init(json:)` reads a stored record back into the same value, refusing a damaged or foreign
/// document with a `ParseError` that names where (never a client's answer).
public struct IntakeRecord: Hashable, Sendable {
    /// The dialog and version the session ran under (and the versions it migrated from).
    public struct DialogRef: Hashable, Sendable {
        public var id: String
        public var version: String
        /// Versions the session ran under before it migrated, oldest first; nil: it never migrated.
        public var earlierVersions: [String]?

        public init(id: String, version: String, earlierVersions: [String]? = nil) {
            self.id = id
            self.version = version
            self.earlierVersions = earlierVersions
        }
    }

    /// A warning the person (or a counselor) confirmed: the answer stands.
    public struct Warning: Hashable, Sendable {
        /// The question's display path (`children[2].age`).
        public var question: String
        /// The message's catalog key.
        public var message: String
        /// The message as written in the session's locale (readings in brackets).
        public var text: String
        public var value: RecordValue
        /// Why the answer stands (a counselor's override), if given.
        public var reason: String?

        public init(question: String, message: String, text: String, value: RecordValue, reason: String? = nil) {
            self.question = question
            self.message = message
            self.text = text
            self.value = value
            self.reason = reason
        }
    }

    /// A suggestion that fired, with the answers that made it fire.
    public struct Suggestion: Hashable, Sendable {
        public var id: String
        /// Its message's catalog key.
        public var message: String
        /// Its text in the session's locale (readings in brackets).
        public var text: String
        /// The answers (display path → value) its condition held on, in the order it read them.
        public var because: [RecordField]

        public init(id: String, message: String, text: String, because: [RecordField] = []) {
            self.id = id
            self.message = message
            self.text = text
            self.because = because
        }
    }

    /// A counselor's remark (`:note`), at a question or about the whole session.
    public struct Note: Hashable, Sendable {
        /// The display path of the question it was made at; nil: the session as a whole.
        public var question: String?
        public var text: String
        /// When, ISO 8601 with the session's offset.
        public var at: String

        public init(question: String?, text: String, at: String) {
            self.question = question
            self.text = text
            self.at = at
        }
    }

    /// What a later visit found: which sections it carried and what changed since the last record.
    public struct Visit: Hashable, Sendable {
        /// One carried section and what became of it (`changed`, `confirmed`, `reviewed`, `not_reached`).
        public struct Section: Hashable, Sendable {
            public var id: String
            public var status: String

            public init(id: String, status: String) {
                self.id = id
                self.status = status
            }
        }

        /// An answer as it was before the visit and as it is after: a value (null: none), or declined.
        public enum Answer: Hashable, Sendable {
            case value(RecordValue)
            case declined
        }

        public struct Change: Hashable, Sendable {
            public var question: String
            public var before: Answer
            public var after: Answer

            public init(question: String, before: Answer, after: Answer) {
                self.question = question
                self.before = before
                self.after = after
            }
        }

        /// The session id of the earlier record.
        public var previous: String
        /// Its local date (YYYY-MM-DD), if known.
        public var previousDate: String?
        public var sections: [Section]
        public var changes: [Change]

        public init(previous: String, previousDate: String? = nil, sections: [Section] = [], changes: [Change] = []) {
            self.previous = previous
            self.previousDate = previousDate
            self.sections = sections
            self.changes = changes
        }
    }

    public var dialog: DialogRef
    /// `complete`, `in_progress`, or the status of the end that stopped the session (`stopped`).
    public var status: String
    public var locale: String
    /// How the session was taken (`SessionMode`'s raw value: `self`, `counselor`, …).
    public var mode: String
    /// Whose record it is (her office, her number there) and the counselor who took the session:
    /// named by the runtime that stores the record (`SessionRunner.record`); nil when the session
    /// names none (a test conversation, a kiosk session nobody took over).
    public var office: String?
    public var client: String?
    public var counselor: String?
    /// When the session started and finished, ISO 8601 with the session's offset.
    public var started: String
    public var finished: String?
    public var answers: RecordAnswers
    /// The dialog's computed values, in its order (null: could not be decided).
    public var computed: [RecordField]
    /// Display paths of the questions declined, and of those skipped.
    public var declined: [String]
    public var skipped: [String]
    public var warnings: [Warning]
    public var suggestions: [Suggestion]
    public var notes: [Note]
    public var visit: Visit?

    public init(dialog: DialogRef, status: String, locale: String, mode: String, office: String? = nil, client: String? = nil,
                counselor: String? = nil, started: String, finished: String? = nil,
                answers: RecordAnswers = RecordAnswers(), computed: [RecordField] = [], declined: [String] = [],
                skipped: [String] = [], warnings: [Warning] = [], suggestions: [Suggestion] = [], notes: [Note] = [],
                visit: Visit? = nil) {
        self.dialog = dialog
        self.status = status
        self.locale = locale
        self.mode = mode
        self.office = office
        self.client = client
        self.counselor = counselor
        self.started = started
        self.finished = finished
        self.answers = answers
        self.computed = computed
        self.declined = declined
        self.skipped = skipped
        self.warnings = warnings
        self.suggestions = suggestions
        self.notes = notes
        self.visit = visit
    }
}

/// A value in a record, as its JSON has it: a choice, a text and a date are strings, a multiple
/// choice a list of strings. (Which `Value` it was is the dialog's to say: `Dialog.answerValue`.)
public enum RecordValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case strings([String])

    /// A whole number written without a point reads back as `.int`: a decimal answer of 3 and the
    /// stored `3` are the same value.
    public static func == (a: RecordValue, b: RecordValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.int(i), .number(d)), let (.number(d), .int(i)): return RecordValue.whole(d) == i
        case let (.string(x), .string(y)): return x == y
        case let (.strings(x), .strings(y)): return x == y
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0)
        case .bool(let b): h.combine(1); h.combine(b)
        case .int(let i): h.combine(2); h.combine(i)
        case .number(let d):
            if let i = RecordValue.whole(d) { h.combine(2); h.combine(i) } else { h.combine(3); h.combine(d) }
        case .string(let s): h.combine(4); h.combine(s)
        case .strings(let list): h.combine(5); h.combine(list)
        }
    }

    /// The `Int` a number renders as (`JSON.rendered` writes such a number without a point), if whole.
    static func whole(_ d: Double) -> Int? {
        d.isFinite && d == d.rounded() && abs(d) < 1e15 ? Int(d) : nil
    }

    public init(_ value: Value) {
        switch value {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .decimal(let d): self = .number(d)
        case .text(let s), .choice(let s): self = .string(s)
        case .date(let d): self = .string(d.iso)
        case .choices(let c): self = .strings(c)
        }
    }

    public init(_ value: Value?) {
        self = value.map(RecordValue.init) ?? .null
    }

    public var json: JSON {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .strings(let list): return .array(list.map { .string($0) })
        }
    }

    /// The text of a string value; nil for any other.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

/// A named value, in the order the record keeps it (computed values, a suggestion's reasons).
public struct RecordField: Hashable, Sendable {
    public var name: String
    public var value: RecordValue

    public init(_ name: String, _ value: RecordValue) {
        self.name = name
        self.value = value
    }
}

/// The answers of a record (or of a section, or of a repeat group's instance), in the dialog's order.
public struct RecordAnswers: Hashable, Sendable {
    public var members: [RecordMember]

    public init(_ members: [RecordMember] = []) {
        self.members = members
    }

    /// The member `id` (a section, a group or a question's value), if the record holds it.
    public subscript(id: String) -> RecordNode? {
        members.first { $0.id == id }?.node
    }

    public var isEmpty: Bool { members.isEmpty }
}

public struct RecordMember: Hashable, Sendable {
    public var id: String
    public var node: RecordNode

    public init(_ id: String, _ node: RecordNode) {
        self.id = id
        self.node = node
    }
}

/// A member of a record's answers: a question's value, a section's answers, or a repeat group's
/// instances (each its own answers).
public indirect enum RecordNode: Hashable, Sendable {
    case value(RecordValue)
    case section(RecordAnswers)
    case group([RecordAnswers])
}
