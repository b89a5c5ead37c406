import Foundation
import IntakeDialogs
import IntakeEngine
import Testing

/// The intake dialog as a client meets it (issue 17, "Questions and wording"): what she is asked,
/// in which words, and how many questions she is told are left. Driven through the engine on the
/// repository's dialogs and locales, answering each question as a persona would.
@Suite struct WordingTests {
    struct Seen {
        var prompt: Prompt
        var answer: String
    }

    struct Run {
        var seen: [Seen] = []
        var record: Record?
        /// The final review, before finishing.
        var review: Review?
        var asked: [String] { seen.map(\.prompt.display) }
        func prompt(_ path: String) -> Prompt? { seen.first { $0.prompt.display == path }?.prompt }
    }

    static let today = CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 20780)

    /// Walks the intake to its end: `answers` by display path (`children[1].age`, `jobs+2`), and
    /// for any other question the first choice, いいえ, 3, or Enter.
    static func walk(_ answers: [String: String], locale: String = "ja", today: CivilDate = today) throws -> Run {
        let project = DialogConversationTests.project
        let dialog = try #require(project.dialog("intake"))
        let engine = Engine(dialog: dialog, catalog: project.catalog)
        var now = Moment.noon(of: today)
        var step = engine.start(locale: locale, mode: .kiosk, at: now)
        var run = Run()
        for _ in 0..<400 {
            if let done = step.effects.lazy.compactMap({ if case .done(let r) = $0 { return r } else { return nil } }).first {
                run.record = done
                return run
            }
            if step.effects.contains(where: { if case .review = $0 { return true } else { return false } }),
               !step.effects.contains(where: { if case .ask = $0 { return true } else { return false } }) {
                run.review = step.effects.lazy.compactMap { if case .review(let r) = $0 { return r } else { return nil } }.first
                now.epochMillis += 1_000
                step = engine.handle(.finish, step.state, at: now)
                continue
            }
            guard let p = step.effects.lazy.compactMap({ if case .ask(let p) = $0 { return p } else { return nil } }).last else {
                Issue.record("no question and no end: \(step.effects)")
                return run
            }
            let answer = answers[p.display] ?? Self.fallback(p)
            run.seen.append(Seen(prompt: p, answer: answer))
            now.epochMillis += 1_000
            step = engine.handle(.answer(answer), step.state, at: now)
            if step.effects.contains(where: { if case .warn = $0 { return true } else { return false } }) {
                step = engine.handle(.confirm(reason: nil), step.state, at: now)
            }
        }
        Issue.record("the walk did not end: \(run.seen.suffix(6).map { "\($0.prompt.display) > \($0.answer)" })")
        return run
    }

    static func fallback(_ p: Prompt) -> String {
        switch p.kind {
        case "yesno": return "いいえ"
        case "choice", "multi": return "1"
        case "integer": return "3"
        case "date": return "平成2年1月15日"
        case "month": return "2020-04"
        case "time": return p.display == "hours_to" ? "17時" : "8時半"
        default: return p.required ? "ふつう" : ""
        }
    }

    static let base: [String: String] = [
        "consent_record": "はい", "share_counselors": "はい", "contact_methods": "2", "phone": "090-1234-5678",
        "name": "山田 花子", "birth_date": "平成2年1月15日", "parent_type": "1", "reason": "1",
        "education": "3", "plan_now": "1", "hours_from": "9", "hours_to": "15",
    ]

    static func with(_ more: [String: String]) -> [String: String] { base.merging(more) { $1 } }

    // MARK: the only child

    @Test func oneChildIsOsakosanNotTheFirstChild() throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "4"]))
        let age = try #require(run.prompt("children[1].age"))
        #expect(age.text == "お子さんは何歳ですか？")
        #expect(age.context.contains("お子さん"))
        #expect(!age.context.contains("1人目のお子さん"))
        #expect(run.prompt("care[1].current_care")?.text == "お子さんは、昼間おもにどこで過ごしていますか？")
        #expect(run.prompt("children[1].special_needs")?.text.hasPrefix("お子さんに、") == true)
        // …and so does the review of her answers.
        let line = try #require(run.review?.lines.first { $0.path == "children[1].age" })
        #expect(line.context.contains("お子さん") && !line.context.contains("1人目のお子さん"), "\(line.context)")
    }

    @Test func twoChildrenAreCounted() throws {
        let run = try Self.walk(Self.with(["children_count": "2", "children[1].age": "4", "children[2].age": "1"]))
        #expect(run.prompt("children[1].age")?.text == "1人目のお子さんは何歳ですか？")
        #expect(run.prompt("children[2].age")?.text == "2人目のお子さんは何歳ですか？")
        #expect(run.prompt("children[2].age")?.context.contains("2人目のお子さん") == true)
        #expect(run.review?.lines.first { $0.path == "children[1].age" }?.context.contains("1人目のお子さん") == true)
    }

    // MARK: the stage follows from the age

    @Test func theStageIsAskedOnlyWhereTheAgeDoesNotDecideIt() throws {
        let run = try Self.walk(Self.with(["children_count": "2", "children[1].age": "4", "children[2].age": "6",
                                           "children[2].stage": "3"]))
        #expect(!run.asked.contains("children[1].stage"))
        #expect(run.asked.contains("children[2].stage"))
        let children = run.record?.json["answers"]?["family"]?["children"]
        guard case .array(let kids)? = children, kids.count == 2 else {
            Issue.record("no children in the record")
            return
        }
        #expect(kids[0]["stage"] == .string("preschool"))
        #expect(kids[1]["stage"] == .string("elem_low"))
    }

    // MARK: the year the youngest child starts school (the milestones hint)

    /// A child starts elementary school the April after she turns six. From her age alone it is
    /// one of two years: the hint names the one for most children of that age on that day (a
    /// 5-year-old in April or June is mostly in 年長: next April), and where the age leaves the
    /// class open (3, 6) the stage she gave decides it.
    @Test(arguments: [
        ("2026-04-20", "5", nil, "2027"), ("2026-06-10", "5", nil, "2027"), ("2026-09-30", "5", nil, "2027"),
        ("2026-10-01", "5", nil, "2028"), ("2026-11-23", "5", nil, "2028"), ("2027-02-15", "4", nil, "2029"),
        ("2026-11-23", "0", nil, "2033"), ("2026-11-23", "3", "1", "2030"), ("2026-11-23", "3", "2", "2029"),
        ("2027-03-20", "6", "2", "2027"), ("2026-06-10", "6", "2", "2027"), ("2026-11-23", "6", "3", "2026"),
    ] as [(String, String, String?, String)])
    func theMilestonesHintNamesTheYearTheYoungestStartsSchool(day: String, age: String, stage: String?, year: String) throws {
        let today = try #require(CivilDate(iso: day))
        var answers = Self.with(["children_count": "2", "children[1].age": "12", "children[1].stage": "5", "children[2].age": age])
        if let stage { answers["children[2].stage"] = stage }
        let run = try Self.walk(answers, today: today)
        let help = try #require(run.prompt("milestones")?.help)
        #expect(help.hasSuffix("小学校に入学する年（目安）：\(year)"), "\(day), \(age): \(help)")
    }

    // MARK: night work

    /// DOMAIN.md M6: night work is "no" by default when a child who needs evening care has none:
    /// not asked, and the record says no (the suggestion marks it as not possible). With evening
    /// care by relatives it is asked.
    @Test func nightWorkIsRecordedAsNoWithoutEveningCareAndAskedWithIt() throws {
        let children = ["children_count": "1", "children[1].age": "4", "care[1].current_care": "1"]
        let none = try Self.walk(Self.with(children.merging(["care[1].evening_care": "3"]) { $1 }))
        #expect(!none.asked.contains("night_work"))
        #expect(none.record?.json["answers"]?["wishes"]?["night_work"] == .bool(false))
        #expect(none.record?.suggestions.contains("night_work_impossible") == true)
        let relatives = try Self.walk(Self.with(children.merging(["care[1].evening_care": "2", "night_work": "はい"]) { $1 }))
        #expect(relatives.asked.contains("night_work"))
        #expect(relatives.record?.json["answers"]?["wishes"]?["night_work"] == .bool(true))
        #expect(relatives.record?.suggestions.contains("night_work_impossible") == false)
    }

    // MARK: the current job

    @Test func theCurrentJobIsAskedOnceAndInThePresentTense() throws {
        let run = try Self.walk(Self.with([
            "children_count": "1", "children[1].age": "12", "children[1].stage": "5",
            "work_status": "2", "current_title": "スーパーのレジ", "current_hours_week": "20", "current_pay_unit": "1",
            "current_pay": "1050", "jobs[1].job_from": "2020-04", "jobs[1].employer": "〇〇スーパー",
            "jobs[1].duties": "レジと品出し", "jobs+2": "はい", "jobs[2].job_from": "2015-04", "jobs[2].job_to": "2019-03",
            "jobs[2].job_title": "事務", "jobs[2].employment_type": "4", "jobs[2].duties": "データ入力", "jobs+3": "いいえ",
        ]))
        #expect(!run.asked.contains("has_history"))
        for path in ["jobs[1].job_to", "jobs[1].job_title", "jobs[1].employment_type"] { #expect(!run.asked.contains(path), "\(path)") }
        #expect(run.prompt("jobs[1].job_from")?.text == "いまのお仕事は、いつから働いていますか？（例：2015-04、平成27年4月）")
        #expect(run.prompt("jobs[1].employer")?.text.hasPrefix("いまの勤め先") == true)
        #expect(run.prompt("jobs[1].duties")?.text == "いまのお仕事では、主にどんなことをしていますか？")
        #expect(run.prompt("jobs[2].job_from")?.text == "2つ目のお仕事は、いつから働きましたか？（例：2015-04、平成27年4月）")
        #expect(run.prompt("jobs[2].duties")?.text == "主にどんなお仕事をしていましたか？")
        // The 棚卸し does not ask the tasks again.
        #expect(!run.asked.contains("job_inventory[1].tasks"))
        let answers = try #require(run.record?.json["answers"])
        #expect(answers["career"]?["has_history"] == .bool(true))
        guard case .array(let jobs)? = answers["career"]?["jobs"], jobs.count == 2 else {
            Issue.record("no jobs in the record")
            return
        }
        #expect(jobs[0]["job_title"] == .string("スーパーのレジ"))
        #expect(jobs[0]["employment_type"] == .string("part_time"))
        #expect(jobs[0]["job_to"] == nil)
        guard case .array(let inventory)? = answers["inventory"]?["job_inventory"], inventory.count == 2 else {
            Issue.record("no 棚卸し in the record")
            return
        }
        #expect(inventory[0]["tasks"] == .string("レジと品出し"))
    }

    // MARK: the 答えない hint

    @Test func theDeclineHintIsShownWithTheFirstSensitiveQuestionOnly() throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "4"]))
        let declinable = run.seen.map(\.prompt).filter(\.declinable)
        #expect(declinable.count > 5)
        #expect(declinable.first?.declineHint == true)
        #expect(declinable.dropFirst().allSatisfy { !$0.declineHint })
        #expect(run.seen.map(\.prompt).filter(\.declineHint).count == 1)
    }

    // MARK: the remaining estimate

    /// Each step's estimate against the last: the increases, with the question answered before each.
    static func increases(_ run: Run) -> [(after: String, by: Int)] {
        zip(run.seen, run.seen.dropFirst()).compactMap { a, b in
            b.prompt.remaining > a.prompt.remaining ? (a.prompt.display, b.prompt.remaining - a.prompt.remaining) : nil
        }
    }

    @Test func theRemainingEstimateNeverGoesUpForOneChildAndOneJob() throws {
        // Working, one child, one job; answers that open branches (working → the current job,
        // a 3-year-old's stage, seminars → 託児) along the way.
        let run = try Self.walk(Self.with([
            "children_count": "1", "children[1].age": "3", "children[1].stage": "1",
            "work_status": "2", "current_title": "レジ", "current_hours_week": "20", "current_pay_unit": "1",
            "current_pay": "1050", "jobs[1].job_from": "2020-04", "jobs[1].employer": "スーパー", "jobs[1].duties": "レジ",
            "jobs+2": "いいえ", "training_interest": "1", "target_qualifications": "1", "seminars": "1",
            "health": "2", "worries": "4", "licences+1": "はい", "licences[1].licence_name": "簿記",
            "licences[1].licence_year": "2015", "licences+2": "いいえ",
        ]))
        #expect(run.seen.count > 60)
        let up = Self.increases(run)
        // Adding a licence (add another? — yes) is the one answer that may add questions.
        #expect(up.allSatisfy { $0.after == "licences+1" }, "\(up)")
        #expect(run.seen.last?.prompt.remaining == 1)
    }

    @Test func theRemainingEstimateGoesUpOnlyWhenAnAnswerAddsInstances() throws {
        // Aiko: two small children, not working, 5 years at home after retail.
        let run = try Self.walk(Self.with([
            "children_count": "2", "children[1].age": "4", "children[2].age": "1", "care[1].current_care": "6",
            "care[2].current_care": "6", "work_status": "7", "has_history": "はい", "years_since_job": "5",
            "jobs[1].job_from": "2015-04", "jobs[1].job_to": "2020-03", "jobs+2": "いいえ", "plan_now": "1",
        ]))
        let up = Self.increases(run)
        // Only the number of children (two where one was counted) adds questions.
        #expect(up.allSatisfy { $0.after == "children_count" }, "\(up)")
        #expect(up.count <= 1)
        #expect(run.seen.first.map { $0.prompt.remaining } ?? 0 >= run.seen.count - 20)
    }

    @Test func cannotThinkAboutWorkYetAsksNoHelloWorkVisitAndNoWorkTrial() throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "17", "plan_now": "4"]))
        for path in ["accompany_hellowork", "work_trial", "job_fields", "request_card_ok"] { #expect(!run.asked.contains(path), "\(path)") }
        #expect(run.asked.contains("constraints"))
        #expect(run.asked.contains("start_when"))
        // A 17-year-old needs no 託児: neither for interviews nor for seminars.
        #expect(!run.asked.contains("needs_childcare_during"))
        #expect(!run.asked.contains("seminar_childcare"))
        #expect(run.record?.suggestions.contains("no_pushing") == true)
    }

    // MARK: 託児 is asked once

    /// needs_childcare_during asks about 託児 "この窓口での面談や、セミナー・講座を受けるとき": seminars
    /// included. Choosing a seminar does not ask her the same thing again (personas-4: Anita said
    /// no, then was asked again; this walk answered はい, then the fallback いいえ): her one answer
    /// is in the record, and no second one that could contradict it.
    @Test(arguments: [("はい", true), ("いいえ", false)])
    func seminarChildcareIsNotAskedAgainAfterTheChildcareQuestion(answer: String, needs: Bool) throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "7", "needs_childcare_during": answer,
                                           "seminars": "2"]))
        #expect(run.asked.contains("needs_childcare_during"))
        #expect(run.asked.contains("seminars"))
        #expect(!run.asked.contains { $0.hasPrefix("seminar_") }, "\(run.asked.suffix(4))")
        #expect(run.record?.json["answers"]?["childcare"]?["needs_childcare_during"] == .bool(needs))
        #expect(run.record?.json["answers"]?["needs"]?["seminar_childcare"] == nil)
    }

    // MARK: missing choices and the twilight rule

    @Test func aTenantInArrearsGetsTheHousingSuggestionAndSpousalSupportIsAnIncome() throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "12", "children[1].stage": "5",
                                           "reason": "4", "housing": "賃貸だが、家賃を滞納している・退去を求められている",
                                           "income_sources": "婚姻費用"]))
        let family = try #require(run.record?.json["answers"]?["family"])
        #expect(family["housing"] == .string("rent_arrears"))
        #expect(family["income_sources"] == .array([.string("spousal_support")]))
        #expect(run.record?.suggestions.contains("housing_support") == true)
    }

    @Test func aThreeYearOldStillInTheYoungestClassCountsForTwilightCare() throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "3", "children[1].stage": "1",
                                           "weekends_ok": "はい"]))
        #expect(run.record?.json["answers"]?["family"]?["children"] == .array([.object([
            ("age", .int(3)), ("stage", .string("infant")), ("special_needs", .bool(false))])]))
        #expect(run.record?.suggestions.contains("twilight_care") == true)
    }

    // MARK: やさしい日本語

    @Test func easyJapaneseSuggestionsAreAsCompleteAsTheJapanese() throws {
        let run = try Self.walk(Self.with(["children_count": "1", "children[1].age": "3", "children[1].stage": "1",
                                           "plan_now": "4", "health": "1", "anxiety": "1"]), locale: "ja-easy")
        let shown = try #require(run.record?.shown)
        let fired = try #require(run.record?.suggestions)
        let noPushing = try #require(fired.firstIndex(of: "no_pushing"))
        #expect(shown[noPushing].contains("くぎり"), "at the child's next milestone")
        let catalog = DialogConversationTests.project.catalog
        #expect(catalog.text("suggest.mothers_hellowork", "ja-easy").contains("{settings.mothers_hellowork_place}"))
        #expect(catalog.text("suggest.twilight_care", "ja-easy").contains("{settings.twilight_resource}"))
        #expect(catalog.text("suggest.no_history_path", "ja-easy").contains("つよみを しる セミナー"))
        // 社会福祉協議会 is explained, not only spelt out in kana.
        #expect(catalog.text("consent.share_outside.council", "ja-easy").contains("こまりごとを"))
        #expect(!catalog.text("childcare.current_care.help", "ja-easy").contains("ようじ"))
        #expect(catalog.text("engine.invalid.min", "ja-easy", ["min": "1"]) == "1か、それより おおきい かず（1いじょう）を いれてください。")
        #expect(catalog.text("engine.invalid.max", "ja-easy", ["max": "10"]) == "10か、それより ちいさい かず（10いか）を いれてください。")
        #expect(catalog.text("run.done", "ja-easy", ["status": catalog.text("run.status.complete", "ja-easy")]) == "ありがとう ございました。ぜんぶ こたえました。")
    }
}
