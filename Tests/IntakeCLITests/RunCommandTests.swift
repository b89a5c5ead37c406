import Foundation
import Testing

@Suite struct RunCommandTests {
    @Test func consentRefusedStopsAndSaysSo() throws {
        let out = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        #expect(out.status == 2)
        #expect(out.lines.contains("この相談の内容を記録して、あなたの就職の支援に使ってよいですか？"))
        #expect(out.lines.contains("ありがとうございました。このあとは相談員がお話を伺います。係の者をお呼びください。"))
        #expect(out.lines.last == "受付が終わりました（stopped）。")
    }

    @Test func aWholeSessionInEnglishGivesTheRecord() throws {
        let answers = ["yes", "1", "2", "no", "Kenji", "", "1981-06-10", "2", "2", "1", "15", "no", "3",
                       "yes", "8", "yes", "0", "Trucking", "20", "no", "no", ":review", ":finish"]
        let out = try CLI.run(["run", "--locale", "en", "--today", "2026-11-23", "--print-record"],
                              stdin: Data((answers.joined(separator: "\n") + "\n").utf8))
        #expect(out.status == 0, "\(out.stdout)")
        #expect(out.lines.contains("  [Consent and contact]"))
        #expect(out.lines.contains("    1. May we keep a record of this consultation and use it to support your job search? → Yes"))
        #expect(out.lines.contains("  [Your family › Child 1]"))
        #expect(out.lines.contains("Suggestions:"))
        #expect(out.lines.contains("  ・Job counselling at Hello Work."))
        let json = try #require(out.stdout.range(of: "{\n").map { String(out.stdout[$0.lowerBound...]) })
        let record = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(record["status"] as? String == "complete")
        let answersJSON = try #require(record["answers"] as? [String: Any])
        let family = try #require(answersJSON["family"] as? [String: Any])
        #expect(family["name"] as? String == "Kenji")
        #expect(family["birth_date"] as? String == "1981-06-10")
        let children = try #require(family["children"] as? [[String: Any]])
        #expect(children.count == 1)
        #expect(children.first?["age"] as? Int == 15)
        #expect(record["skipped"] as? [String] == ["kana"])
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
        #expect(out.lines.contains("あなたの情報を、どの機関と共有してよいですか？（いくつでも）"))
    }

    @Test func anUnknownDialogIsAUsageError() throws {
        let out = try CLI.run(["run", "--dialog", "nope"])
        #expect(out.status == 64)
        #expect(out.stderr.contains("unknown dialog 'nope'; known: intake"))
    }
}
