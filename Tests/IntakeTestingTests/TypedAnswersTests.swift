import Foundation
import IntakeDialogs
import IntakeEngine
import Testing

/// Answers as people type them (issue 17), on the repository's intake dialog and locales: what
/// the client types, what she is told, and what her review and record then show.
@Suite struct TypedAnswersTests {
    // MARK: an end date still running

    /// A part-timer whose side job (かけもち, her second job) still goes on: its end is typed as
    /// `word`.
    static func sideJobStillRunning(_ word: String) -> [String: String] {
        WordingTests.with([
            "children_count": "1", "children[1].age": "12", "children[1].stage": "5",
            "work_status": "2", "current_title": "スーパーのレジ", "current_hours_week": "20", "current_pay_unit": "1",
            "current_pay": "1050", "second_job": "はい", "jobs[1].job_from": "2020-04", "jobs[1].employer": "〇〇スーパー",
            "jobs[1].duties": "レジと品出し", "jobs+2": "はい", "jobs[2].job_from": "2018-04", "jobs[2].job_to": word,
            "jobs[2].employer": "弁当店", "jobs[2].job_title": "盛り付け", "jobs[2].employment_type": "2",
            "jobs[2].duties": "週末の盛り付け", "jobs+3": "いいえ",
        ])
    }

    @Test(arguments: [("ja", "現在", "（未回答）"), ("ja", "いま", "（未回答）"), ("ja", "在職中", "（未回答）"),
                      ("ja-easy", "いま", "（こたえていません）"), ("ja-easy", "げんざい", "（こたえていません）")])
    func nowLeavesTheEndOfAJobStillRunningOpen(locale: String, word: String, shown: String) throws {
        let run = try WordingTests.walk(Self.sideJobStillRunning(word), locale: locale)
        // She was asked, and told she may type it…
        let asked = try #require(run.prompt("jobs[2].job_to"))
        #expect(asked.help?.contains(locale == "ja" ? "「現在」" : "「いま」") == true, "\(asked.help ?? "")")
        // …and it was taken at once (the walk answers each question once: a refusal would ask it
        // again) and left the end open: no reason for leaving is asked of a job she still has.
        let times = run.asked.filter { $0 == "jobs[2].job_to" }.count
        #expect(times == 1)
        let leaveReasonAsked = run.asked.contains("jobs[2].leave_reason"), wentOn = run.asked.contains("jobs+3")
        #expect(!leaveReasonAsked)
        #expect(wentOn)
        let line = try #require(run.review?.lines.first { $0.path == "jobs[2].job_to" })
        #expect(line.answer == shown)
        let record = try #require(run.record)
        #expect(record.status == "complete")
        guard case .array(let jobs)? = record.json["answers"]?["career"]?["jobs"], jobs.count == 2 else {
            Issue.record("no jobs in the record")
            return
        }
        #expect(jobs[1]["job_from"] == .string("2018-04"))
        #expect(jobs[1]["job_to"] == nil)
        #expect(jobs[1]["leave_reason"] == nil)
        guard case .array(let skipped)? = record.json["skipped"] else {
            Issue.record("no skipped list in the record")
            return
        }
        #expect(skipped.contains(.string("jobs[2].job_to")))
    }

    @Test func aMonthGivenEndsTheJobAndAsksWhySheLeft() throws {
        let ended = try WordingTests.walk(Self.sideJobStillRunning("令和6年3月"))
        let leaveReasonAsked = ended.asked.contains("jobs[2].leave_reason")
        #expect(leaveReasonAsked, "an end given: why she left is asked")
        guard case .array(let jobs)? = ended.record?.json["answers"]?["career"]?["jobs"], jobs.count == 2 else {
            Issue.record("no jobs in the record")
            return
        }
        #expect(jobs[1]["job_to"] == .string("2024-03"))
    }
}
