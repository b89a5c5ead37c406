import Foundation
import Testing

@Suite struct SheetCommandTests {
    /// The records of every test conversation, written by `intake test --records`.
    static func records() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-records-\(UUID().uuidString)")
        let out = try CLI.run(["test", "Dialogs", "--records", dir.path, "--lang", "en"])
        #expect(out.status == 0)
        return dir
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
