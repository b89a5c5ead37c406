import Foundation
import Testing

/// The counselor's REPL when standard input is not a terminal (scripts): every command, line by line.
@Suite struct InterviewLineModeTests {
    func interview(_ lines: [String], _ args: [String] = [], in dir: URL) throws -> CLI.Output {
        try CLI.run(args + ["--today", "2026-11-23"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8), in: dir)
    }

    @Test func everyCommandLineByLine() throws {
        let dir = try CLI.scratchProject()
        let out = try interview(["はい", "令和9年11月1日", "来年4月からの内定", "?", ":back", "", "2", ":skip", ":decline", ":note 本人は前向き",
                                 ":lang en", ":review", ":edit 1", "", ":lang ja", ":records", ":sheet", ":sheet nonsense", ":help",
                                 ":bogus", ":suspend"],
                                ["--dialog", "followup", "--counselor", "佐藤"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let text = out.stdout
        // The name given is shown beside the identity her answers are recorded under.
        #expect(out.lines.first?.hasPrefix("フォローアップ面談（相談員：佐藤（\(CLI.account)））。:help") == true, "\(out.lines.first ?? "")")
        // A soft check asks the counselor for a reason; the reason keeps the answer.
        #expect(text.contains("! 半年以上先の日付です。"))
        #expect(text.contains("このままの答えで確定するには、理由を入力してください"))
        #expect(text.contains("どのような働き方ですか？"))
        #expect(text.contains("この質問には説明がありません。"))                        // ? on a question without help
        #expect(text.contains("（いまの答え：令和9年11月1日（2027-11-01）。Enter でそのまま）"))  // :back
        #expect(text.contains("この質問は「答えない」を選べません。"))                    // :decline where it cannot be
        #expect(text.contains("メモを記録しました。"))                                    // :note
        #expect(text.contains("Showing English."))                                      // :lang en
        #expect(text.contains("    3. What kind of work is it? → Part-time"))            // :review
        #expect(text.contains("  (current answer: Yes; Enter keeps it)"))                // :edit 1
        #expect(text.contains("日本語で表示します。"))
        #expect(text.contains("面談の一覧（新しい順、回答は表示しません）："))             // :records
        #expect(text.contains("この面談にはシートがありません。"))                        // :sheet
        #expect(text.contains(":suspend 中断（再開番号を表示）"))                          // :help
        #expect(text.contains("「:bogus」というコマンドはありません。"))
        #expect(out.lines.last?.hasPrefix("中断しました。続きは再開番号 ") == true)       // :suspend
        // Progress as answered / about total.
        #expect(text.contains("[フォローアップ面談]  2 / 約"))
    }

    @Test func aConfirmedWarningKeepsTheCounselorsReasonInTheRecord() throws {
        let dir = try CLI.scratchProject()
        let out = try interview(["はい", "令和9年11月1日", "来年4月からの内定", "2", "ABC", "", "3", "", "4", "4", "", "", "2", ":finish"],
                                ["--dialog", "followup", "--counselor", "佐藤"], in: dir)
        #expect(out.lines.contains("受付が終わりました（完了）。"), "\(out.stdout)")
        let listed = try CLI.run(["records", "list"], in: dir)
        let id = try #require(listed.lines.first?.split(separator: "\t").first.map(String.init))
        let record = try CLI.run(["records", "show", id], in: dir)
        #expect(record.stdout.contains("\"reason\":\"来年4月からの内定\""))
        #expect(record.stdout.contains("\"mode\":\"counselor\""))
    }

    /// Issue 16: a counselor's identity is not typed. On SQLite it is the operating-system account
    /// running the terminal; `--counselor` is a name shown beside it, stored nowhere.
    @Test func theCounselorIsTheAccountNotATypedName() throws {
        let dir = try CLI.scratchProject()
        let out = try interview(["はい", ":quit"], ["--counselor", "佐藤 花子"], in: dir)
        #expect(out.stdout.contains("（相談員：佐藤 花子（\(CLI.account)））"), "\(out.stdout)")
        let listed = try CLI.run(["records", "list"], in: dir)
        #expect(listed.lines.first?.hasSuffix("\t\(CLI.account)") == true, "\(listed.stdout)")
        #expect(!listed.stdout.contains("佐藤"))
        // Without a name nothing is asked: the interview starts at its first question.
        let plain = try interview([":quit"], in: dir)
        #expect(plain.status == 0)
        #expect(plain.stdout.hasPrefix("ひとり親家庭の就業支援 受付（相談員：\(CLI.account)）"), "\(plain.stdout)")
        // Her deletion is recorded under the account too, whatever name she gave.
        let id = try #require(listed.lines.first?.split(separator: "\t").first.map(String.init))
        #expect(try CLI.run(["records", "delete", id], in: dir).status == 0)
    }

    @Test func aKioskSessionHandedOverShowsTheClientsAnswersMarkedAsHers() throws {
        let dir = try CLI.scratchProject()
        // The client starts at a kiosk (line mode, no counselor) and stops after two answers.
        let kiosk = try CLI.run(["run", "--db", "intake.sqlite", "--today", "2026-11-23"], stdin: Data("はい\nはい\n".utf8), in: dir)
        let token = try #require(kiosk.lines.last?.split(separator: " ").first { $0.count == 32 }.map(String.init))
        let out = try interview(["2", ":review", ":quit"], ["--resume", token, "--counselor", "佐藤"], in: dir)
        #expect(out.stdout.contains("ご本人がキオスクで答えた内容です（［本人］の印）。続きをお聞きします。"))
        #expect(out.stdout.contains("→ はい ［本人］"))
        // What the counselor enters next is not marked as the client's.
        let review = try #require(out.stdout.components(separatedBy: "これまでの答え：").last)
        #expect(review.components(separatedBy: "［本人］").count - 1 == 2, "\(review)")
        // Or from inside the REPL, by the token.
        let kiosk2 = try CLI.run(["run", "--db", "intake.sqlite", "--today", "2026-11-23"], stdin: Data("はい\n".utf8), in: dir)
        let token2 = try #require(kiosk2.lines.last?.split(separator: " ").first { $0.count == 32 }.map(String.init))
        let taken = try interview([":resume " + token2, ":quit"], ["--counselor", "佐藤"], in: dir)
        #expect(taken.stdout.contains("別の面談を再開します。"))
        #expect(taken.stdout.contains("→ はい ［本人］"))
        // A session of another dialog says which one to open it with.
        let followup = try CLI.run(["run", "--db", "intake.sqlite", "--dialog", "followup", "--today", "2026-11-23"], stdin: Data("はい\n".utf8), in: dir)
        let token3 = try #require(followup.lines.last?.split(separator: " ").first { $0.count == 32 }.map(String.init))
        let other = try interview([":resume " + token3, ":quit"], ["--counselor", "佐藤"], in: dir)
        #expect(other.stdout.contains("その面談は「followup」の質問です。intake --dialog followup で再開してください。"))
        let flag = try interview([], ["--resume", token3, "--counselor", "佐藤"], in: dir)
        #expect(flag.stderr.contains("that session runs the dialog 'followup': give --dialog followup"))
    }
}
