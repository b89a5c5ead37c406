import Foundation
import Testing

@Suite struct RunCommandTests {
    @Test func consentRefusedStopsAndSaysSo() throws {
        let out = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        #expect(out.status == 2)
        #expect(out.lines.contains("この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？"))
        #expect(out.lines.contains("お答えいただき、ありがとうございました。ここからは相談員が直接お話を伺います。お近くの係の者にお声がけください。"))
        #expect(out.lines.last == "受付が終わりました（相談員に引き継ぎ）。")
    }

    @Test func aWholeFollowUpInEnglishGivesTheRecord() throws {
        let answers = ["yes", "令和8年10月1日", "2", "ABC Care", "", "3", "", "4", "no", "", "I cannot say yet", "2", ":review", ":finish"]
        let out = try CLI.run(["run", "--dialog", "followup", "--locale", "en", "--today", "2026-11-23", "--print-record"],
                              stdin: Data((answers.joined(separator: "\n") + "\n").utf8))
        #expect(out.status == 0, "\(out.stderr)")
        // With --print-record what the person sees is on standard error, and standard output holds the record alone.
        let shown = out.stderr.split(separator: "\n").map(String.init)
        #expect(shown.contains("  [Follow-up visit]"))
        #expect(shown.contains("    2. On what day did (or will) you start? → 2026-10-01"))
        #expect(shown.filter { $0 == "Your answers so far:" }.count == 2, "once when all is answered, once for :review")
        #expect(shown.contains("Suggestions:"))
        #expect(shown.contains { $0.hasPrefix("  - Congratulations on the new job.") })
        #expect(out.stdout.hasPrefix("{\n"))
        let record = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(record["status"] as? String == "complete")
        let answersJSON = try #require(record["answers"] as? [String: Any])
        let followup = try #require(answersJSON["followup"] as? [String: Any])
        #expect(followup["found_date"] as? String == "2026-10-01")
        #expect(followup["found_kind"] as? String == "part_time")
        #expect(record["skipped"] as? [String] == ["changes", "milestones", "next_steps"])
        let suggestions = try #require(record["suggestions"] as? [[String: Any]])
        #expect(suggestions.compactMap { $0["id"] as? String } == ["found_work_followups", "no_pushing"])
    }

    @Test func wrongAnswersInvalidUTF8AndHugeLinesAreExplainedNotFatal() throws {
        var input = Data("たぶん\n".utf8)
        input += Data([0xff, 0xfe, 0xfd, 0x0a])
        input += Data(String(repeating: "あ", count: 400_000).utf8) + Data("\n".utf8)
        input += Data(":nonsense\n:help\nはい\n".utf8)
        let out = try CLI.run(["run", "--today", "2026-11-23"], stdin: input)
        #expect(out.status == 0, "end of input ends the run without an error")
        #expect(out.lines.filter { $0 == "! 「はい」か「いいえ」で答えてください。" }.count == 3)
        #expect(out.lines.contains("「:nonsense」というコマンドはありません。:help で一覧を表示します。"))
        #expect(out.lines.contains { $0.hasPrefix("コマンド：:back 戻る") })
        #expect(out.lines.filter { $0 == "この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？" }.count == 6)
    }

    @Test func anUnknownDialogIsAUsageError() throws {
        let out = try CLI.run(["run", "--dialog", "nope"])
        #expect(out.status == 64)
        #expect(out.stderr.contains("unknown dialog 'nope'; known: followup, intake, inventory"))
    }
}
