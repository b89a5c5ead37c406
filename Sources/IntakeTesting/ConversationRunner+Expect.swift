import IntakeDialogs
import IntakeEngine

extension ConversationRunner {
    /// How a failure that `--update` can rewrite begins: the conversation ran to its end and only
    /// its `expect:` block disagrees.
    static let recordDiffers = "the record differs"

    /// The session's outcome as a full `expect:` block.
    func actualExpectation(_ state: SessionState, _ record: Record, _ engine: Engine) -> Conversation.Expectation {
        let dialog = engine.dialog
        let paths = engine.sortedByOrder(state.answers.keys.filter { !$0.isPrompt })
        var answers: [(String, String)] = []
        var declined: [String] = [], skipped: [String] = []
        for p in paths {
            guard let answer = state.answers[p]?.answer else { continue }
            switch answer {
            case .value(let v): answers.append((dialog.display(p), Self.canonical(v)))
            case .declined: declined.append(dialog.display(p))
            case .skipped: skipped.append(dialog.display(p))
            }
        }
        let intake = engine.intakeRecord(state)
        // Answers the dialog derives (`derive:`: night work "no" with no evening care, a child's
        // stage from her age) are not asked but are in the record: `expect:` checks them as such.
        for id in dialog.index.questionOrder {
            guard dialog.index.question(id)?.derive != nil else { continue }
            let groups = dialog.index.entries[id]?.groups ?? []
            // Each instance of the question's groups that holds an answer.
            let instances = groups.isEmpty ? [[]] : Set(paths.filter { dialog.index.entries[$0.groupOfMorePrompt ?? $0.id]?.groups == groups }
                .map(\.indices)).sorted { $0.lexicographicallyPrecedes($1) }
            for indices in instances {
                guard state.answers[Path(id, indices)] == nil,
                      let v = dialog.recordValue(intake.answers, id, indices: indices), v != .null else { continue }
                answers.append((dialog.display(Path(id, indices)), Self.canonical(v)))
            }
        }
        // A later visit: the questions whose answers changed since the last record, as the record lists them.
        let changed = intake.visit.map { $0.changes.map(\.question) }
        return Conversation.Expectation(status: record.status, answers: answers, declined: declined, skipped: skipped,
                                        suggestions: record.suggestions, warnings: state.warnings.map(\.message), changed: changed,
                                        computed: intake.computed.map { ($0.name, Self.canonical($0.value)) })
    }

    static func canonical(_ v: RecordValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .number(let d): return canonical(.decimal(d))
        case .string(let s): return s
        case .strings(let ss): return "[" + ss.joined(separator: ", ") + "]"
        }
    }

    static func canonical(_ v: Value) -> String {
        switch v {
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .decimal(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .text(let s), .choice(let s): return s
        case .date(let d): return d.iso
        case .choices(let c): return "[" + c.joined(separator: ", ") + "]"
        }
    }

    /// nil when `actual` meets `expected`; else a line diff of the expect block.
    /// `passedOver`: optional questions the conversation does not name, skipped by the runner: not
    /// expected in `skipped:` (a question added to the dialog does not break the conversation).
    func compare(_ expected: Conversation.Expectation, _ actual: Conversation.Expectation, passedOver: Set<String> = []) -> String? {
        var actual = actual
        if let skipped = actual.skipped {
            let listed = Set(expected.skipped ?? [])
            actual.skipped = skipped.filter { !passedOver.contains($0) || listed.contains($0) }
        }
        var shown = actual
        // Answers: only the ones the author listed are checked, so show only those (and any missing).
        let actualAnswers = Dictionary(actual.answers, uniquingKeysWith: { a, _ in a })
        shown.answers = expected.answers.map { ($0.0, actualAnswers[$0.0] ?? "(no answer)") }
        // Computed values likewise: only the ones listed.
        let actualComputed = Dictionary(actual.computed, uniquingKeysWith: { a, _ in a })
        shown.computed = expected.computed.map { ($0.0, actualComputed[$0.0] ?? "(no such computed value)") }
        if expected.status == nil { shown.status = nil }
        func sameSet(_ e: [String]?, _ a: [String]?) -> Bool { e == nil || Set(e ?? []) == Set(a ?? []) }
        let ok = (expected.status == nil || expected.status == actual.status)
            && shown.answers.map(\.1) == expected.answers.map(\.1)
            && shown.computed.map(\.1) == expected.computed.map(\.1)
            && sameSet(expected.declined, actual.declined) && sameSet(expected.skipped, actual.skipped)
            && sameSet(expected.suggestions, actual.suggestions) && sameSet(expected.warnings, actual.warnings)
            && sameSet(expected.changed, actual.changed)
        if ok { return nil }
        if expected.declined == nil { shown.declined = nil }
        if expected.skipped == nil { shown.skipped = nil }
        if expected.suggestions == nil { shown.suggestions = nil }
        if expected.warnings == nil { shown.warnings = nil }
        if expected.changed == nil { shown.changed = nil }
        var e = expected
        // Lists compare as sets: show both sorted so the diff shows only real differences.
        for kp in [\Conversation.Expectation.declined, \.skipped, \.suggestions, \.warnings, \.changed] {
            e[keyPath: kp] = e[keyPath: kp]?.sorted()
            shown[keyPath: kp] = shown[keyPath: kp]?.sorted()
        }
        return Self.recordDiffers + " from expect: (- expected, + actual)\n"
            + Diff.lines(expected: ExpectationWriter.lines(e, indent: 0), actual: ExpectationWriter.lines(shown, indent: 0))
    }
}
