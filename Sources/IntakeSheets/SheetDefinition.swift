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
        /// Suggestion id → the body (a choice value of `consent`) it refers the client to.
        public var bodies: [(suggestion: String, body: String)]

        public init(consent: String, bodies: [(suggestion: String, body: String)]) {
            self.consent = consent
            self.bodies = bodies
        }
    }

    public enum Block: Sendable {
        /// Label–value rows under a heading.
        case rows(heading: String?, rows: [Row])
        /// One line per instance of a repeat group; columns may come from groups that follow it (`each:`).
        case table(heading: String?, group: String, columns: [Row])
        /// The suggestions that fired, with what triggered them.
        case suggestions(heading: String?)
        /// A fixed text (a locale key), e.g. a note on what the card leaves out.
        case text(heading: String?, key: String)
    }

    public struct Row: Sendable {
        /// A question id, or `$date` (the consultation date), `$body` (a referral's receiving body).
        public var field: String
        /// Locale key of the label.
        public var label: String
        public var show: Show
        public var source: SourceRef

        public init(field: String, label: String, show: Show = .value, source: SourceRef = .unknown) {
            self.field = field
            self.label = label
            self.show = show
            self.source = source
        }
    }

    public enum Show: String, Sendable, CaseIterable {
        /// The answer in words.
        case value
        /// A date with the age reached on the consultation date.
        case age
    }
}
