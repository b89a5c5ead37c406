import Foundation
import Testing

@Suite struct StoredSessionCommandTests {
    @Test func aStoredSessionIsSuspendedAtTheEndOfInputAndResumedByItsToken() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-cli-\(UUID().uuidString).sqlite").path
        let first = try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("はい\nはい\n".utf8))
        #expect(first.status == 0)
        let last = try #require(first.lines.last)
        #expect(last.hasPrefix("中断しました。続きは再開番号 "))
        let token = try #require(last.split(separator: " ").first { $0.contains("-") && $0.count == 32 }.map(String.init))

        let listed = try CLI.run(["records", "list", "--db", db])
        #expect(listed.lines.count == 1)
        let fields = listed.lines.first?.split(separator: "\t").map(String.init) ?? []
        // id, started, status, dialog, version, mode, locale, counselor, office, client number, name, kana.
        #expect(fields.count == 12)
        #expect(fields[2] == "suspended")

        // The counselor takes over where the client stopped: the next question is share_outside.
        let resumed = try CLI.run(["run", "--db", db, "--resume", token.lowercased(), "--counselor", "佐藤", "--today", "2026-11-23"],
                                  stdin: Data("5\n".utf8))
        #expect(resumed.lines.prefix(3).contains("あなたの情報を、ほかの機関にも伝えてよいですか？（いくつでも選べます）"))
        #expect(resumed.lines.contains("[同意と連絡方法]  2 問回答／残り約 116 問"), "the answers given before count")
        #expect(resumed.lines.last?.hasPrefix("中断しました。") == true)

        // Or from the list, by a counselor.
        let id0 = fields[0]
        let fromList = try CLI.run(["run", "--db", db, "--resume-session", id0, "--counselor", "佐藤", "--today", "2026-11-23"], stdin: Data())
        #expect(fromList.lines.last == "中断しました。続きは一覧（intake records list）から再開できます。")
        let notCounselor = try CLI.run(["run", "--db", db, "--resume-session", id0, "--today", "2026-11-23"])
        #expect(notCounselor.status == 64)

        let wrong = try CLI.run(["run", "--db", db, "--resume", "0000-0000-0000-0000-0000-0000-00", "--today", "2026-11-23"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("no suspended session for that token"))

        let id = fields[0]
        let deleted = try CLI.run(["records", "delete", id, "--db", db])
        #expect(deleted.lines == ["deleted \(id)"])
        #expect(try CLI.run(["records", "list", "--db", db]).lines.isEmpty)
    }

    @Test func aFinishedSessionsRecordIsShownAndExported() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-cli-\(UUID().uuidString).sqlite").path
        let run = try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        #expect(run.status == 2)
        let id = try #require(try CLI.run(["records", "list", "--db", db]).lines.first?.split(separator: "\t").first.map(String.init))
        let shown = try CLI.run(["records", "show", id, "--db", db])
        #expect(shown.stdout.contains("\"status\":\"stopped\""))
        let exported = try CLI.run(["records", "export", "--format", "ndjson", "--db", db])
        #expect(exported.lines.count == 1)
        #expect(try JSONSerialization.jsonObject(with: Data(exported.lines[0].utf8)) is [String: Any])
    }
}

@Suite struct ReportCommandTests {
    @Test func theMonthlyCountsPerOffice() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-cli-\(UUID().uuidString).sqlite").path
        for client in ["X", "X", "Y"] {
            _ = try CLI.run(["run", "--db", db, "--client", client, "--office", "川越", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        }
        let out = try CLI.run(["report", "--month", "2026-11", "--db", db, "--lang", "en"])
        #expect(out.status == 0)
        #expect(out.lines.first == "Monthly report, 2026-11")
        #expect(out.lines.contains("| Office | Consultations | Clients | Found work |"))
        #expect(out.lines.contains("| 川越 | 3 | 2 | 0 |"))
        // An office's document: Japanese whatever the shell's LANG (the tests run with LANG=C), and
        // this month when none is named.
        let office = try CLI.run(["report", "--month", "2026-11", "--db", db])
        #expect(office.lines.first == "2026-11 の月次報告")
        let now = try CLI.run(["report", "--db", db])
        #expect(now.status == 0 && now.lines.first?.hasSuffix(" の月次報告") == true && now.lines.first?.hasPrefix("20") == true)
        let bad = try CLI.run(["report", "--month", "2026-13", "--db", db])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("'2026-13' is not a month written YYYY-MM"))
    }

    /// Issue 16: one office, every office with their total (the prefecture's view), per counselor.
    /// Client "X" of さいたま is not 川越's client "X".
    @Test func theMonthlyCountsForOneOfficeEveryOfficeAndPerCounselor() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-cli-\(UUID().uuidString).sqlite").path
        for (client, office, counselor) in [("X", "川越", true), ("X", "川越", false), ("Y", "川越", true), ("X", "さいたま", true)] {
            let run = try CLI.run(["run", "--db", db, "--client", client, "--office", office, "--today", "2026-11-23"]
                                  + (counselor ? ["--counselor", "誰でも"] : []), stdin: Data("いいえ\n".utf8))
            #expect(run.status == 2, "\(run.stderr)")
        }
        let all = try CLI.run(["report", "--month", "2026-11", "--db", db, "--lang", "en"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(Array(all.lines.drop { !$0.hasPrefix("| Office") }.prefix(5))
                == ["| Office | Consultations | Clients | Found work |", "|---|---:|---:|---:|", "| さいたま | 1 | 1 | 0 |",
                    "| 川越 | 3 | 2 | 0 |", "| Total (every office) | 4 | 3 | 0 |"])
        let one = try CLI.run(["report", "--month", "2026-11", "--office", "さいたま", "--db", db, "--lang", "en"])
        #expect(one.lines.contains("| さいたま | 1 | 1 | 0 |") && !one.stdout.contains("川越") && !one.stdout.contains("Total"))
        let per = try CLI.run(["report", "--month", "2026-11", "--per-counselor", "--db", db, "--lang", "en"])
        #expect(per.lines.contains("| Office | Counselor | Consultations | Clients | Found work |"))
        // A counselor is her identity (the account running the command), never the name she typed.
        #expect(per.lines.contains("| 川越 | \(CLI.account) | 2 | 2 | 0 |"), "\(per.stdout)")
        #expect(per.lines.contains("| 川越 | - | 1 | 1 | 0 |"))
        #expect(per.lines.contains("| さいたま | \(CLI.account) | 1 | 1 | 0 |"))
        #expect(!per.stdout.contains("誰でも"))
    }
}

@Suite struct StoredRecordSheetTests {
    @Test func aStoredRecordPrintsItsSheetAndExportsFromTheTopLevelCommand() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-sheet-\(UUID().uuidString).sqlite").path
        _ = try CLI.run(["run", "--db", db, "--client", "Z", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        let id = try #require(try CLI.run(["records", "list", "--db", db]).lines.first?.split(separator: "\t").first.map(String.init))
        let sheet = try CLI.run(["records", "sheet", id, "--kind", "record", "--db", db])
        #expect(sheet.status == 0)
        #expect(sheet.lines.first == "# 就労相談記録票")
        #expect(sheet.lines.contains("| 相談日 | 令和8年11月23日（2026-11-23） |"))
        // She did not agree to the anonymous request card: named, not printed.
        let card = try CLI.run(["records", "sheet", id, "--kind", "request", "--db", db])
        #expect(card.status == 3)
        #expect(card.stdout.isEmpty)
        #expect(card.stderr.contains("求人リクエストカード"))
        let unknown = try CLI.run(["records", "sheet", "s-nobody", "--kind", "record", "--db", db])
        #expect(unknown.stderr.contains("no session 's-nobody'"))
        let exported = try CLI.run(["export", "--format", "ndjson", "--db", db])
        #expect(exported.status == 0)
        #expect(exported.lines.count == 1)
        #expect(exported.lines.first?.hasPrefix("{\"dialog\":{\"id\":\"intake\"") == true)
    }
}

@Suite struct LaterVisitCommandTests {
    @Test func aClientsNextVisitStartsFromHerLastRecordAndTheReportListsWhatChanged() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-visit-\(UUID().uuidString).sqlite").path
        let base = ["run", "--db", db, "--dialog", "followup", "--locale", "en", "--client", "X", "--counselor", "Sato", "--mode", "counselor"]
        let first = ["yes", "令和8年10月1日", "2", "ABC Care", "", "3", "", "4", "no", "", "I cannot say yet", "2", ":finish"]
        let one = try CLI.run(base + ["--today", "2026-11-23"], stdin: Data((first.joined(separator: "\n") + "\n").utf8))
        #expect(one.status == 0, "\(one.stdout)")
        #expect(!one.stdout.contains("Starting from your last record"))
        // A month later: found work? no; "your life and work ahead" changed: work matters more now (3 → 5).
        let second = ["no", "", "2", "5", "", "", "", "", "1", ":finish"]
        let two = try CLI.run(base + ["--today", "2026-12-21"], stdin: Data((second.joined(separator: "\n") + "\n").utf8))
        #expect(two.status == 0, "\(two.stdout)")
        #expect(two.lines.first == "Starting from your last record (2026-11-23). For each part, you will see what you said then and say whether it is still right.")
        #expect(two.lines.contains("    Which is closest to how you feel right now? → I can't think about it yet"))
        #expect(two.lines.contains("  (current answer: 3; Enter keeps it)"))
        let report = try CLI.run(["report", "--month", "2026-12", "--db", db, "--lang", "en"])
        #expect(report.status == 0)
        #expect(report.lines.contains("- 2026-12-21 X: Found work No"))
        #expect(report.lines.contains("    - How big a part does work play in your life? Please answer with a number from 1 to 5.: 3 → 5"))
        #expect(report.lines.filter { $0.hasPrefix("    - ") }.count == 1, "only what differs is listed")
        // --fresh asks everything again.
        let fresh = try CLI.run(base + ["--today", "2026-12-22", "--fresh"], stdin: Data("no\n".utf8))
        #expect(!fresh.stdout.contains("Starting from your last record"))
    }
}

@Suite struct SealedDatabaseCommandTests {
    @Test func aSealedDatabaseIsReadOnlyWithItsKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let key = dir.appendingPathComponent("intake.key").path, db = dir.appendingPathComponent("intake.sqlite").path
        #expect(try CLI.run(["new-key", key]).lines == ["wrote \(key)"])
        #expect(try CLI.run(["new-key", key]).status == 64, "an existing key is never overwritten")
        #expect(try CLI.run(["run", "--db", db, "--key", key, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8)).status == 2)
        let id = try #require(try CLI.run(["records", "list", "--db", db]).lines.first?.split(separator: "\t").first.map(String.init))
        let withoutKey = try CLI.run(["records", "show", id, "--db", db])
        // A key refused, not a wrong command line: 77 and the reason, without the usage text.
        #expect(withoutKey.status == 77)
        #expect(withoutKey.stderr.contains("the records in this database are sealed: give the key file with --key FILE"))
        #expect(!withoutKey.stderr.contains("USAGE"))
        let wrongKey = dir.appendingPathComponent("other.key").path
        #expect(try CLI.run(["new-key", wrongKey]).status == 0)
        let withWrongKey = try CLI.run(["records", "show", id, "--db", db, "--key", wrongKey])
        #expect(withWrongKey.status == 77)
        #expect(!withWrongKey.stderr.contains("USAGE"))
        #expect(!withWrongKey.stdout.contains("\"status\""))
        let withKey = try CLI.run(["records", "show", id, "--db", db, "--key", key])
        #expect(withKey.stdout.contains("\"status\":\"stopped\""))
    }
}
