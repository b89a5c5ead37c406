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
        #expect(text.contains("面談の一覧（新しい順。お名前と番号のほかの回答は表示しません）："))  // :records
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
        // The counselor column (the eighth): her account.
        #expect(listed.lines.first?.split(separator: "\t").dropFirst(7).first.map(String.init) == CLI.account, "\(listed.stdout)")
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

    /// Issue 17: a resumed session says whose it is and how far it got before its first question:
    /// the record, the client's name (kana) and number, how many answered, when the last answer
    /// was given — and no other answer.
    @Test func aResumedSessionSaysWhoAndHowFarBeforeTheFirstQuestion() throws {
        let dir = try CLI.scratchProject()
        let first = try interview(RecordsThroughStoreCommandTests.upToName("山田 花子", "やまだ はなこ") + [":suspend"],
                                  ["--client", "1024", "--office", "川越", "--counselor", "佐藤"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let id = try #require(try CLI.run(["records", "list"], in: dir).lines.first?.split(separator: "\t").first.map(String.init))
        let out = try interview([":quit"], ["--resume-session", id, "--counselor", "佐藤"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        // (Wrapped at 80 columns: read as one line, up to the question that follows it.)
        let flat = out.stdout.replacingOccurrences(of: "\n", with: "")
        let start = try #require(flat.range(of: "再開："))
        let end = try #require(flat.range(of: "[ご家族のこと]", range: start.upperBound..<flat.endIndex))
        let banner = String(flat[start.lowerBound..<end.lowerBound])
        #expect(banner.hasPrefix("再開：記録 \(id)、お名前（かな）山田 花子（やまだ はなこ）（相談者番号 1024）、約"), "\(banner)")
        #expect(banner.hasSuffix("問中10問回答済み、最後の回答 2026-11-23 12:00"), "\(banner)")
        for answer in ["090", "ハローワーク", "携帯電話", "平日"] { #expect(!banner.contains(answer)) }
        // Before the first question (the next one: her birth date).
        let bannerAt = try #require(out.stdout.range(of: "再開：記録"))
        let questionAt = try #require(out.stdout.range(of: "生年月日を教えてください"))
        #expect(bannerAt.lowerBound < questionAt.lowerBound)
        // A session with no name yet says so, in the session's language.
        let en = try interview(["yes", ":suspend"], ["--locale", "en"], in: dir)
        #expect(en.status == 0)
        // (Both started at the same noon: the other one in the list.)
        let id2 = try #require(try CLI.run(["records", "list"], in: dir).lines.compactMap { $0.split(separator: "\t").first.map(String.init) }
            .first { $0 != id })
        let resumed = try interview([":quit"], ["--resume-session", id2], in: dir)
        let unwrapped = resumed.stdout.replacingOccurrences(of: "\n", with: " ")
        #expect(unwrapped.contains("Resuming: record \(id2), name not given yet, 1 of about "), "\(resumed.stdout)")
        #expect(unwrapped.contains(" questions answered, last answer 2026-11-23 12:00"), "\(resumed.stdout)")
    }

    /// Issue 17: `:edit` takes a question's words or label as well as its review number and id;
    /// after an edit from the final review only what changed is shown, not the whole review.
    @Test func editTakesTheQuestionsWordsAndShowsOnlyWhatChanged() throws {
        let dir = try CLI.scratchProject()
        let answers = ["はい", "令和8年11月1日", "2", "ABC Care", "moved house", "3", "", "4", "no", "", "not yet", "2"]
        let out = try interview(answers + [":edit 勤め先", "XYZ", ":edit 教えてください", ":edit 3", "", ":review", ":finish"],
                                ["--dialog", "followup", "--counselor", "佐藤", "--client", "A"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let text = out.stdout
        #expect(out.lines.contains("受付が終わりました（完了）。"), "\(text)")
        // The words: the one question that holds them is asked again, its answer given before shown.
        #expect(text.contains("（いまの答え：ABC Care。Enter でそのまま）"))
        // The final review is shown in full once, and again only on :review.
        #expect(text.components(separatedBy: "これまでの答え：").count - 1 == 2, "\(text)")
        let afterEdit = try #require(text.components(separatedBy: "直した答え（全体は :review）：").dropFirst().first)
        let changed = afterEdit.components(separatedBy: "答えはすべて入力されました").first ?? ""
        #expect(changed.contains("    4. 勤め先の名前を教えてください（答えなくてもかまいません） → XYZ"), "\(changed)")
        #expect(!changed.contains("3. "), "only the changed line: \(changed)")
        // Words several questions hold: listed with their numbers, nothing edited.
        #expect(text.contains("「教えてください」に当てはまる質問が"))
        #expect(out.lines.contains { $0.hasPrefix("  2. ") && $0.contains("働き始めた日（または始める日）を教えてください") })
        // A review number whose answer is kept: nothing changed, and that is all it says.
        #expect(text.contains("答えは変わりませんでした（全体は :review）。"))
        // Line mode never pages.
        #expect(!text.contains("Enter：次へ"))
    }

    /// A question's label (the short name a sheet gives it) finds it too: 氏名 is the name question.
    @Test func editTakesAQuestionsLabel() throws {
        let dir = try CLI.scratchProject()
        let out = try interview(RecordsThroughStoreCommandTests.upToName("山田 花子", "やまだ はなこ") + [":edit 氏名", "山田 はな", ":records", ":suspend"],
                                ["--client", "1024", "--office", "川越", "--counselor", "佐藤"], in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("（いまの答え：山田 花子。Enter でそのまま）"), "\(out.stdout)")
        #expect(out.lines.contains { $0.contains("  1024  山田 はな（やまだ はなこ）  ") }, "\(out.stdout)")
    }
}
