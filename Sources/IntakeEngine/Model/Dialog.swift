/// A validated dialog: the tree of sections, questions, repeat groups and ends that a session walks,
/// with the computed values, suggestion rules and settings declared alongside.
public struct Dialog: Sendable {
    public var id: String
    public var version: String
    public var format: Int
    /// Locale key of the dialog's title.
    public var title: String
    public var items: [Item]
    /// Dialog-wide computed values (those of the record); a group's per-instance ones are on the group.
    public var computed: [ComputedValue]
    public var suggestions: [SuggestionRule]
    /// Values an office can change without editing flows (age limits, local resources).
    public var settings: [String: Value]
    /// A text setting written per language (a local resource's name in English and with readings
    /// in やさしい日本語): its forms by locale. Shown in the session's language, else the
    /// fallback's; `settings` holds the fallback's form for expressions.
    public var settingTexts: [String: [String: String]] = [:]

    /// What `{settings.NAME}` shows in `locale` when the setting is written per language: its form
    /// in that language, else in `fallback`'s, readings in `furigana`'s style; nil for any other setting.
    public func settingText(_ name: String, locale: String, fallback: String, furigana: FuriganaStyle) -> String? {
        guard let forms = settingTexts[name], let text = forms[locale] ?? forms[fallback] else { return nil }
        return Furigana.render(text, furigana)
    }

    /// The `{settings.NAME}` placeholders of a text in `locale` (a sheet or an export in another
    /// language than the record's): a setting written per language in its form there
    /// (`settingText`), any other as `value` writes it (nil: left unfilled).
    public func settingArguments(locale: String, fallback: String, furigana: FuriganaStyle,
                                 _ value: (Value) -> String?) -> [String: String] {
        var args: [String: String] = [:]
        for (name, v) in settings {
            args["settings." + name] = settingText(name, locale: locale, fallback: fallback, furigana: furigana) ?? value(v)
        }
        return args
    }
    /// Question ids renamed since earlier versions (old → new), followed when a session taken
    /// under an earlier version resumes under this one.
    public var renames: [String: String] = [:]
    /// When this holds over a session's answers, her record is private to the counselor who took
    /// it (and a supervisor): the client said no to sharing among counselors (`private_when:`).
    /// The store is told before the answer that makes it hold is written (`SessionRunner`).
    public var privateWhen: Expr? = nil
    /// A fingerprint of the files the dialog was read from (its root and every module it
    /// includes), set by the loader; nil for a dialog built in code. Part of
    /// `Engine.fingerprint`, so that a saved state is not trusted across an edit that kept the
    /// version.
    public var sourceFingerprint: String? = nil
    public var source: SourceRef
    /// Every question, group and computed value by id, built once.
    public private(set) var index: DialogIndex

    public init(id: String, version: String, format: Int = 1, title: String, items: [Item],
                computed: [ComputedValue] = [], suggestions: [SuggestionRule] = [],
                settings: [String: Value] = [:], source: SourceRef = .unknown) {
        self.id = id
        self.version = version
        self.format = format
        self.title = title
        self.items = items
        self.computed = computed
        self.suggestions = suggestions
        self.settings = settings
        self.source = source
        self.index = DialogIndex(items: items, computed: computed)
    }
}

/// One node of the dialog tree.
public indirect enum Item: Sendable {
    case section(Section)
    case question(Question)
    case group(RepeatGroup)
    case end(EndItem)

    public var id: String {
        switch self {
        case .section(let s): return s.id
        case .question(let q): return q.id
        case .group(let g): return g.id
        case .end(let e): return e.id
        }
    }

    public var source: SourceRef {
        switch self {
        case .section(let s): return s.source
        case .question(let q): return q.source
        case .group(let g): return g.source
        case .end(let e): return e.source
        }
    }
}

/// A module (consent, family, …) or a sub-heading; becomes an object in the record.
/// Items are immutable classes: the walk visits them at every step without copying their fields.
public final class Section: Sendable {
    public let id: String
    public let title: String
    public let when: Expr?
    public let items: [Item]
    /// At a later visit, a module's answers from the client's last record are shown for her to
    /// confirm or change (`true`), or the module is asked afresh every time (`carry: false`, e.g.
    /// "what changed since last time").
    public let carry: Bool
    public let source: SourceRef

    public init(id: String, title: String, when: Expr? = nil, items: [Item], carry: Bool = true, source: SourceRef = .unknown) {
        self.id = id
        self.title = title
        self.when = when
        self.items = items
        self.carry = carry
        self.source = source
    }
}

/// Who may be asked a question: everybody, or only a counselor (never at a kiosk).
public enum Audience: String, Sendable, Codable, CaseIterable {
    case all
    case counselor
}

/// A class, not a struct: the dialog walk visits every question at every step, and a reference
/// is cheaper to pass around than a copy of all these fields. It is immutable once built.
public final class Question: Sendable {
    /// The longest text answer accepted where a question sets no `max_length` (a pasted page, or a
    /// stuck key, is a mistake, and records stay printable).
    public static let defaultMaxLength = 2_000

    public let id: String
    public let kind: QuestionKind
    /// Locale key of the question text; help is `text + ".help"` when the locale has it.
    public let text: String
    public let help: String?
    public let required: Bool
    /// Accepts "prefer not to answer" (答えない).
    public let declinable: Bool
    public let audience: Audience
    /// Identifies the client or reaches her (name, birth date, phone…): never on anonymous sheets.
    public let personal: Bool
    /// A text answer's shape (a phone number, an e-mail address): normalised as typed and checked.
    public let format: TextFormat?
    /// An end that may still be running (a month question, optional): "現在", "いま" leave it open
    /// (skipped, as Enter does) instead of being refused as no date.
    public let openEnded: Bool
    public let when: Expr?
    /// The answer as it follows from earlier answers (a child's school stage from her age): when
    /// it gives a value, the question is not asked and the value stands in the record; when it is
    /// null (the earlier answers do not decide it), the question is asked.
    public let derive: Expr?
    /// Other wordings of the question, the first whose condition holds replacing `text` (the only
    /// child as "お子さん", the current job in the present tense).
    public let variants: [TextVariant]
    public let checks: [Check]
    public let source: SourceRef

    public init(id: String, kind: QuestionKind, text: String, help: String? = nil, required: Bool = true,
                declinable: Bool = false, audience: Audience = .all, personal: Bool = false, format: TextFormat? = nil,
                openEnded: Bool = false, when: Expr? = nil, derive: Expr? = nil, variants: [TextVariant] = [],
                checks: [Check] = [], source: SourceRef = .unknown) {
        self.id = id
        self.kind = kind
        self.text = text
        self.help = help
        self.required = required
        self.declinable = declinable
        self.audience = audience
        self.personal = personal
        self.format = format
        self.openEnded = openEnded
        self.when = when
        self.derive = derive
        self.variants = variants
        self.checks = checks
        self.source = source
    }

    /// The derived value in its question's type: a choice's value written as text is that choice.
    public func coerceDerived(_ v: Value) -> Value {
        switch (kind, v) {
        case (.single(let cs), .text(let t)) where cs.contains(where: { $0.value == t }): return .choice(t)
        case (.text, .choice(let c)): return .text(c)
        default: return v
        }
    }
}

/// A wording of a question used when `when` holds (in the question's instance).
public struct TextVariant: Sendable {
    public var when: Expr
    /// Locale key of the text.
    public var text: String

    public init(when: Expr, text: String) {
        self.when = when
        self.text = text
    }
}

/// The shape of a text answer that reaches someone: typed in full-width or half-width, stored in
/// half-width, refused with an example when it cannot be one.
public enum TextFormat: String, Sendable, CaseIterable {
    /// A Japanese phone number: 10 or 11 digits, beginning with 0, hyphens, spaces and brackets as typed.
    case phone
    /// An e-mail address: one @, something before it, a domain with a dot after it, no spaces.
    case email

    /// The answer as stored (half-width), or nil when it is not of this shape.
    public func normalize(_ typed: String) -> String? {
        // Full-width ASCII to half-width, and the long-vowel mark an IME gives for a hyphen.
        let text = String(TextFolding.fold(typed).map { $0 == "ー" || $0 == "―" || $0 == "‐" ? "-" : $0 })
        switch self {
        case .phone:
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || "-() ".contains($0)) }) else { return nil }
            let digits = text.filter(\.isNumber)
            guard digits.first == "0", (10...11).contains(digits.count) else { return nil }
            return text
        case .email:
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !text.contains(" "), text.allSatisfy(\.isASCII) else { return nil }
            let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
            guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else { return nil }
            return text
        }
    }
}

public enum QuestionKind: Sendable, Equatable {
    case text(maxLength: Int?)
    case integer(min: Int?, max: Int?)
    case decimal(min: Double?, max: Double?)
    case yesNo
    case single([Choice])
    case multi([Choice], minPicks: Int?, maxPicks: Int?)
    case date(min: CivilDate?, max: CivilDate?)
    /// A year and month (work history: from/to), kept as `YYYY-MM` text.
    case month
    /// A time of day (working hours from/to): kept as hours, a whole hour an integer (9) and one
    /// with minutes a fraction (8:30 → 8.5), so that it compares with numbers (`hours_to > 17`).
    case time

    /// The name authors write in `kind:`.
    public var name: String {
        switch self {
        case .text: return "text"
        case .integer: return "integer"
        case .decimal: return "decimal"
        case .yesNo: return "yesno"
        case .single: return "choice"
        case .multi: return "multi"
        case .date: return "date"
        case .month: return "month"
        case .time: return "time"
        }
    }

    public var choices: [Choice] {
        switch self {
        case .single(let c), .multi(let c, _, _): return c
        default: return []
        }
    }

    /// The expression type of an answer of this kind.
    public var valueType: ValueType {
        switch self {
        case .text: return .text
        case .integer: return .int
        case .decimal: return .decimal
        case .yesNo: return .bool
        case .single(let c): return .choice(Set(c.map(\.value)))
        case .multi(let c, _, _): return .choices(Set(c.map(\.value)))
        case .date: return .date
        case .month: return .text
        case .time: return .decimal
        }
    }
}

public struct Choice: Sendable, Equatable {
    public var value: String
    /// Locale key of the label.
    public var label: String
    /// In a multi choice: picking it excludes every other pick ("none of these").
    public var exclusive: Bool

    public init(value: String, label: String, exclusive: Bool = false) {
        self.value = value
        self.label = label
        self.exclusive = exclusive
    }
}

/// A rule on an answer: `expect` must hold (with `value` bound to the answer).
/// Hard checks reject the answer; soft checks warn and let the person confirm it.
public struct Check: Sendable {
    public var expect: Expr
    public var soft: Bool
    public var message: String
    public var source: SourceRef

    public init(expect: Expr, soft: Bool, message: String, source: SourceRef = .unknown) {
        self.expect = expect
        self.soft = soft
        self.message = message
        self.source = source
    }
}

/// How many instances a repeat group has.
public enum RepeatCount: Sendable {
    /// As many as an earlier answer says (e.g. the number of children).
    case from(Expr)
    /// Asks "add another?" (locale key `prompt`, `{n}` is the instance number) before each instance past `min`.
    case addAnother(prompt: String)
    /// One instance per instance of another group at the same depth (childcare per child, 棚卸し per
    /// job); that group's answers in the same instance are visible inside.
    case each(String)
}

public final class RepeatGroup: Sendable {
    public let id: String
    public let title: String
    public let when: Expr?
    public let count: RepeatCount
    public let min: Int
    public let max: Int
    public let items: [Item]
    /// Values computed in each instance (a child's stage from her age): visible by name inside the
    /// group's instances, and across them only through `count/any/all/min/max/sum(group, …)`.
    public let computed: [ComputedValue]
    public let source: SourceRef

    public init(id: String, title: String, when: Expr? = nil, count: RepeatCount, min: Int = 0, max: Int = 20,
                items: [Item], computed: [ComputedValue] = [], source: SourceRef = .unknown) {
        self.id = id
        self.title = title
        self.when = when
        self.count = count
        self.min = min
        self.max = max
        self.items = items
        self.computed = computed
        self.source = source
    }
}

/// Where the dialog stops early (e.g. consent refused: hand over to a counselor).
public final class EndItem: Sendable {
    public let id: String
    public let when: Expr?
    public let message: String
    /// The record's status, e.g. "stopped".
    public let status: String
    public let source: SourceRef

    public init(id: String, when: Expr?, message: String, status: String = "stopped", source: SourceRef = .unknown) {
        self.id = id
        self.when = when
        self.message = message
        self.status = status
        self.source = source
    }
}

/// A named expression: dialog-wide (`computed:` of a dialog or module), or per repeat instance
/// (`computed:` of a group, evaluated with that instance's answers).
public struct ComputedValue: Sendable {
    public var id: String
    public var expr: Expr
    public var source: SourceRef
    /// The repeat groups it is computed in, outermost first, ending with the group that declares
    /// it; empty for a dialog-wide value. The dialog's index sets it.
    public internal(set) var groups: [String] = []

    public init(id: String, expr: Expr, source: SourceRef = .unknown) {
        self.id = id
        self.expr = expr
        self.source = source
    }
}

/// A referral rule: when `when` holds at the end, suggest `message`, listing the answers it read.
public struct SuggestionRule: Sendable {
    public var id: String
    public var when: Expr
    public var message: String
    public var source: SourceRef

    public init(id: String, when: Expr, message: String, source: SourceRef = .unknown) {
        self.id = id
        self.when = when
        self.message = message
        self.source = source
    }
}
