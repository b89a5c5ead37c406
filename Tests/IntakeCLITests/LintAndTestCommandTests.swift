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
        try care.replacingOccurrences(of: "      - id: small_child\n        expr: age <=", with: "      - id: small_child\n        expr: agee <=")
            .write(to: childcare, atomically: true, encoding: .utf8)
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains("Dialogs/modules/family.yaml:9:5: error: unknown key 'max_lenght' in question (did you mean 'max_length'?)"))
        #expect(out.lines.contains("Dialogs/modules/childcare.yaml:14:15: error: unknown question 'agee' (did you mean 'age'?)"))
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
        // Where the bracket opened, not where YAML gave up on it (the end of the file).
        #expect(out.lines.contains("Dialogs/broken.yaml:2:9: error: the bracket that starts here is not closed (YAML: did not find expected ',' or ']')"))
        #expect(out.lines.last == "2 errors, 0 warnings")
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
        // Conversations run side by side, but are reported as written: file by file, in line order.
        let places = out.lines.filter { $0.hasPrefix("PASS ") }.compactMap { line -> (String, Int)? in
            let place = line.dropFirst("PASS  ".count).prefix { $0 != " " }
            guard let colon = place.lastIndex(of: ":"), let n = Int(place[place.index(after: colon)...]) else { return nil }
            return (String(place[..<colon]), n)
        }
        #expect(places.count == passes)
        #expect(Set(places.map(\.0)).count > 1)
        #expect(zip(places, places.dropFirst()).allSatisfy { a, b in a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) }, "\(places)")
    }

    /// A dialog author proving one file: its conversations run over the dialogs found by default
    /// (they failed with "unknown dialog 'intake' (known: )"), and a file named twice runs once.
    @Test func aConversationFileNamedAloneRunsItsConversationsOnceOverTheDialogsFoundByDefault() throws {
        let out = try CLI.run(["test", "Dialogs/tests/followup.yaml", "Dialogs/tests/../tests/followup.yaml", "--lang", "en"])
        #expect(out.status == 0)
        let passes = out.lines.filter { $0.hasPrefix("PASS ") }
        #expect(passes.count == 3)
        #expect(passes.allSatisfy { $0.contains("followup.yaml:") })
        #expect(out.lines.last == "3 passed, 0 failed")
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
        // The file alone: what is shown of a failure and what --update rewrites is the same
        // whether the other conversation files run beside it (each run of them all costs most of a
        // minute of a debug build; `everyConversationInTheRepositoryPasses` runs them).
        let failing = try CLI.run(["test", "Dialogs/tests/extra.test.yaml", "--lang", "en"], in: dir)
        #expect(failing.status == 1)
        #expect(failing.lines.contains("FAIL  Dialogs/tests/extra.test.yaml:3  consent refused"))
        #expect(failing.lines.contains("        - status: complete"))
        #expect(failing.lines.contains("        + status: stopped"))
        #expect(failing.lines.last?.hasSuffix(" passed, 1 failed") == true)

        let update = try CLI.run(["test", "Dialogs/tests/extra.test.yaml", "--update", "--lang", "en"], in: dir)
        #expect(update.status == 1, "a re-recorded run fails, so that it is looked at")
        #expect(update.lines.contains("REDO  Dialogs/tests/extra.test.yaml:3  consent refused"))
        let again = try CLI.run(["test", "Dialogs/tests/extra.test.yaml", "--lang", "en"], in: dir)
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
        let out = try CLI.run(["test", "Dialogs/tests/extra.test.yaml", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains { $0.hasPrefix("      Dialogs/tests/extra.test.yaml:6:9: expected question 'contact_methods', but the dialog asked 'share_counselors': ") })
    }
}

/// A YAML syntax error is reported first and alone, and `intake test` runs nothing over a dialog with errors (issue 17).
@Suite struct YAMLFirstTests {
    /// One line of the module `consent.yaml` indented one space too little.
    static func misindented() throws -> (URL, Int) {
        let dir = try CLI.scratchProject()
        let consent = dir.appendingPathComponent("Dialogs/modules/consent.yaml")
        let text = try String(contentsOf: consent, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let index = try #require(lines.firstIndex(of: "    kind: multi"))
        var changed = lines
        changed[index] = "   kind: multi"
        try changed.joined(separator: "\n").write(to: consent, atomically: true, encoding: .utf8)
        return (dir, index + 1)
    }

    @Test func anIndentationErrorIsReportedAlone() throws {
        let (dir, line) = try Self.misindented()
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines == [
            "Dialogs/modules/consent.yaml:\(line):4: error: the indentation does not match the lines around it: lines at the same level start with the same number of spaces (YAML: did not find expected '-' indicator)",
            "1 errors, 0 warnings",
        ])
        let ja = try CLI.run(["lint", "Dialogs", "--lang", "ja"], in: dir)
        #expect(ja.lines.first == "Dialogs/modules/consent.yaml:\(line):4: エラー: 字下げ（行頭の空白）が前後の行と合っていません。同じ階層の行は同じ数の空白で始めてください（YAML：did not find expected '-' indicator）")
    }

    @Test func aQuoteErrorInTheEnglishLocaleIsReportedAloneInEnglish() throws {
        let dir = try CLI.scratchProject()
        let en = dir.appendingPathComponent("Locales/en.yaml")
        let text = try String(contentsOf: en, encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.hasPrefix("  summary: \"") })
        var changed = lines
        changed[index] = "  summary: \"{errors} \"errors\", {warnings} warnings\""
        try changed.joined(separator: "\n").write(to: en, atomically: true, encoding: .utf8)
        let out = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines == [
            "Locales/en.yaml:\(index + 1):12: error: text follows a quoted value: inside the quotes write \\\" for \", or use ' outside (YAML: did not find expected key)",
            "1 errors, 0 warnings",
        ])
    }

    @Test func testRefusesADialogWithErrors() throws {
        let (dir, line) = try Self.misindented()
        let out = try CLI.run(["test", "Dialogs", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.first?.hasPrefix("Dialogs/modules/consent.yaml:\(line):4: error: the indentation does not match") == true)
        #expect(!out.lines.contains { $0.hasPrefix("PASS") || $0.hasPrefix("FAIL") })
        #expect(out.stderr == "The dialogs have 1 errors (above), so no conversation was run: fix them (intake lint), then run the tests again.\n")
    }
}

/// An optional question added to a dialog does not break the conversations that do not answer it;
/// `--update` rewrites only the conversations that failed (issue 17).
@Suite struct RobustConversationTests {
    /// A scratch project whose consent module asks `preferred_name` after `share_counselors`.
    static func withAddedQuestion(required: Bool) throws -> URL {
        let dir = try CLI.scratchProject()
        let consent = dir.appendingPathComponent("Dialogs/modules/consent.yaml")
        let text = try String(contentsOf: consent, encoding: .utf8)
        let anchor = "  - id: share_outside\n"
        #expect(text.contains(anchor))
        let added = "  - id: preferred_name\n    kind: text\n" + (required ? "" : "    required: false\n")
        try text.replacingOccurrences(of: anchor, with: added + anchor).write(to: consent, atomically: true, encoding: .utf8)
        for (locale, words) in [("ja", "呼ばれたい名前はありますか？"), ("en", "Is there a name you would like to be called by?"),
                                ("ja-easy", "よばれたい なまえは ありますか？")] {
            let file = dir.appendingPathComponent("Locales/\(locale).yaml")
            let base = try String(contentsOf: file, encoding: .utf8)
            try (base + "\n\"consent.preferred_name\": \"\(words)\"\n").write(to: file, atomically: true, encoding: .utf8)
        }
        let lint = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(lint.lines.last == "0 errors, 0 warnings", "\(lint.stdout)")
        return dir
    }

    /// Intake conversations of one file, each passing the added question at its place (a run of
    /// every file is `TestCommandTests`' and costs most of a minute of a debug build).
    static let intakeConversations = "Dialogs/tests/personas-4.yaml"

    @Test func anAddedOptionalQuestionIsPassedOverAndTheConversationsStillPass() throws {
        let dir = try Self.withAddedQuestion(required: false)
        let out = try CLI.run(["test", Self.intakeConversations, "--lang", "en"], in: dir)
        #expect(out.status == 0, "\(out.stdout.prefix(3000))")
        let passes = out.lines.filter { $0.hasPrefix("PASS ") }.count
        let file = try String(contentsOf: dir.appendingPathComponent(Self.intakeConversations), encoding: .utf8)
        let written = file.split(separator: "\n").filter { $0.hasPrefix("  - name:") }.count
        #expect(written >= 5)
        #expect(passes == written)
        #expect(out.lines.last == "\(passes) passed, 0 failed")
        #expect(out.lines.contains("      passed over optional questions no step names (Enter): preferred_name"))
    }

    @Test func anAddedRequiredQuestionStillBreaksThem() throws {
        let dir = try Self.withAddedQuestion(required: true)
        let out = try CLI.run(["test", Self.intakeConversations, "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains { $0.contains("expected question 'share_outside', but the dialog asked 'preferred_name'") })
    }

    @Test func aConversationThatAnswersTheOptionalQuestionOutOfOrderStillFails() throws {
        let dir = try Self.withAddedQuestion(required: false)
        let file = dir.appendingPathComponent("Dialogs/tests/extra.test.yaml")
        try """
        dialog: intake
        conversations:
          - name: answers it too late
            steps:
              - consent_record: はい
              - share_counselors: はい
              - share_outside: ハローワーク
              - preferred_name: あいちゃん
        """.write(to: file, atomically: true, encoding: .utf8)
        let out = try CLI.run(["test", "Dialogs/tests/extra.test.yaml", "--lang", "en"], in: dir)
        #expect(out.status == 1)
        #expect(out.lines.contains { $0.hasPrefix("      Dialogs/tests/extra.test.yaml:7:9: expected question 'share_outside', but the dialog asked 'preferred_name'") })
    }

    @Test func updateRewritesOnlyTheConversationsThatFailed() throws {
        let dir = try CLI.scratchProject()
        let tests = dir.appendingPathComponent("Dialogs/tests")
        let names = try FileManager.default.contentsOfDirectory(atPath: tests.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var before: [String: String] = [:]
        for n in names { before[n] = try String(contentsOf: tests.appendingPathComponent(n), encoding: .utf8) }
        let edges = try #require(before["edges.yaml"])
        // The first conversation of edges.yaml now expects the wrong status.
        let broken = edges.replacingOccurrences(of: "    expect:\n      status: stopped\n", with: "    expect:\n      status: complete\n")
        #expect(broken != edges)
        try broken.write(to: tests.appendingPathComponent("edges.yaml"), atomically: true, encoding: .utf8)

        // Two files run (not all of them: each run of every file costs most of a minute of a debug
        // build): the broken one and one that passes.
        let update = try CLI.run(["test", "Dialogs/tests/edges.yaml", "Dialogs/tests/followup.yaml", "--update", "--lang", "en"], in: dir)
        #expect(update.status == 1)
        #expect(update.lines.filter { $0.hasPrefix("PASS  Dialogs/tests/followup.yaml:") }.count == 3)
        #expect(update.lines.filter { $0.hasPrefix("REDO ") }.count == 1)
        #expect(update.lines.contains { $0.hasPrefix("REDO  Dialogs/tests/edges.yaml:") })
        #expect(update.lines.contains("updated Dialogs/tests/edges.yaml (its re-recorded conversations count as failed; run again without --update)"))
        #expect(update.lines.filter { $0.hasPrefix("updated ") }.count == 1)
        // Every other conversation, and every other file, is as it was; the failed one is as it was before it broke.
        for n in names {
            #expect(try String(contentsOf: tests.appendingPathComponent(n), encoding: .utf8) == before[n], "\(n)")
        }
    }
}
