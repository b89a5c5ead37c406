import Foundation
import Testing

/// What a command says when its command line cannot be acted on: from Locales/, in the language
/// of `--lang` where the command has it, else LANG's (ja when it says Japanese, else en).
@Suite struct OperatorMessageCommandTests {
    static let japanese = ["LANG": "ja_JP.UTF-8"]

    static func database() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("intake-ops-\(UUID().uuidString).sqlite").path
    }

    /// An option out of range: refused before anything starts, in the operator's language.
    @Test func aServeOptionOutOfRangeIsRefusedInJapaneseUnderAJapaneseLang() throws {
        let ja = try CLI.run(["serve", "--port", "70000"], environment: Self.japanese)
        #expect(ja.status == 64)
        #expect(ja.stderr.contains("--port は 0〜65535 の範囲で指定してください。"), "\(ja.stderr)")
        #expect(!ja.stderr.contains("must be"))
        let greet = try CLI.run(["serve", "--greet-after", "4000"], environment: Self.japanese)
        #expect(greet.stderr.contains("--greet-after は 0（使わない）〜3600 秒の範囲で指定してください。"), "\(greet.stderr)")
        // --lang says more than LANG.
        let en = try CLI.run(["serve", "--port", "70000", "--lang", "en"], environment: Self.japanese)
        #expect(en.status == 64)
        #expect(en.stderr.contains("--port must be 0…65535"), "\(en.stderr)")
        // LANG=C (as a cron job or a service runs): English.
        let c = try CLI.run(["serve", "--max-line-bytes", "10"])
        #expect(c.stderr.contains("--max-line-bytes must be at least 64"), "\(c.stderr)")
    }

    @Test func aSessionThatIsNotThereIsNamedInJapanese() throws {
        let db = Self.database()
        let show = try CLI.run(["records", "show", "s-nobody", "--db", db], environment: Self.japanese)
        #expect(show.status == 64)
        #expect(show.stderr.contains("セッション「s-nobody」は見つかりません。"), "\(show.stderr)")
        let delete = try CLI.run(["records", "delete", "s-nobody", "--db", db, "--lang", "ja"])
        #expect(delete.status == 64)
        #expect(delete.stderr.contains("セッション「s-nobody」は見つかりません。"), "\(delete.stderr)")
        let english = try CLI.run(["records", "delete", "s-nobody", "--db", db])
        #expect(english.stderr.contains("no session 's-nobody'"), "\(english.stderr)")
    }

    @Test func theExportsDaysAndTheRunsModeAreRefusedInTheChosenLanguage() throws {
        let db = Self.database()
        let day = try CLI.run(["export", "--from", "2026-11-31", "--db", db, "--lang", "ja"])
        #expect(day.status == 64)
        #expect(day.stderr.contains("--from の「2026-11-31」は日付として読めません。YYYY-MM-DD の形で指定してください。"), "\(day.stderr)")
        let mode = try CLI.run(["run", "--mode", "nope", "--lang", "ja-easy"])
        #expect(mode.status == 64)
        #expect(mode.stderr.contains("「nope」という モードは ありません。kiosk か counselor を えらんで ください。"), "\(mode.stderr)")
        let english = try CLI.run(["run", "--mode", "nope"])
        #expect(english.stderr.contains("unknown mode 'nope'; use kiosk or counselor"), "\(english.stderr)")
    }

    @Test func anUnknownSheetIsNamedInJapaneseWithTheClosestKind() throws {
        // The sheet's kind is looked up before the rest of the record is read: its dialog is enough.
        let record = FileManager.default.temporaryDirectory.appendingPathComponent("ops-record-\(UUID().uuidString).json")
        try Data(#"{"dialog": {"id": "intake", "version": "1"}}"#.utf8).write(to: record)
        let out = try CLI.run(["sheet", "--kind", "recrod", record.path], environment: Self.japanese)
        #expect(out.status == 64)
        #expect(out.stderr.contains("ダイアログ「intake」にシート「recrod」はありません（「record」のことでしょうか）。使えるシート: inventory, record, referral, request, trial"),
                "\(out.stderr)")
        let missing = try CLI.run(["sheet", "--kind", "record", "/nonexistent/record.json", "--lang", "ja"])
        #expect(missing.stderr.contains("記録ファイル「/nonexistent/record.json」を読み込めません。"), "\(missing.stderr)")
    }

    @Test func aKeyFileIsWrittenAndRefusedInJapanese() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-ops-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("intake.key").path
        #expect(try CLI.run(["new-key", key], environment: Self.japanese).lines == ["鍵ファイル \(key) を作成しました。"])
        let again = try CLI.run(["new-key", key], environment: Self.japanese)
        #expect(again.status == 64)
        #expect(again.stderr.contains("鍵ファイルを '\(key)' に書き込めません（同じ名前のファイルがすでにありませんか）。"), "\(again.stderr)")
    }

    /// `intake test`'s own lines (coverage, the summary) in the author's language; PASS/FAIL stay as they are.
    @Test func theConversationTestsSummaryAndCoverageReadInJapanese() throws {
        let dir = try CLI.scratchProject()
        // A question no conversation can reach: its condition never holds.
        let consent = dir.appendingPathComponent("Dialogs/modules/consent.yaml")
        let text = try String(contentsOf: consent, encoding: .utf8)
        let anchor = "  - id: share_outside\n"
        #expect(text.contains(anchor))
        let added = "  - id: preferred_name\n    kind: text\n    required: false\n    when: consent_record and not consent_record\n"
        try text.replacingOccurrences(of: anchor, with: added + anchor).write(to: consent, atomically: true, encoding: .utf8)
        for locale in ["ja", "en", "ja-easy"] {
            let file = dir.appendingPathComponent("Locales/\(locale).yaml")
            try (try String(contentsOf: file, encoding: .utf8) + "\n\"consent.preferred_name\": \"name?\"\n").write(to: file, atomically: true, encoding: .utf8)
        }
        // One file's conversations (a run of every file costs most of a minute of a debug build):
        // what they do not reach is listed the same way.
        let ja = try CLI.run(["test", "Dialogs/tests/personas-1.yaml", "--coverage", "--lang", "ja"], in: dir)
        #expect(ja.status == 0, "\(ja.stdout.suffix(2000))")
        let passes = ja.lines.filter { $0.hasPrefix("PASS ") }.count
        #expect(passes >= 3)
        #expect(ja.lines.last == "成功 \(passes) 件、失敗 0 件")
        #expect(ja.lines.contains("網羅：どの会話も到達していないもの："))
        #expect(ja.lines.contains { $0.hasPrefix("  Dialogs/modules/consent.yaml:") && $0.hasSuffix("：質問 'preferred_name'（intake）") }, "\(ja.lines.suffix(4))")
        // The English summary is TestCommandTests' (a second run of every conversation here would
        // cost half a minute of the suite for lines whose words did not change).
    }
}
