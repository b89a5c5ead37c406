import Foundation
import Glibc
import IntakeTerminal
import Testing

/// The counselor's REPL on a real pseudo-terminal: readline editing, Japanese input, wrapping by
/// display width, Tab completion, Ctrl-C and Ctrl-D, and a history of commands without answers.
@Suite(.serialized) struct InterviewTerminalTests {
    struct Setup {
        let dir: URL
        let db: String
        let history: String
    }

    func setup() throws -> Setup {
        let dir = try CLI.scratchProject()
        return Setup(dir: dir, db: dir.appendingPathComponent("intake.sqlite").path, history: dir.appendingPathComponent("history").path)
    }

    func start(_ s: Setup, columns: Int = 80) throws -> PseudoTerminal {
        try PseudoTerminal(["--counselor", "佐藤", "--today", "2026-11-23", "--history", s.history], in: s.dir, columns: columns)
    }

    static let first = "この相談の内容を記録して"
    static let second = "相談員どうし"

    @Test func japaneseAnswersAndTextWrappedByDisplayWidth() throws {
        let s = try setup()
        let t = try start(s, columns: 40)
        #expect(t.waitFor(Self.first))
        let m = t.mark
        #expect(t.answer("はい\r", expecting: Self.second))
        #expect(t.waitFor("2. いいえ", after: m))
        // Every line fits in 40 columns, full-width characters counting two.
        let lines = t.screen[m...].split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("[同意と連絡方法]  1 / 約") })
        #expect(lines.filter { $0.contains("相談員") }.count >= 1)
        for line in lines where !line.hasPrefix(">") { #expect(TextWidth.of(line) <= 40, "\(line)") }
        #expect(t.answer("\u{04}", expecting: "中断しました。続きは再開番号"))
        #expect(t.exitStatus() == 0)
    }

    @Test func tabCompletesCommandsAndChoiceLabels() throws {
        let s = try setup()
        let t = try start(s)
        #expect(t.waitFor(Self.first))
        #expect(t.answer("は\t\r", expecting: Self.second))           // はい
        #expect(t.answer(":rev\t\r", expecting: "これまでの答え："))  // :review
        #expect(t.answer("いい\t\r", expecting: "[同意と連絡方法]  2 / 約"))  // いいえ
        #expect(!t.screen.contains("!"), "no answer was refused")
        #expect(t.answer("\u{04}", expecting: "中断しました"))
        #expect(t.exitStatus() == 0)
    }

    @Test func ctrlCClearsTheLineAndTwiceAsksToSuspend() throws {
        let s = try setup()
        let t = try start(s)
        #expect(t.waitFor(Self.first))
        #expect(t.answer("あいうえお\u{03}", expecting: "入力を消しました"))
        // The cleared text is gone: this answer is just はい.
        #expect(t.answer("はい\r", expecting: Self.second))
        #expect(!t.screen.contains("!"), "no answer was refused")
        #expect(t.answer("\u{03}", expecting: "入力を消しました"))
        #expect(t.answer("\u{03}", expecting: "面談を中断しますか？"))
        #expect(t.answer("はい\r", expecting: "中断しました。続きは再開番号"))
        #expect(t.exitStatus() == 0)
        let listed = try CLI.run(["records", "list", "--db", s.db])
        #expect(listed.lines.count == 1)
        #expect(listed.lines.first?.contains("\tsuspended\t") == true)
    }

    @Test func theHistoryFileKeepsCommandsButNeverAnswersNotesOrTokens() throws {
        let s = try setup()
        let t = try start(s)
        #expect(t.waitFor(Self.first))
        #expect(t.answer("はい\r", expecting: Self.second))
        #expect(t.answer(":note 元夫から連絡あり\r", expecting: "メモを記録しました"))
        #expect(t.answer(":review\r", expecting: "これまでの答え"))
        #expect(t.answer(":resume 0000-0000-0000-0000-0000-0000-00\r", expecting: "その再開番号の面談はありません"))
        #expect(t.answer(":records やまだ\r", expecting: "当てはまる面談はありません"))
        #expect(t.answer(":records\r", expecting: "面談の一覧"))
        #expect(t.answer(":back\r", expecting: "Enter でそのまま"))
        #expect(t.answer("\u{04}", expecting: "中断しました"))
        #expect(t.exitStatus() == 0)
        let history = try String(contentsOfFile: s.history, encoding: .utf8)
        // A search for a client by name is not kept; the plain list is.
        #expect(!history.contains("やまだ"))
        #expect(history.contains(":records"))
        #expect(history.contains(":review"))
        #expect(history.contains(":back"))
        #expect(!history.contains("はい"))
        #expect(!history.contains("元夫"))
        #expect(!history.contains(":note"))
        #expect(!history.contains("0000-0000"))
        let attributes = try FileManager.default.attributesOfItem(atPath: s.history)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        // The next run recalls the commands with the Up arrow: the last was :back.
        let again = try start(s)
        #expect(again.waitFor(Self.first))
        #expect(again.answer("\u{1B}[A\r", expecting: "これより前の質問はありません"))
        #expect(again.answer("\u{04}", expecting: "中断しました"))
        #expect(again.exitStatus() == 0)
    }

    @Test func aTerminalThatClosesSuspendsTheSessionWithNothingLost() throws {
        let s = try setup()
        let t = try start(s)
        #expect(t.waitFor(Self.first))
        #expect(t.answer("はい\r", expecting: Self.second))
        #expect(t.waitForInput())
        t.hangUp()
        var status: Int32 = 0
        var exited = false
        for _ in 0..<200 {
            if waitpid(t.pid, &status, WNOHANG) == t.pid { exited = true; break }
            usleep(25_000)
        }
        #expect(exited)
        let listed = try CLI.run(["records", "list", "--db", s.db])
        #expect(listed.lines.first?.contains("\tsuspended\t") == true)
        let id = try #require(listed.lines.first?.split(separator: "\t").first.map(String.init))
        // Resumed from the list: the first answer is there, the second question is next.
        let resumed = try CLI.run(["--db", s.db, "--resume-session", id, "--counselor", "佐藤", "--today", "2026-11-23"], in: s.dir)
        #expect(resumed.stdout.contains(Self.second))
        #expect(resumed.stdout.contains("1 / 約"))
    }

    /// Issue 17: a review longer than the terminal shows a page at a time, each page within the
    /// terminal's rows; Enter shows the next, q stops — and the question still shows.
    @Test func aLongReviewPagesAndQStopsIt() throws {
        let s = try setup()
        let rows = 12
        let t = try PseudoTerminal(["--counselor", "佐藤", "--today", "2026-11-23", "--history", s.history], in: s.dir, columns: 80, rows: rows)
        #expect(t.waitFor(Self.first))
        for (i, a) in RecordsThroughStoreCommandTests.upToName("山田 花子", "やまだ はなこ").enumerated() {
            #expect(t.answer(a + "\r", expecting: "  \(i + 1) / 約"), "answer \(i + 1): \(t.screen)")
        }
        let question = "生年月日を教えてください"
        let m = t.mark
        #expect(t.answer(":review\r", expecting: "Enter：次へ"))
        #expect(!t.screen[m...].contains("やまだ はなこ"), "the last answer is on a later page")
        #expect(t.answer("q", expecting: question))
        #expect(!t.screen[m...].contains("やまだ はなこ"), "q left out the rest of the review")
        // Again, to the end with Enter: every page fits the terminal.
        #expect(t.waitForInput())
        let m2 = t.mark
        #expect(t.answer(":review\r", expecting: "Enter：次へ"))
        for _ in 0..<6 where !t.screen[m2...].contains(question) {
            t.waitForInput()
            t.type("\r")
            t.waitFor(question, after: m2, timeout: 2)
        }
        #expect(t.screen[m2...].contains("やまだ はなこ"))
        #expect(t.screen[m2...].contains(question))
        let pages = t.screen[m2...].components(separatedBy: "q：やめる --")
        #expect(pages.count >= 2)
        // (The first holds the line typed, the others what the prompt's row shows after the key.)
        for page in pages { #expect(page.split(separator: "\n", omittingEmptySubsequences: false).count <= rows, "\(pages)") }
        #expect(t.answer("\u{04}", expecting: "中断しました"))
        #expect(t.exitStatus() == 0)
    }
}
