import Foundation
import IntakeDialogs
import IntakeEngine

/// The outcome of one conversation.
public struct ConversationResult: Sendable {
    public var conversation: Conversation
    /// Why it failed, readable by a dialog author (with a diff where there is one); nil when it passed.
    public var failure: String?
    /// Question ids (and `group+` prompts) the conversation reached.
    public var asked: Set<String>
    /// Suggestion ids that fired.
    public var suggestions: [String]
    /// What the session really ended with, in the form of an `expect:` block (for `--update`).
    public var actual: Conversation.Expectation
    /// The session's record (also when it did not finish), for `intake test --records`.
    public var record: Record?
    /// Optional questions the dialog asked that no step of the conversation names, passed over
    /// with Enter (display paths, in order): a question added to the dialog since the
    /// conversation was written. Shown beside its result; not counted in `expect: skipped`.
    public var passedOver: [String] = []
    public var passed: Bool { failure == nil }
}

/// Runs test conversations against the engine, three times: straight through; again with the
/// session saved as a snapshot is (`storedData`) and read back as a resume reads it before every
/// step; and through the session runner over a store, the session restored from the store
/// (snapshot and the entries after it) after every step (`ConversationRunner+Store.swift`). All
/// must agree.
public struct ConversationRunner: Sendable {
    public let project: Project
    /// Also check, before every step of the second run, that the state's three readings agree: its
    /// `Codable` form through `JSONDecoder` and directly, and the snapshot's form both ways (a
    /// resume falls back to `JSONDecoder` for what the direct reading does not recognise, and older
    /// snapshots were written by `JSONEncoder`). That is a check of intake's own code, made by
    /// its test suite; a dialog author's `intake test` leaves it out: it was half of every run.
    public var checksStateReadings: Bool

    public init(project: Project, checksStateReadings: Bool = false) {
        self.project = project
        self.checksStateReadings = checksStateReadings
    }

    struct Pass {
        var effects: [[Effect]] = []
        var state: SessionState?
        var failure: String?
        var transcript: [String] = []
        var asked: Set<String> = []
        var passedOver: [String] = []
        /// What was given to the engine, in order (the third replay gives the same to a runner).
        var fed: [Fed] = []
    }

    /// `carrying`: a later visit, from the record of the conversation `c.previous` names.
    public func run(_ c: Conversation, carrying: Carried? = nil) -> ConversationResult {
        var result = ConversationResult(conversation: c, failure: nil, asked: [], suggestions: [],
                                        actual: .init(status: nil, answers: [], declined: nil, skipped: nil, suggestions: nil, warnings: nil),
                                        record: nil)
        guard let dialog = project.dialog(c.dialog) else {
            result.failure = "unknown dialog '\(c.dialog ?? "intake")' (known: \(project.dialogs.keys.sorted().joined(separator: ", ")))"
            return result
        }
        let engine = Engine(dialog: dialog, catalog: project.catalog)
        let straight = pass(c, engine, carrying: carrying, restoring: false)
        result.asked = straight.asked
        result.passedOver = straight.passedOver
        if let f = straight.failure {
            result.failure = f + "\n" + tail(straight.transcript)
            return result
        }
        let restored = pass(c, engine, carrying: carrying, restoring: true)
        if let f = restored.failure {
            result.failure = "after save-and-restore: " + f + "\n" + tail(restored.transcript)
            return result
        }
        if let i = zip(straight.effects, restored.effects).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            result.failure = "step \(i) showed something different after save-and-restore of the session\n"
                + Diff.lines(expected: describe(straight.effects[i], dialog), actual: describe(restored.effects[i], dialog))
            return result
        }
        guard let state = straight.state else { return result }
        if state != restored.state {
            result.failure = "the session ended in a different state after save-and-restore"
            return result
        }
        if let f = throughStore(c, engine, carrying: carrying, straight.fed) {
            result.failure = "through the store: " + f
            return result
        }
        let record = engine.record(state)
        result.record = record
        result.suggestions = record.suggestions
        result.actual = actualExpectation(state, record, engine)
        if let expected = c.expect {
            result.failure = compare(expected, result.actual, passedOver: Set(straight.passedOver))
        }
        return result
    }

    func pass(_ c: Conversation, _ engine: Engine, carrying: Carried?, restoring: Bool) -> Pass {
        var p = Pass()
        var now = Moment.noon(of: c.today)
        let first = engine.start(locale: c.locale, mode: c.mode, carrying: carrying, at: now)
        var state = first.state
        var last = first.effects
        p.effects.append(last)
        record(last, into: &p, engine.dialog)
        let named = Set(c.steps.compactMap { step -> String? in
            if case .answer(let q, _, _) = step { return q } else { return nil }
        })
        /// An optional question the conversation does not know (no step names it), showing now:
        /// passed over with Enter, as a person who has nothing to say to it would.
        func passOver(_ source: SourceRef) {
            var guardCount = 0
            while guardCount < 100, case .ask(let prompt)? = last.last, !prompt.required, prompt.current == nil,
                  !prompt.path.isPrompt, !named.contains(prompt.display) {
                guardCount += 1
                p.passedOver.append(prompt.display)
                p.transcript.append("  > (Enter: '\(prompt.display)' is optional and no step names it)")
                now.epochMillis += 1_000
                let next = engine.handle(.answer(""), state, at: now)
                p.fed.append(.event(.answer(""), now, "\(source) (Enter over '\(prompt.display)')", next.state))
                state = next.state
                last = next.effects
                p.effects.append(last)
                record(last, into: &p, engine.dialog)
            }
        }
        for (n, step) in c.steps.enumerated() {
            now.epochMillis += 60_000
            if restoring {
                do {
                    // Saved as a snapshot is, read back as a resume reads it.
                    let stored = try state.storedData()
                    let restored = try SessionState.decoding(stored: stored)
                    if checksStateReadings {
                        let data = try JSONEncoder().encode(state)
                        let decoded = try JSONDecoder().decode(SessionState.self, from: data)
                        // A resume reads a snapshot directly: it must recognise every state a
                        // session can reach, and read it exactly as JSONDecoder does.
                        guard SessionState.decodedDirectly(data) == decoded else {
                            p.failure = "\(step.source): the saved session reads differently directly than through JSONDecoder"
                            return p
                        }
                        // Both readings give the snapshot's form back as the Codable form is read.
                        guard SessionState.decodedDirectly(stored) == decoded,
                              try JSONDecoder().decode(SessionState.self, from: stored) == decoded else {
                            p.failure = "\(step.source): the session as a snapshot writes it does not read back as it was"
                            return p
                        }
                    }
                    state = restored
                } catch {
                    p.failure = "\(step.source): the session could not be saved and restored: \(error)"
                    return p
                }
            }
            var input: LineInput?
            switch step {
            case .answer(let question, let i, let source):
                if case .ask(let prompt)? = last.last, prompt.display != question { passOver(source) }
                guard case .ask(let prompt)? = last.last else {
                    p.failure = "\(source): expected question '\(question)', but the dialog is \(position(last))"
                    return p
                }
                guard prompt.display == question else {
                    p.failure = "\(source): expected question '\(question)', but the dialog asked '\(prompt.display)': \(prompt.text)"
                    return p
                }
                input = i
            case .command(let i, _):
                // Finishing: an optional question added at the very end is passed over first —
                // unless the conversation means to finish too early (its next step checks the refusal).
                let checksRefusal: Bool = {
                    guard n + 1 < c.steps.count, case .expect(let kind, _, _) = c.steps[n + 1] else { return false }
                    return kind == "invalid"
                }()
                if case .event(.finish) = i, !checksRefusal { passOver(step.source) }
                input = i
            case .expect(let kind, let values, let source):
                if let problem = check(kind, values, last) {
                    p.failure = "\(source): \(problem)"
                    return p
                }
            }
            guard let input else { continue }
            p.transcript.append("  > " + describe(input))
            switch input {
            case .event(let e):
                let next = engine.handle(e, state, at: now)
                p.fed.append(.event(e, now, "\(step.source)", next.state))
                state = next.state
                last = next.effects
            case .help:
                last = engine.current(state)
            case .quit:
                p.fed.append(.quit(now))
                p.state = state
                return p
            case .unknownCommand(let w), .missingArgument(let w):
                p.failure = "\(step.source): ':\(w)' is not a complete command"
                return p
            }
            p.effects.append(last)
            record(last, into: &p, engine.dialog)
        }
        p.state = state
        return p
    }

    private func record(_ effects: [Effect], into p: inout Pass, _ dialog: Dialog) {
        for e in effects {
            if case .ask(let prompt) = e { p.asked.insert(prompt.path.groupOfMorePrompt.map { $0 + "+" } ?? prompt.path.id) }
        }
        p.transcript += describe(effects, dialog)
    }

    private func position(_ effects: [Effect]) -> String {
        switch effects.last {
        case .review?: return "at the review (all questions answered; ':finish' ends it)"
        case .done(let r)?: return "finished (\(r.status))"
        default: return "not asking anything"
        }
    }

    private func check(_ kind: String, _ values: [String], _ effects: [Effect]) -> String? {
        var shown: [String] = []
        for e in effects {
            switch (kind, e) {
            case ("invalid", .invalid(let m)), ("notice", .notice(let m)): shown.append(m.key)
            case ("warn", .warn(let ms)): shown += ms.map(\.key)
            case ("dropped", .dropped(let lines)): shown += lines.map(\.path)
            default: break
            }
        }
        if kind == "invalid" || kind == "notice" {
            return values.allSatisfy(shown.contains) ? nil : "expected \(kind) \(values) but the last step showed \(shown.isEmpty ? "none" : "\(shown)")"
        }
        return Set(values) == Set(shown) ? nil : "expected \(kind) \(values) but the last step showed \(shown.isEmpty ? "none" : "\(shown)")"
    }

    private func tail(_ transcript: [String]) -> String {
        "  transcript (last lines):\n" + transcript.suffix(14).joined(separator: "\n")
    }

    func describe(_ input: LineInput) -> String {
        switch input {
        case .event(.answer(let s)): return s.isEmpty ? "(Enter)" : s
        case .event(.value(let v)): return "\(v)"
        case .event(.decline): return ":decline"
        case .event(.skip): return ":skip"
        case .event(.back): return ":back"
        case .event(.edit(let t)): return ":edit \(t)"
        case .event(.add(let t)): return ":add \(t)"
        case .event(.remove(let t)): return ":remove \(t)"
        case .event(.review): return ":review"
        case .event(.locale(let l)): return ":lang \(l)"
        case .event(.confirm(let r)): return ":confirm" + (r.map { " " + $0 } ?? "")
        case .event(.finish): return ":finish"
        case .event(.note): return ":note …"
        case .event(.repeatQuestion): return ":repeat"
        case .help: return ":help"
        case .quit: return ":quit"
        case .unknownCommand(let w), .missingArgument(let w): return ":\(w)"
        }
    }

    func describe(_ effects: [Effect], _ dialog: Dialog) -> [String] {
        effects.map { e in
            switch e {
            case .ask(let p): return "  ? \(p.display)  \(p.text)"
            case .invalid(let m): return "  ! invalid \(m.key): \(m.text)"
            case .warn(let ms): return "  ! warn " + ms.map(\.key).joined(separator: ", ")
            case .dropped(let lines): return "  - dropped " + lines.map(\.path).joined(separator: ", ")
            case .review(let r): return "  = review (\(r.lines.count) answers)\(r.final ? ", waiting for :finish" : "")"
            case .notice(let m): return "  i \(m.key)"
            case .done(let r): return "  * done (\(r.status)) suggestions: \(r.suggestions.joined(separator: ", "))"
            }
        }
    }
}
