import Foundation
import Testing

@Suite struct LintCommandTests {
    @Test func dialogsInTheRepositoryLintClean() throws {
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"])
        #expect(out.status == 0)
        #expect(out.lines.last == "0 errors, 0 warnings")
    }

    @Test func problemsArePrintedWithFileLineAndColumnAndExitOne() throws {
        let dir = try CLI.scratchProject()
        let family = dir.appendingPathComponent("Dialogs/modules/family.yaml")
        var text = try String(contentsOf: family, encoding: .utf8)
        text = text.replacingOccurrences(of: "when: age <= settings.young_child_age", with: "when: agee <= settings.young_child_age")
        text = text.replacingOccurrences(of: "    max_length: 40\n  - id: kana", with: "    max_lenght: 40\n  - id: kana")
        try text.write(to: family, atomically: true, encoding: .utf8)
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains("Dialogs/modules/family.yaml:6:5: error: unknown key 'max_lenght' in question (did you mean 'max_length'?)"))
        #expect(out.lines.contains("Dialogs/modules/family.yaml:58:15: error: unknown question 'agee' (did you mean 'age'?)"))
        #expect(out.lines.last == "2 errors, 0 warnings")
    }

    @Test func japaneseWordingWhenAsked() throws {
        let dir = try CLI.scratchProject()
        let consent = dir.appendingPathComponent("Dialogs/modules/consent.yaml")
        try "format: 1\nsection: consent\nitems:\n  - id: consent_record\n    kind: yesnoo\n".write(to: consent, atomically: true, encoding: .utf8)
        let out = try CLI.run(["lint", "Dialogs", "--lang", "ja"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains("Dialogs/modules/consent.yaml:5:11: エラー: 不明な種類 'yesnoo' です（'yesno' のことですか？）"))
    }

    @Test func malformedYAMLIsADiagnosticNotACrash() throws {
        let dir = try CLI.scratchProject()
        try Data([0x66, 0x6f, 0x3a, 0x20, 0xff, 0xfe, 0x0a]).write(to: dir.appendingPathComponent("Dialogs/bad.yaml"))
        try "format: 1\ndialog: [unclosed\n".write(to: dir.appendingPathComponent("Dialogs/broken.yaml"), atomically: true, encoding: .utf8)
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains("Dialogs/bad.yaml:1:1: error: this file is not UTF-8"))
        #expect(out.lines.contains { $0.hasPrefix("Dialogs/broken.yaml:3:1: error: YAML syntax error:") })
    }
}

@Suite struct TestCommandTests {
    @Test func everyConversationInTheRepositoryPasses() throws {
        let out = try CLI.run(["test", "Dialogs", "--coverage", "--lang", "en"])
        #expect(out.status == 0)
        let passes = out.lines.filter { $0.hasPrefix("PASS ") }.count
        #expect(passes >= 7)
        #expect(out.lines.contains("coverage: every question and suggestion rule was reached"))
        #expect(out.lines.last == "\(passes) passed, 0 failed")
    }

    @Test func aFailingConversationShowsADiffAndUpdateRewritesIt() throws {
        let dir = try CLI.scratchProject()
        let file = dir.appendingPathComponent("Dialogs/tests/intake.test.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "        \"children[2].age\": 1\n", with: "        \"children[2].age\": 2\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let failing = try CLI.run(["test", "Dialogs", "--lang", "en"], in: dir)
        #expect(failing.status == 1)
        #expect(failing.lines.contains { $0.hasPrefix("FAIL  Dialogs/tests/intake.test.yaml:8 ") })
        #expect(failing.lines.contains("        -   \"children[2].age\": 2"))
        #expect(failing.lines.contains("        +   \"children[2].age\": 1"))
        #expect(failing.lines.last?.hasSuffix(" passed, 1 failed") == true)

        let update = try CLI.run(["test", "Dialogs", "--update", "--lang", "en"], in: dir)
        #expect(update.status == 1, "a re-recorded run fails, so that it is looked at")
        #expect(update.lines.contains { $0.hasPrefix("REDO  Dialogs/tests/intake.test.yaml:8 ") })
        let again = try CLI.run(["test", "Dialogs", "--lang", "en"], in: dir)
        #expect(again.status == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == text, "the update restores exactly what was there")
    }

    @Test func aConversationAskingForTheWrongQuestionSaysWhichWasAsked() throws {
        let dir = try CLI.scratchProject()
        let file = dir.appendingPathComponent("Dialogs/tests/extra.test.yaml")
        try """
        dialog: intake
        conversations:
          - name: skips a question by mistake
            steps:
              - consent_record: はい
              - contact_methods: "1"
        """.write(to: file, atomically: true, encoding: .utf8)
        let out = try CLI.run(["test", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains("      Dialogs/tests/extra.test.yaml:6:9: expected question 'contact_methods', but the dialog asked 'share_outside': あなたの情報を、どの機関と共有してよいですか？（いくつでも）"))
    }
}
