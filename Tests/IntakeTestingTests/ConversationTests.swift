import Foundation
import IntakeDialogs
import IntakeEngine
@testable import IntakeTesting
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct DialogConversationTests {
    static let project = Project.load(paths: [packageRoot.appendingPathComponent("Dialogs").path],
                                      localesDirectory: packageRoot.appendingPathComponent("Locales").path)

    static var conversations: [Conversation] {
        project.conversationFiles.flatMap { ConversationParser.parse(file: $0).0 }
    }

    /// A conversation's events as a front end sends them, each with where it is written.
    static func events(_ c: Conversation) -> [(Event, SourceRef)] {
        c.steps.compactMap { step in
            switch step {
            case .answer(_, .event(let e), _), .command(.event(let e), _): return (e, step.source)
            default: return nil
            }
        }
    }

    @Test func theRepositoryDialogsLoadWithoutErrors() {
        #expect(Self.project.diagnostics.errorCount == 0)
        #expect(!Self.conversations.isEmpty)
    }

    /// The whole suite, run once (a later visit needs the record of the conversation it follows),
    /// with every state of the second run read back all three ways before each step.
    static let suite = TestSuite.run(project, checksStateReadings: true)

    /// Every test conversation in Dialogs/tests, straight through and through save-and-restore.
    @Test(arguments: conversations.map(\.name))
    func conversationPasses(_ name: String) throws {
        let result = try #require(Self.suite.results.first { $0.conversation.name == name })
        #expect(result.failure == nil, "\(result.failure ?? "")")
    }

    /// What a step says it changed is exactly how the answers differ before and after it, at every
    /// step of every conversation (going back, editing, removing a child, dropping what no longer
    /// applies): a log entry carries it instead of comparing the whole answer maps.
    @Test func everyStepSaysExactlyWhichAnswersItChanged() throws {
        func diff(_ before: [Path: AnswerEntry], _ after: [Path: AnswerEntry]) -> [AnswerChange] {
            var out: [AnswerChange] = []
            for (p, e) in after where before[p] != e { out.append(AnswerChange(path: p, entry: e)) }
            for p in before.keys where after[p] == nil { out.append(AnswerChange(path: p, entry: nil)) }
            return out.sorted { $0.path < $1.path }
        }
        var steps = 0, changed = 0, dropped = 0
        for c in Self.conversations {
            let dialog = try #require(Self.project.dialog(c.dialog))
            let engine = Engine(dialog: dialog, catalog: Self.project.catalog)
            var now = Moment.noon(of: c.today)
            var step = engine.start(locale: c.locale, mode: c.mode, at: now)
            #expect(step.changes == diff([:], step.state.answers))
            for (event, _) in Self.events(c) {
                now.epochMillis += 60_000
                let next = engine.handle(event, step.state, at: now)
                let expected = diff(step.state.answers, next.state.answers)
                #expect(next.changes == expected, "\(c.name): step \(steps)")
                steps += 1
                if !expected.isEmpty { changed += 1 }
                dropped += expected.filter { $0.entry == nil }.count
                step = next
            }
        }
        // The conversations do change answers, and drop some.
        #expect(steps > 1000 && changed > 500 && dropped > 0, "\(steps) steps, \(changed) changed, \(dropped) dropped")
    }

    /// A walk that reuses the last walk's sums of unchanged sections shows exactly what a walk of
    /// everything shows (the question, how many are answered and how many remain), at every step
    /// of every conversation, and ends in the same state.
    @Test func reusingSectionSumsShowsWhatWalkingEverythingShows() throws {
        let (steps, _) = try Self.compareMemoWithWalkingEverything { $0 }
        #expect(steps > 1000)
    }

    /// The same, where the person keeps going back and editing (`Conversation.detoured`): while
    /// answers stand reopened, the sums of the sections after the question asked are still reused.
    @Test func reusingSectionSumsWhileAnswersAreReopenedShowsWhatWalkingEverythingShows() throws {
        let (steps, reopenedSteps) = try Self.compareMemoWithWalkingEverything(Conversation.detoured)
        #expect(steps > 2000 && reopenedSteps > 500, "\(steps) steps, \(reopenedSteps) with answers reopened")
    }

    /// Every conversation's events (as `events` makes them) through an engine with the walk's
    /// memo and one walking everything, comparing what each step shows and the state it leaves.
    /// Returns the steps taken, and how many left an answer reopened.
    static func compareMemoWithWalkingEverything(_ events: ([Event]) -> [Event]) throws -> (steps: Int, reopened: Int) {
        var steps = 0, reopenedSteps = 0
        for c in conversations {
            let dialog = try #require(project.dialog(c.dialog))
            let memo = Engine(dialog: dialog, catalog: project.catalog)
            let plain = Engine(dialog: dialog, catalog: project.catalog, memoizesWalks: false)
            var now = Moment.noon(of: c.today)
            var a = memo.start(locale: c.locale, mode: c.mode, at: now)
            var b = plain.start(locale: c.locale, mode: c.mode, at: now)
            for e in events(Self.events(c).map(\.0)) {
                now.epochMillis += 60_000
                a = memo.handle(e, a.state, at: now)
                b = plain.handle(e, b.state, at: now)
                #expect(a.effects == b.effects, "\(c.name): step \(steps)")
                #expect(a.state == b.state, "\(c.name): step \(steps)")
                if !a.state.reopened.isEmpty { reopenedSteps += 1 }
                steps += 1
            }
        }
        return (steps, reopenedSteps)
    }

    @Test func everyQuestionAndSuggestionIsReached() {
        #expect(Self.suite.unreached(Self.project).map(\.id) == [])
    }
}

@Suite struct ExpectUpdaterTests {
    @Test func rewritesOnlyTheExpectBlockAndKeepsComments() throws {
        let text = """
        # a comment that stays
        conversations:
          - name: first
            steps:
              - ":finish"   # keep me
            expect:
              status: wrong
              answers:
                name: old

          - name: second
            steps: []
        """
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("upd-\(UUID().uuidString).yaml")
        try text.write(to: dir, atomically: true, encoding: .utf8)
        let (conversations, diagnostics) = ConversationParser.parse(file: dir.path)
        #expect(diagnostics.isEmpty)
        let actual = Conversation.Expectation(status: "complete", answers: [("name", "山田 花子")], declined: [],
                                              skipped: ["kana"], suggestions: ["hellowork"], warnings: [])
        let updated = ExpectUpdater.rewrite(text, conversations.map { ($0, actual) })
        #expect(updated == """
        # a comment that stays
        conversations:
          - name: first
            steps:
              - ":finish"   # keep me
            expect:
              status: complete
              answers:
                name: "山田 花子"
              declined: []
              skipped: [kana]
              suggestions: [hellowork]
              warnings: []

          - name: second
            steps: []
            expect:
              status: complete
              answers:
                name: "山田 花子"
              declined: []
              skipped: [kana]
              suggestions: [hellowork]
              warnings: []
        """)
    }
}

/// `computed:` in `expect:` checks the record's computed values the author lists (a derived mark
/// such as discreet contact), and only those; `--update` keeps the list as the author wrote it.
@Suite struct ComputedExpectationTests {
    static let conversation = """
    conversations:
      - name: one
        steps: []
        expect:
          status: complete
          computed:
            contact_discreet: true
            youngest_age: 4
    """

    static func parsed() throws -> Conversation {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("computed-\(UUID().uuidString).yaml")
        try conversation.write(to: file, atomically: true, encoding: .utf8)
        let (conversations, diagnostics) = ConversationParser.parse(file: file.path)
        #expect(diagnostics.isEmpty)
        return try #require(conversations.first)
    }

    static func actual(_ computed: [(String, String)]) -> Conversation.Expectation {
        var e = Conversation.Expectation(status: "complete", answers: [], declined: nil, skipped: nil, suggestions: nil, warnings: nil)
        e.computed = computed
        return e
    }

    @Test func onlyTheListedValuesAreCheckedAndADifferenceIsShown() throws {
        let c = try Self.parsed()
        let expected = try #require(c.expect)
        #expect(expected.computed.map(\.0) == ["contact_discreet", "youngest_age"])
        let runner = ConversationRunner(project: DialogConversationTests.project)
        // Values the author did not list (wants_work) do not matter.
        #expect(runner.compare(expected, Self.actual([("youngest_age", "4"), ("wants_work", "true"), ("contact_discreet", "true")])) == nil)
        let differs = try #require(runner.compare(expected, Self.actual([("youngest_age", "4"), ("contact_discreet", "false")])))
        #expect(differs.contains("  - " + "  contact_discreet: true"))
        #expect(differs.contains("  + " + "  contact_discreet: false"))
        // A name the record does not have (misspelled, or removed from the dialog) fails, by name.
        let missing = try #require(runner.compare(expected, Self.actual([("youngest_age", "4")])))
        #expect(missing.contains("contact_discreet: \"(no such computed value)\""))
    }

    @Test func anUpdateKeepsTheListedValuesOnly() throws {
        let c = try Self.parsed()
        let updated = ExpectUpdater.rewrite(Self.conversation, [(c, Self.actual([("youngest_age", "1"), ("wants_work", "true"),
                                                                                 ("contact_discreet", "null")]))])
        #expect(updated == """
        conversations:
          - name: one
            steps: []
            expect:
              status: complete
              computed:
                youngest_age: 1
                contact_discreet: null
        """)
    }
}

@Suite struct DiffTests {
    @Test func showsRemovedThenAddedLines() {
        #expect(Diff.lines(expected: ["a", "b", "c"], actual: ["a", "x", "c"]) == "    a\n  - b\n  + x\n    c")
    }
}

@Suite struct ExpectUpdaterPlacementTests {
    @Test func aNewBlockGoesToItsOwnConversationWhenTheNextIsLeftAlone() throws {
        let text = """
        conversations:
          - name: first
            steps: []

          - name: second
            steps: []
            expect:
              status: complete
        """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("upd-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let conversations = ConversationParser.parse(file: file.path).0
        let first = try #require(conversations.first)
        let actual = Conversation.Expectation(status: "stopped", answers: [], declined: nil, skipped: nil, suggestions: nil, warnings: nil)
        let updated = ExpectUpdater.rewrite(text, [(first, actual)], starts: conversations.map(\.source.line))
        #expect(updated == """
        conversations:
          - name: first
            steps: []
            expect:
              status: stopped

          - name: second
            steps: []
            expect:
              status: complete
        """)
    }
}

/// The walk that starts at a forward answer gives exactly what a whole walk gives, at every step
/// of every conversation in Dialogs/tests.
@Suite struct ResumedWalkTests {
    @Test(arguments: DialogConversationTests.conversations.map(\.name))
    func sameEffectsAsAWholeWalk(_ name: String) throws {
        let project = DialogConversationTests.project
        let c = try #require(DialogConversationTests.conversations.first { $0.name == name })
        let dialog = try #require(project.dialog(c.dialog))
        let fast = Engine(dialog: dialog, catalog: project.catalog)
        let whole = Engine(dialog: dialog, catalog: project.catalog, resumesWalks: false)
        var now = Moment.noon(of: c.today)
        var a = fast.start(locale: c.locale, mode: c.mode, at: now)
        var b = whole.start(locale: c.locale, mode: c.mode, at: now)
        #expect(a.effects == b.effects)
        for (event, source) in DialogConversationTests.events(c) {
            now.epochMillis += 60_000
            a = fast.handle(event, a.state, at: now)
            b = whole.handle(event, b.state, at: now)
            #expect(a.effects == b.effects, "\(source)")
            #expect(a.state.answers == b.state.answers, "\(source)")
        }
    }
}
