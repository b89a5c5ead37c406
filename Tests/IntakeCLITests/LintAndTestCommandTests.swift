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
        let text = try String(contentsOf: family, encoding: .utf8)
        try text.replacingOccurrences(of: "    personal: true\n    max_length: 40\n", with: "    personal: true\n    max_lenght: 40\n")
            .write(to: family, atomically: true, encoding: .utf8)
        let childcare = dir.appendingPathComponent("Dialogs/modules/childcare.yaml")
        let care = try String(contentsOf: childcare, encoding: .utf8)
        try care.replacingOccurrences(of: "        when: age <= settings.young_child_age or stage in ['infant', 'preschool']\n        choices: [licensed",
                                      with: "        when: agee <= settings.young_child_age or stage in ['infant', 'preschool']\n        choices: [licensed")
            .write(to: childcare, atomically: true, encoding: .utf8)
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains("Dialogs/modules/family.yaml:9:5: error: unknown key 'max_lenght' in question (did you mean 'max_length'?)"))
        #expect(out.lines.contains("Dialogs/modules/childcare.yaml:12:15: error: unknown question 'agee' (did you mean 'age'?)"))
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
        #expect(passes >= 10)
        #expect(out.lines.contains("coverage: every question and suggestion rule was reached"))
        #expect(out.lines.last == "\(passes) passed, 0 failed")
    }

    @Test func aFailingConversationShowsADiffAndUpdateRewritesIt() throws {
        let dir = try CLI.scratchProject()
        let file = dir.appendingPathComponent("Dialogs/tests/extra.test.yaml")
        let text = """
        dialog: intake
        conversations:
          - name: consent refused
            steps:
              - consent_record: いいえ
            expect:
              status: complete
        """
        try text.write(to: file, atomically: true, encoding: .utf8)
        let failing = try CLI.run(["test", "Dialogs", "--lang", "en"], in: dir)
        #expect(failing.status == 1)
        #expect(failing.lines.contains("FAIL  Dialogs/tests/extra.test.yaml:3  consent refused"))
        #expect(failing.lines.contains("        - status: complete"))
        #expect(failing.lines.contains("        + status: stopped"))
        #expect(failing.lines.last?.hasSuffix(" passed, 1 failed") == true)

        let update = try CLI.run(["test", "Dialogs", "--update", "--lang", "en"], in: dir)
        #expect(update.status == 1, "a re-recorded run fails, so that it is looked at")
        #expect(update.lines.contains("REDO  Dialogs/tests/extra.test.yaml:3  consent refused"))
        let again = try CLI.run(["test", "Dialogs", "--lang", "en"], in: dir)
        #expect(again.status == 0)
        #expect(again.lines.contains("PASS  Dialogs/tests/extra.test.yaml:3  consent refused"))
        let rewritten = try String(contentsOf: file, encoding: .utf8)
        #expect(rewritten.contains("    expect:\n      status: stopped\n      answers:\n        consent_record: false\n"))
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
        #expect(out.lines.contains { $0.hasPrefix("      Dialogs/tests/extra.test.yaml:6:9: expected question 'contact_methods', but the dialog asked 'share_counselors': ") })
    }
}
