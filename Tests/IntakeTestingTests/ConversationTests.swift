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

    @Test func theRepositoryDialogsLoadWithoutErrors() {
        #expect(Self.project.diagnostics.errorCount == 0)
        #expect(!Self.conversations.isEmpty)
    }

    /// Every test conversation in Dialogs/tests, straight through and through save-and-restore.
    @Test(arguments: conversations.map(\.name))
    func conversationPasses(_ name: String) throws {
        let c = try #require(Self.conversations.first { $0.name == name })
        let result = ConversationRunner(project: Self.project).run(c)
        #expect(result.failure == nil, "\(result.failure ?? "")")
    }

    @Test func everyQuestionAndSuggestionIsReached() {
        let suite = TestSuite.run(Self.project)
        #expect(suite.unreached(Self.project).map(\.id) == [])
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
