import Foundation
import Testing

/// Issue 16, "reading is audited", as an office meets it: every command that shows a stored record
/// leaves who, when and as what in the audit trail first, and `records access` answers "who
/// looked at her record?" — with nothing of the record in it.
@Suite struct ReadAuditCommandTests {
    func scratch() throws -> (dir: URL, db: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return (dir, dir.appendingPathComponent("intake.sqlite").path)
    }

    static var account: String { CLI.account }

    /// Sessions stopped at the consent question (each one has a record), ids oldest first.
    func stoppedSessions(_ count: Int, db: String, key: String? = nil) throws -> [String] {
        for _ in 0..<count {
            let run = try CLI.run(["run", "--db", db, "--today", "2026-11-23"] + (key.map { ["--key", $0] } ?? []), stdin: Data("いいえ\n".utf8))
            #expect(run.status == 2, "\(run.stderr)")
        }
        let list = try CLI.run(["records", "list", "--db", db] + (key.map { ["--key", $0] } ?? []))
        return list.lines.compactMap { $0.split(separator: "\t").first.map(String.init) }.reversed()
    }

    /// One line per access: office time, who, what kind.
    func accesses(_ id: String, db: String) throws -> [[String]] {
        let out = try CLI.run(["records", "access", id, "--db", db])
        #expect(out.status == 0, "\(out.stderr)")
        return out.lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func aRecordShownIsInItsAccessHistoryWithWhoWhenAndWhatKind() throws {
        let (_, db) = try scratch()
        let id = try #require(try stoppedSessions(1, db: db).first)
        let none = try CLI.run(["records", "access", id, "--db", db])
        #expect(none.status == 0 && none.stdout.isEmpty)
        #expect(none.stderr.contains("No reading of session \(id) is recorded."))
        let shown = try CLI.run(["records", "show", id, "--db", db])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("\"status\":\"stopped\""))
        let history = try accesses(id, db: db)
        #expect(history.count == 1)
        let line = try #require(history.first)
        #expect(line.count == 3)
        #expect(line[0].range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+09:00$"#, options: .regularExpression) != nil, "office time: \(line[0])")
        #expect(line[1] == Self.account, "the operating-system account, not a name typed anywhere")
        #expect(line[2] == "show")
        // A second look is a second line, after the first.
        #expect(try CLI.run(["records", "show", id, "--db", db]).status == 0)
        #expect(try accesses(id, db: db).map { $0[2] } == ["show", "show"])
        // A sheet printed from it is a read of its kind.
        let sheet = try CLI.run(["records", "sheet", id, "--kind", "record", "--db", db])
        #expect(sheet.status == 0 && sheet.lines.first == "# 就労相談記録票")
        #expect(try accesses(id, db: db).map { $0[2] } == ["show", "show", "sheet:record"])
        // The sheet says who printed it and when: the same identity and minute as its access entry.
        let printedAt = try accesses(id, db: db)[2][0].prefix(16).replacingOccurrences(of: "T", with: " ")
        #expect(sheet.lines.last == "出力：\(Self.account)（\(printedAt)、記録 \(id)）", "\(sheet.stdout)")
        // Listing the access history is not a read of the record.
        #expect(try accesses(id, db: db).count == 3)
    }

    @Test func anExportLeavesOneEntryPerExportedRecordAndTheHistoryOutlivesTheSession() throws {
        let (_, db) = try scratch()
        let ids = try stoppedSessions(3, db: db)
        #expect(ids.count == 3)
        let export = try CLI.run(["records", "export", "--format", "ndjson", "--db", db])
        #expect(export.status == 0)
        #expect(export.lines.count == 3)
        let csv = try CLI.run(["export", "--format", "csv", "--dialog", "intake", "--db", db])
        #expect(csv.status == 0)
        for id in ids {
            #expect(try accesses(id, db: db).map { $0[2] } == ["export:ndjson", "export:csv"], "\(id)")
        }
        // Records of another dialog are not in a csv of this one, and not read by it.
        #expect(try CLI.run(["export", "--format", "csv", "--dialog", "followup", "--db", db]).status == 0)
        #expect(try accesses(ids[0], db: db).count == 2)
        // Deleted at her request: the record goes; who read it, and when, stays (and nothing of it).
        #expect(try CLI.run(["records", "delete", ids[0], "--db", db]).status == 0)
        let after = try CLI.run(["records", "access", ids[0], "--db", db])
        #expect(after.lines.count == 2)
        #expect(!after.stdout.contains("いいえ") && !after.stdout.contains("stopped"))
    }

    /// Her last records shown at a later visit, and the monthly list of what changed, show her
    /// answers too: each is in the access history (as `visit`, as `report`).
    @Test func aLaterVisitAndTheMonthlyListAreReadsOfHerRecords() throws {
        let dir = try CLI.scratchProject()
        let answers = ["はい", "令和8年11月1日", "2", "ABC Care", "moved house", "3", "", "4", "no", "", "not yet", "2", ":finish"]
        let first = try CLI.run(["run", "--db", "intake.sqlite", "--dialog", "followup", "--counselor", "佐藤", "--client", "A", "--office", "川越",
                                 "--today", "2026-11-23"], stdin: Data((answers.joined(separator: "\n") + "\n").utf8), in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let db = dir.appendingPathComponent("intake.sqlite").path
        // The list shows her client number: that is a read too (issue 17).
        let id = try #require(try CLI.run(["records", "list", "--db", db]).lines.first?.split(separator: "\t").first.map(String.init))
        #expect(try accesses(id, db: db).map { $0[2] } == ["list"])
        // Another office's client A is someone else: her visit reads nothing of this record.
        _ = try CLI.run(["run", "--db", "intake.sqlite", "--dialog", "followup", "--counselor", "鈴木", "--client", "A", "--office", "さいたま",
                         "--today", "2026-11-24"], stdin: Data(), in: dir)
        #expect(try accesses(id, db: db).map { $0[2] } == ["list"])
        _ = try CLI.run(["run", "--db", "intake.sqlite", "--dialog", "followup", "--counselor", "佐藤", "--client", "A", "--office", "川越",
                         "--today", "2026-11-25"], stdin: Data(), in: dir)
        #expect(try accesses(id, db: db).map { Array($0[1...2]) } == [[CLI.account, "list"], [CLI.account, "visit"]])
        let report = try CLI.run(["report", "--month", "2026-11", "--db", db], in: dir)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("moved house"))
        #expect(try accesses(id, db: db).map { $0[2] } == ["list", "visit", "report"])
    }

    @Test func aSealedDatabaseRecordsReadsWithTheKeyAndListsThemWithoutIt() throws {
        let (dir, db) = try scratch()
        let key = dir.appendingPathComponent("intake.key").path
        #expect(try CLI.run(["new-key", key]).status == 0)
        let id = try #require(try stoppedSessions(1, db: db, key: key).first)
        let shown = try CLI.run(["records", "show", id, "--db", db, "--key", key])
        #expect(shown.status == 0, "\(shown.stderr)")
        // Without the key the record does not open, and nothing is recorded as read.
        #expect(try CLI.run(["records", "show", id, "--db", db]).status != 0)
        // The audit trail is not sealed: its history reads without the key.
        #expect(try accesses(id, db: db).map { $0[2] } == ["show"])
    }

    /// Issue 17: a list that shows a client (her number, her name) is a read: when that cannot be
    /// audited, nothing is listed.
    @Test func aListThatShowsAClientIsNotPrintedWhenItCannotBeAudited() throws {
        let (_, db) = try scratch()
        let run = try CLI.run(["run", "--db", db, "--client", "7", "--office", "川越", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        #expect(run.status == 2, "\(run.stderr)")
        try sqlite(db, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END")
        let list = try CLI.run(["records", "list", "--db", db])
        #expect(list.status == 74)
        #expect(list.stdout.isEmpty)
        #expect(list.stderr.contains("Nothing is shown: this reading could not be written to the audit trail"))
        try sqlite(db, "DROP TRIGGER refuse_audit")
        let again = try CLI.run(["records", "list", "--db", db])
        #expect(again.status == 0)
        let id = try #require(again.lines.first?.split(separator: "\t").first.map(String.init))
        #expect(again.lines.first?.split(separator: "\t").map(String.init).suffix(3) == ["7", "-", "-"])
        #expect(try accesses(id, db: db).map { $0[2] } == ["list"])
    }

    /// Fail closed: when the audit entry cannot be written, nothing of the record is printed, and
    /// the command says why.
    @Test func aReadThatCannotBeAuditedShowsNothing() throws {
        let (_, db) = try scratch()
        let ids = try stoppedSessions(2, db: db)
        let id = try #require(ids.first)
        try sqlite(db, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END")
        let shown = try CLI.run(["records", "show", id, "--db", db])
        #expect(shown.status == 74)
        #expect(shown.stdout.isEmpty)
        #expect(shown.stderr.contains("Nothing is shown: this reading could not be written to the audit trail"))
        let export = try CLI.run(["records", "export", "--db", db])
        #expect(export.status == 74)
        #expect(export.stdout.isEmpty)
        #expect(!shown.stderr.contains("いいえ") && !export.stderr.contains("いいえ"))
        try sqlite(db, "DROP TRIGGER refuse_audit")
        #expect(try accesses(id, db: db).isEmpty)
    }

    /// The counselor's REPL: `:records` lists sessions (a read of each one listed), `:sheet` prints
    /// the session's record as a sheet (a read of it); both as the account that runs the REPL.
    @Test func theREPLsListAndSheetAreAuditedAsTheAccountThatRunsIt() throws {
        let dir = try CLI.scratchProject()
        let db = dir.appendingPathComponent("intake.sqlite").path
        let earlier = try #require(try stoppedSessions(1, db: db).first)
        let out = try CLI.run(["--counselor", "佐藤", "--today", "2026-11-23"],
                              stdin: Data("はい\nはい\n:records\n:sheet\n:suspend\n".utf8), in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("# 就労相談記録票"))
        // The sheet printed mid-interview names who takes it, as the stored record will.
        #expect(out.stdout.contains("| 相談員 | \(Self.account) |"), "\(out.stdout)")
        let ids = try CLI.run(["records", "list", "--db", db]).lines.compactMap { $0.split(separator: "\t").first.map(String.init) }
        let current = try #require(ids.first { $0 != earlier })
        #expect(try accesses(earlier, db: db).map { Array($0.dropFirst()) } == [[Self.account, "list"]])
        #expect(try accesses(current, db: db).map { Array($0.dropFirst()) } == [[Self.account, "list"], [Self.account, "sheet:record"]])
    }

    /// Fail closed in the REPL: the counselor is told, nothing of the list or the sheet is shown,
    /// and the interview goes on.
    @Test func theREPLShowsNoListOrSheetItCannotAudit() throws {
        let dir = try CLI.scratchProject()
        let db = dir.appendingPathComponent("intake.sqlite").path
        let earlier = try #require(try stoppedSessions(1, db: db).first)
        try sqlite(db, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END")
        let out = try CLI.run(["--counselor", "佐藤", "--today", "2026-11-23"],
                              stdin: Data("はい\nはい\n:records\n:sheet\n:suspend\n".utf8), in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.components(separatedBy: "表示しません：この閲覧を監査記録に書き込めませんでした").count == 3, "\(out.stdout)")
        #expect(!out.stdout.contains("面談の一覧"))
        #expect(!out.stdout.contains(earlier))
        #expect(!out.stdout.contains("# 就労相談記録票"))
        #expect(out.lines.last?.hasPrefix("中断しました。続きは再開番号 ") == true)
    }

    /// `report` (SECURITY.md): its follow-up list shows clients' answers, so it is printed only once
    /// a read of each listed visit is written; its counts alone show no one's answers and need none.
    @Test func aReportsFollowUpListIsNotPrintedWhenItCannotBeAuditedButItsCountsAre() throws {
        let dir = try CLI.scratchProject()
        let db = dir.appendingPathComponent("intake.sqlite").path
        // October: one consultation, stopped at the consent question (counted, in no follow-up list).
        let october = try CLI.run(["run", "--db", db, "--today", "2026-10-05"], stdin: Data("いいえ\n".utf8), in: dir)
        #expect(october.status == 2, "\(october.stderr)")
        // November: a follow-up, in that month's follow-up list.
        let answers = ["はい", "令和8年11月1日", "2", "ABC Care", "moved house", "3", "", "4", "no", "", "not yet", "2", ":finish"]
        let followup = try CLI.run(["run", "--db", db, "--dialog", "followup", "--counselor", "佐藤", "--client", "A", "--office", "川越",
                                    "--today", "2026-11-23"], stdin: Data((answers.joined(separator: "\n") + "\n").utf8), in: dir)
        #expect(followup.status == 0, "\(followup.stderr)")
        let id = try #require(try CLI.run(["records", "list", "--db", db, "--client", "A"]).lines.first?.split(separator: "\t").first.map(String.init))
        try sqlite(db, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END")
        let counts = try CLI.run(["report", "--month", "2026-10", "--db", db], in: dir)
        #expect(counts.status == 0, "\(counts.stderr)")
        #expect(counts.stdout.contains("| - | 1 | 1 | 0 |"), "\(counts.stdout)")
        let refused = try CLI.run(["report", "--month", "2026-11", "--db", db], in: dir)
        #expect(refused.status == 74)
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.contains("Nothing is shown: this reading could not be written to the audit trail"))
        #expect(!refused.stderr.contains("moved house"))
        try sqlite(db, "DROP TRIGGER refuse_audit")
        #expect(try accesses(id, db: db).map { $0[2] } == ["list"])
        let report = try CLI.run(["report", "--month", "2026-11", "--db", db], in: dir)
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("moved house"))
        #expect(try accesses(id, db: db).map { Array($0[1...2]) } == [[Self.account, "list"], [Self.account, "report"]])
    }

    /// A stored session opened at a terminal shows what was answered in it: resumed by its resume
    /// number (a kiosk session a counselor takes over), by its id from the list, or with `:resume`
    /// in the REPL, it is a read in its access history (`resume`, as the account that runs it),
    /// written before anything of it is shown.
    @Test func aSessionResumedAtATerminalIsInItsAccessHistory() throws {
        let dir = try CLI.scratchProject()
        let db = dir.appendingPathComponent("intake.sqlite").path
        // A client at a kiosk consents, then leaves: suspended, with her resume number.
        let kiosk = try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("はい\nはい\n".utf8), in: dir)
        #expect(kiosk.status == 0, "\(kiosk.stderr)")
        let token = try #require(kiosk.lines.last?.split(separator: " ").first { $0.contains("-") && $0.count == 32 }.map(String.init))
        let id = try #require(try CLI.run(["records", "list", "--db", db]).lines.first?.split(separator: "\t").first.map(String.init))
        // (A list line that names no client is not a read.)
        #expect(try accesses(id, db: db).isEmpty)
        let byToken = try CLI.run(["run", "--db", db, "--resume", token, "--counselor", "佐藤", "--today", "2026-11-23"], stdin: Data(), in: dir)
        #expect(byToken.status == 0, "\(byToken.stderr)")
        #expect(byToken.stdout.contains("あなたの情報を、ほかの機関にも伝えてよいですか？"))
        #expect(try accesses(id, db: db).map { Array($0.dropFirst()) } == [[Self.account, "resume"]])
        let byID = try CLI.run(["--db", db, "--resume-session", id, "--counselor", "佐藤", "--today", "2026-11-23"], stdin: Data(":quit\n".utf8), in: dir)
        #expect(byID.status == 0, "\(byID.stderr)")
        #expect(try accesses(id, db: db).map { $0[2] } == ["resume", "resume"])
        let inREPL = try CLI.run(["--db", db, "--counselor", "佐藤", "--today", "2026-11-23"], stdin: Data(":resume \(token)\n:quit\n".utf8), in: dir)
        #expect(inREPL.status == 0, "\(inREPL.stderr)")
        #expect(inREPL.stdout.contains("別の面談を再開します。"), "\(inREPL.stdout)")
        #expect(try accesses(id, db: db).map { $0[2] } == ["resume", "resume", "resume"])
        // A token that opens nothing reads nothing.
        let wrong = try CLI.run(["run", "--db", db, "--resume", "0000-0000-0000-0000-0000-0000-00", "--counselor", "佐藤"], in: dir)
        #expect(wrong.status == 64 && wrong.stderr.contains("no suspended session for that token"))
        #expect(try accesses(id, db: db).count == 3)
    }

    /// Fail closed: when the read cannot be written, the session is not opened and nothing of it
    /// is shown; the REPL says so and goes on with its own session.
    @Test func aSessionIsNotResumedWhenItsReadCannotBeAudited() throws {
        let dir = try CLI.scratchProject()
        let db = dir.appendingPathComponent("intake.sqlite").path
        let kiosk = try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("はい\nはい\n".utf8), in: dir)
        #expect(kiosk.status == 0, "\(kiosk.stderr)")
        let token = try #require(kiosk.lines.last?.split(separator: " ").first { $0.contains("-") && $0.count == 32 }.map(String.init))
        let id = try #require(try CLI.run(["records", "list", "--db", db]).lines.first?.split(separator: "\t").first.map(String.init))
        try sqlite(db, "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused'); END")
        for resume in [["run", "--resume", token], ["run", "--resume-session", id], ["--resume", token], ["--resume-session", id]] {
            let out = try CLI.run(resume + ["--db", db, "--counselor", "佐藤", "--today", "2026-11-23"], stdin: Data(":quit\n".utf8), in: dir)
            #expect(out.status == 74, "\(resume): \(out.stderr)")
            #expect(!out.stdout.contains("伝えてよいですか") && !out.stdout.contains("［本人］"), "\(resume): \(out.stdout)")
            #expect(out.stderr.contains("表示しません：この閲覧を監査記録に書き込めませんでした"), "\(resume): \(out.stderr)")
        }
        let inREPL = try CLI.run(["--db", db, "--counselor", "佐藤", "--today", "2026-11-23"], stdin: Data(":resume \(token)\n:quit\n".utf8), in: dir)
        #expect(inREPL.status == 0, "\(inREPL.stderr)")
        #expect(inREPL.stdout.contains("表示しません：この閲覧を監査記録に書き込めませんでした"), "\(inREPL.stdout)")
        #expect(!inREPL.stdout.contains("別の面談を再開します。") && !inREPL.stdout.contains("伝えてよいですか"))
        // Resumed nowhere: still suspended as the kiosk left it, and read by no one.
        try sqlite(db, "DROP TRIGGER refuse_audit")
        #expect(try accesses(id, db: db).isEmpty)
        let listed = try CLI.run(["records", "list", "--db", db])
        #expect(listed.lines.contains { $0.hasPrefix(id + "\t") && $0.contains("\tsuspended\t") })
    }

    /// Edits the database with SQLite outside intake (the binary has no such command), through a
    /// tiny Python as `IntegrityCommandTests` does.
    func sqlite(_ db: String, _ statement: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute(sys.argv[2])
            c.close()
            """, db, statement]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
