import Foundation
import Testing

@Suite struct SheetCommandTests {
    /// The records of the conversations these tests print (Aiko's in personas-1.yaml, a client who
    /// declined every sharing in edges.yaml), written by `intake test --records` once for the suite:
    /// each run of a conversation file replays it three ways, which a debug build does slowly.
    private static let written: (dir: URL, output: CLI.Output)? = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-records-\(UUID().uuidString)")
        let out = try? CLI.run(["test", "Dialogs/tests/personas-1.yaml", "Dialogs/tests/edges.yaml", "--records", dir.path, "--lang", "en"])
        return out.map { (dir, $0) }
    }()

    static func records() throws -> URL {
        let written = try #require(Self.written, "intake test --records could not be run")
        try #require(written.output.status == 0, "\(written.output.stdout.suffix(2000))")
        return written.dir
    }

    @Test func aRecordSheetAndAnAnonymousRequestCardFromARecordFile() throws {
        let dir = try Self.records()
        let aiko = dir.appendingPathComponent("personas-1-6.json").path
        let record = try CLI.run(["sheet", "--kind", "record", aiko])
        #expect(record.status == 0)
        #expect(record.lines.first == "# 就労相談記録票")
        #expect(record.lines.contains("| 氏名 | 田中 愛子 |"))
        let card = try CLI.run(["sheet", "--kind", "request", aiko, "--locale", "en"])
        #expect(card.status == 0)
        #expect(card.lines.first == "# Job request card")
        #expect(!card.stdout.contains("田中"))
        #expect(!card.stdout.contains("090-"))
    }

    @Test func aReferralTheClientDidNotConsentToIsNamedNotPrinted() throws {
        let dir = try Self.records()
        let declinedAll = dir.appendingPathComponent("edges-20.json").path
        let out = try CLI.run(["sheet", "--kind", "referral", declinedAll])
        #expect(out.status == 3, "nothing printed")
        #expect(out.stdout.isEmpty)
        #expect(out.stderr.contains("ハローワークへのつなぎ：ご本人が情報の共有に同意していないため、相談つなぎシートは印刷しません。"))
    }

    @Test func htmlIsOneSelfContainedA4PageAndMarkdownStaysTheDefault() throws {
        let dir = try Self.records()
        let aiko = dir.appendingPathComponent("personas-1-6.json").path
        let html = try CLI.run(["sheet", "--kind", "referral", "--format", "html", aiko])
        #expect(html.status == 0)
        #expect(html.stdout.hasPrefix("<!DOCTYPE html>\n<html lang=\"ja\">"))
        #expect(html.stdout.contains("@page { size: A4;"))
        #expect(html.stdout.contains("<title>相談つなぎシート（ハローワーク） ほか 1枚</title>"))
        #expect(html.stdout.components(separatedBy: "<section class=\"sheet\">").count == 3, "two sheets, each its own section")
        #expect(html.stdout.contains("<tr><th scope=\"row\">氏名</th><td>田中 愛子</td></tr>"))
        #expect(html.stdout.hasSuffix("</html>\n"))
        let markdown = try CLI.run(["sheet", "--kind", "referral", aiko])
        #expect(markdown.lines.first == "# 相談つなぎシート（ハローワーク）")
        let bad = try CLI.run(["sheet", "--kind", "record", "--format", "pdf", aiko])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("'pdf'"))
    }

    @Test func aSheetInAnotherLanguageNamesTheOfficesLocalResources() throws {
        // Aiko's record is English; printed in Japanese, the マザーズハローワーク suggestion names the
        // office's place (a setting), not its placeholder.
        let dir = try Self.records()
        // Records are named by the line their conversation starts on.
        let conversations = try String(contentsOf: CLI.packageRoot.appendingPathComponent("Dialogs/tests/personas-1.yaml"), encoding: .utf8)
        let line = try #require(conversations.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("- name: Aiko — the same intake in English") }) + 1
        let out = try CLI.run(["sheet", "--kind", "record", dir.appendingPathComponent("personas-1-\(line).json").path])
        #expect(out.status == 0)
        #expect(out.stdout.contains("- 最寄りのマザーズハローワーク（マザーズコーナー）をご案内します。"))
        #expect(!out.stdout.contains("{settings."))
        // …and the reasons in the order the record gives them: the plan first, then the children.
        #expect(out.stdout.contains("理由： いまのお気持ちに近いものを選んでください → すぐに働きたい／1人目のお子さんは何歳ですか？ → 4"))
    }

    @Test func anUnknownKindSuggestsTheClosestOne() throws {
        let dir = try Self.records()
        let out = try CLI.run(["sheet", "--kind", "recrod", dir.appendingPathComponent("personas-1-6.json").path])
        #expect(out.status == 64)
        #expect(out.stderr.contains("no sheet 'recrod' for dialog 'intake' (did you mean 'record'?); sheets: inventory, record, referral, request, trial"))
    }

    @Test func aFileThatIsNotARecordIsAUsageError() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-record-\(UUID().uuidString).json")
        try Data("{\"hello\": [1, 2".utf8).write(to: file)
        let out = try CLI.run(["sheet", "--kind", "record", file.path])
        #expect(out.status == 64)
        #expect(out.stderr.contains("is not a JSON record"))
    }
}
