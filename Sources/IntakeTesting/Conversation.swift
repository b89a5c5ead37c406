import IntakeDialogs
import IntakeEngine
import Yams

/// A scripted test conversation, as a dialog author writes it in `Dialogs/tests/*.yaml`:
///
/// ```yaml
/// conversations:
///   - name: two children, the younger without daycare
///     locale: ja
///     today: 2026-11-23
///     steps:
///       - consent_record: はい          # the question asked must be consent_record; answer はい
///       - reason: ":decline"           # answer with a command
///       - children[1].age: "40"
///       - invalid: engine.invalid.range  # what the last step showed
///       - ":back"
///     expect:
///       status: complete
///       answers: { name: 山田 花子, "children[1].age": 4 }
///       declined: [reason]
///       suggestions: [mothers_hellowork]
/// ```
///
/// `previous: NAME` makes a later visit: the conversation starts from the record that the
/// conversation named NAME (in any file) ended with; `expect: changed:` lists the answers that
/// differ from it.
public struct Conversation: Sendable {
    public enum Step: Sendable {
        /// The question asked must be `question` (its path as shown, e.g. `children[2].age`); then `input`.
        case answer(question: String, input: LineInput, source: SourceRef)
        /// A command at whatever question is showing.
        case command(LineInput, source: SourceRef)
        /// The last step showed this (`invalid`, `warn`, `dropped`, `notice`); values are keys or paths.
        case expect(kind: String, values: [String], source: SourceRef)

        public var source: SourceRef {
            switch self {
            case .answer(_, _, let s), .command(_, let s), .expect(_, _, let s): return s
            }
        }
    }

    public struct Expectation: Sendable, Equatable {
        public var status: String?
        /// Display path → value as written (`4`, `山田 花子`, `[a, b]`).
        public var answers: [(String, String)]
        public var declined: [String]?
        public var skipped: [String]?
        public var suggestions: [String]?
        public var warnings: [String]?
        /// At a later visit: the answers that differ from the last record (display paths).
        public var changed: [String]? = nil
        /// The record's computed values the author listed: name → value as written (`true`,
        /// `2031`, `null` for one that could not be decided).
        public var computed: [(String, String)] = []

        public static func == (a: Expectation, b: Expectation) -> Bool {
            a.status == b.status && a.answers.map(\.0) == b.answers.map(\.0) && a.answers.map(\.1) == b.answers.map(\.1)
                && a.declined == b.declined && a.skipped == b.skipped && a.suggestions == b.suggestions && a.warnings == b.warnings
                && a.changed == b.changed
                && a.computed.map(\.0) == b.computed.map(\.0) && a.computed.map(\.1) == b.computed.map(\.1)
        }
    }

    public var name: String
    public var file: String
    public var dialog: String?
    public var locale: String
    public var today: CivilDate
    public var mode: SessionState.Mode
    /// A later visit: the name of the conversation whose record this one starts from.
    public var previous: String? = nil
    public var steps: [Step]
    public var expect: Expectation?
    public var source: SourceRef
    /// Line of the `expect:` key (1-based) and its column, for `--update`.
    public var expectLine: Int?
    public var keyColumn: Int

    public static let defaultToday = CivilDate(year: 2026, month: 4, day: 1) ?? CivilDate(daysSinceEpoch: 20544)
}

/// Reads conversation files; problems become diagnostics with line and column.
public enum ConversationParser {
    public static func parse(file: String) -> ([Conversation], [Diagnostic]) {
        switch Project.readYAML(file) {
        case .failure(let d): return ([], [d])
        case .success(let node): return parse(node, file: file)
        }
    }

    static func parse(_ root: Node, file: String) -> ([Conversation], [Diagnostic]) {
        var r = YAMLReader(file: file)
        var out: [Conversation] = []
        guard let top = r.members(root, allowed: ["conversations", "dialog", "locale", "today", "mode"], what: "conversation file") else {
            return ([], r.diagnostics)
        }
        let defaults = (dialog: r.string(top["dialog"], "dialog"), locale: r.string(top["locale"], "locale"),
                        today: r.date(top["today"], "today"), mode: r.string(top["mode"], "mode"))
        for node in r.sequence(top["conversations"], "conversations") {
            guard let m = r.members(node, allowed: ["name", "dialog", "locale", "today", "mode", "previous", "steps", "expect"], what: "conversation") else { continue }
            let name = r.string(m["name"], "name") ?? "conversation at line \(r.ref(node).line)"
            let modeName = r.string(m["mode"], "mode") ?? defaults.mode ?? "kiosk"
            let mode = SessionState.Mode(rawValue: modeName) ?? .kiosk
            if SessionState.Mode(rawValue: modeName) == nil { r.error("unknown-mode", ["mode": modeName], at: m["mode"] ?? node) }
            var steps: [Conversation.Step] = []
            for s in r.sequence(m["steps"], "steps") {
                if let step = parseStep(s, &r) { steps.append(step) }
            }
            var expectLine: Int?
            if case .mapping(let mapping) = node {
                expectLine = mapping.first { $0.key.scalar?.string == "expect" }?.key.mark?.line
            }
            out.append(Conversation(name: name, file: file, dialog: r.string(m["dialog"], "dialog") ?? defaults.dialog,
                                    locale: r.string(m["locale"], "locale") ?? defaults.locale ?? "ja",
                                    today: r.date(m["today"], "today") ?? defaults.today ?? Conversation.defaultToday,
                                    mode: mode, previous: r.string(m["previous"], "previous"), steps: steps, expect: m["expect"].flatMap { parseExpect($0, &r) },
                                    source: r.ref(node), expectLine: expectLine, keyColumn: r.ref(node).column))
        }
        return (out, r.diagnostics)
    }

    static let assertions: Set<String> = ["invalid", "warn", "dropped", "notice"]

    private static func parseStep(_ node: Node, _ r: inout YAMLReader) -> Conversation.Step? {
        let at = r.ref(node)
        if let s = node.scalar?.string {
            let input = LineInput.parse(s)
            if case .event(.answer) = input {
                r.error("step-not-command", ["step": s], at: node)
                return nil
            }
            return .command(input, source: at)
        }
        guard case .mapping(let m) = node, m.count == 1, let (k, v) = m.first.map({ ($0.key, $0.value) }),
              let key = k.scalar?.string else {
            r.error("step-shape", at: node)
            return nil
        }
        if assertions.contains(key) {
            var values: [String] = []
            if let s = v.scalar?.string { values = [s] } else if case .sequence(let seq) = v { values = seq.compactMap { $0.scalar?.string } }
            return .expect(kind: key, values: values, source: at)
        }
        guard let answer = v.scalar?.string else {
            r.error("step-answer-scalar", ["question": key], at: v)
            return nil
        }
        return .answer(question: key, input: LineInput.parse(answer), source: at)
    }

    private static func parseExpect(_ node: Node, _ r: inout YAMLReader) -> Conversation.Expectation? {
        guard let m = r.members(node, allowed: ["status", "answers", "computed", "declined", "skipped", "suggestions", "warnings", "changed"],
                                what: "expect") else { return nil }
        func pairs(_ key: String) -> [(String, String)] {
            guard let a = m[key] else { return [] }
            guard case .mapping(let pairs) = a else {
                r.error("expected-mapping", ["what": key], at: a)
                return []
            }
            return pairs.compactMap { k, v in k.scalar.map { ($0.string, canonical(v)) } }
        }
        let answers = pairs("answers")
        let computed = pairs("computed")
        func list(_ key: String) -> [String]? {
            guard let n = m[key] else { return nil }
            return r.sequence(n, key).compactMap { $0.scalar?.string }
        }
        return Conversation.Expectation(status: r.string(m["status"], "status"), answers: answers, declined: list("declined"),
                                        skipped: list("skipped"), suggestions: list("suggestions"), warnings: list("warnings"),
                                        changed: list("changed"), computed: computed)
    }

    /// A YAML value as the comparable text used for answers: scalars as written, lists as `[a, b]`.
    static func canonical(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return s.string
        case .sequence(let seq): return "[" + seq.map(canonical).joined(separator: ", ") + "]"
        default: return "?"
        }
    }
}
