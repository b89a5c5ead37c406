import IntakeEngine

/// A printable sheet a counselor wants from a record (就労相談記録票, 職場体験シート, …), declared in
/// `Dialogs/sheets/*.yaml` so that an office can change what it shows without code.
public struct SheetDefinition: Sendable {
    /// The name `intake sheet --kind` takes (record, trial, request, referral, inventory).
    public var kind: String
    /// Locale key of the title.
    public var title: String
    /// The dialog whose records it renders.
    public var dialog: String
    /// No field that identifies or reaches the client may appear (求人リクエストカード). Lint checks.
    public var anonymous: Bool
    /// Rendered only when this yes/no question was answered yes (e.g. request_card_ok).
    public var onlyIf: String?
    /// One sheet per referral to an outside body the client consented to share with.
    public var referral: Referral?
    public var blocks: [Block]
    public var source: SourceRef

    public init(kind: String, title: String, dialog: String, anonymous: Bool = false, onlyIf: String? = nil,
                referral: Referral? = nil, blocks: [Block], source: SourceRef = .unknown) {
        self.kind = kind
        self.title = title
        self.dialog = dialog
        self.anonymous = anonymous
        self.onlyIf = onlyIf
        self.referral = referral
        self.blocks = blocks
        self.source = source
    }

    public struct Referral: Sendable {
        /// The multi-choice question listing the bodies the client agreed to share with.
        public var consent: String
        /// Suggestion id → the bodies (choice values of `consent`) that handle it, in order of
        /// preference: the suggestion goes to the first of them the client consented to, and to
        /// none when she consented to none of them (then each is named as withheld). One body is a
        /// list of one.
        public var bodies: [(suggestion: String, bodies: [String])]

        public init(consent: String, bodies: [(suggestion: String, bodies: [String])]) {
            self.consent = consent
            self.bodies = bodies
        }

        public init(consent: String, bodies: [(suggestion: String, body: String)]) {
            self.init(consent: consent, bodies: bodies.map { ($0.suggestion, [$0.body]) })
        }
    }

    public enum Block: Sendable {
        /// Label–value rows under a heading.
        case rows(heading: String?, rows: [Row])
        /// One line per instance of a repeat group; columns may come from groups that follow it (`each:`).
        case table(heading: String?, group: String, columns: [Row])
        /// The suggestions that fired, with what triggered them.
        case suggestions(heading: String?)
        /// The counselor's remarks (`:note`), each with the question it was made on and when.
        case notes(heading: String?)
        /// A fixed text (a locale key), e.g. a note on what the card leaves out.
        case text(heading: String?, key: String)
    }

    public struct Row: Sendable {
        /// Question ids, the first one with an answer (or declined) is shown — e.g. a child's
        /// daytime care or, for a 小1–3 child, her after-school care; or one of `$date` (the
        /// consultation date), `$body` (a referral's receiving body), `$counselor` (who took the
        /// interview: the identity the record names).
        public var fields: [String]
        /// Locale key of the label.
        public var label: String
        public var show: Show
        /// With `show: amount`: the choice question whose answer is the amount's unit (per hour,
        /// per month); the amount reads `sheet.amount.<choice>` (時給 1,150円).
        public var unit: String?
        /// Left out when none of its fields was answered or declined (a contact method she did not
        /// give), instead of a dash.
        public var optional: Bool
        /// Shown only when this choice was picked (question, choice value): the address on a
        /// referral only for a client who may be reached by post.
        public var ifPicked: (question: String, choice: String)?
        public var source: SourceRef

        /// The first (usually the only) field.
        public var field: String { fields.first ?? "" }

        public init(field: String, label: String, show: Show = .value, source: SourceRef = .unknown) {
            self.init(fields: [field], label: label, show: show, source: source)
        }

        public init(fields: [String], label: String, show: Show = .value, unit: String? = nil, optional: Bool = false,
                    ifPicked: (question: String, choice: String)? = nil, source: SourceRef = .unknown) {
            self.fields = fields
            self.label = label
            self.show = show
            self.unit = unit
            self.optional = optional
            self.ifPicked = ifPicked
            self.source = source
        }
    }

    public enum Show: String, Sendable, CaseIterable {
        /// The answer in words.
        case value
        /// A date with the age reached on the consultation date.
        case age
        /// An amount of yen with digit grouping, and its unit when the row names one (時給 1,150円).
        case amount
    }
}
