import Foundation
import IntakeDialogs
import IntakeEngine
@testable import IntakeTesting
import Testing

/// A conversation names its questions by id: an optional question it does not name (one added to
/// the dialog later) is passed over with Enter, also just before `:finish`; anything else still fails.
@Suite struct PassingOverTests {
    static func suite(_ conversations: String) throws -> TestSuite {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-passover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Dialogs/tests"), withIntermediateDirectories: true)
        try """
        format: 1
        dialog: t
        version: "1"
        items:
          - id: a
            kind: text
          - id: added
            kind: text
            required: false
          - id: b
            kind: yesno
          - id: added_last
            kind: integer
            required: false
        """.write(to: dir.appendingPathComponent("Dialogs/t.yaml"), atomically: true, encoding: .utf8)
        try ("dialog: t\nconversations:\n" + conversations).write(to: dir.appendingPathComponent("Dialogs/tests/t.yaml"), atomically: true, encoding: .utf8)
        let project = Project.load(paths: [dir.appendingPathComponent("Dialogs").path], localesDirectory: packageRoot.appendingPathComponent("Locales").path)
        return TestSuite.run(project)
    }

    @Test func optionalQuestionsNoStepNamesArePassedOver() throws {
        let suite = try Self.suite("""
          - name: written before the two optional questions were added
            steps:
              - a: hello
              - b: はい
              - ":finish"
            expect:
              status: complete
              answers: { a: hello, b: true }
              skipped: []
        """)
        let r = try #require(suite.results.first)
        #expect(r.failure == nil, "\(r.failure ?? "")")
        #expect(r.passedOver == ["added", "added_last"])
    }

    @Test func finishingTooEarlyOnPurposeIsLeftAsWritten() throws {
        let suite = try Self.suite("""
          - name: finish refused at the last question
            steps:
              - a: hello
              - added: ""
              - b: はい
              - ":finish"
              - invalid: engine.finish.not_yet
        """)
        let r = try #require(suite.results.first)
        #expect(r.failure == nil, "\(r.failure ?? "")")
        #expect(r.passedOver == [])
    }

    @Test func aRequiredQuestionOrAnAnswerThatChangedStillFails() throws {
        let suite = try Self.suite("""
          - name: skips the required question
            steps:
              - a: hello
              - added_last: "3"
          - name: expects another answer
            steps:
              - a: hello
              - b: いいえ
              - ":finish"
            expect:
              answers: { b: true }
        """)
        #expect(suite.results.count == 2)
        #expect(suite.results[0].failure?.contains("expected question 'added_last', but the dialog asked 'b'") == true, "\(suite.results[0].failure ?? "")")
        #expect(suite.results[1].failure?.hasPrefix("the record differs") == true, "\(suite.results[1].failure ?? "")")
    }
}
