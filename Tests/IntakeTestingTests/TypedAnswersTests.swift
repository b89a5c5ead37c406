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

    // MARK: やさしい日本語 labels typed without their word spaces

    /// Where a walk (`WordingTests.walk`'s answers and fallbacks) first asks `target`: the engine and
    /// the step that asks it.
    struct Reached {
        var engine: Engine
        var step: Engine.Step
        var now: Moment
    }

    static func reach(_ target: String, _ answers: [String: String], locale: String) throws -> Reached? {
        let dialog = try #require(DialogConversationTests.project.dialog("intake"))
        let engine = Engine(dialog: dialog, catalog: DialogConversationTests.project.catalog)
        var now = Moment.noon(of: WordingTests.today)
        var step = engine.start(locale: locale, mode: .kiosk, at: now)
        for _ in 0..<200 {
            guard let p = step.effects.lazy.compactMap({ if case .ask(let p) = $0 { return p } else { return nil } }).last else { break }
            if p.display == target { return Reached(engine: engine, step: step, now: now) }
            now.epochMillis += 1_000
            step = engine.handle(.answer(answers[p.display] ?? WordingTests.fallback(p)), step.state, at: now)
            if step.effects.contains(where: { if case .warn = $0 { return true } else { return false } }) {
                step = engine.handle(.confirm(reason: nil), step.state, at: now)
            }
        }
        return nil
    }

    /// What she is told after typing `text` at `target`, the question then asked, and the answer kept.
    struct Typed {
        var invalid: [String]
        var asked: String?
        var stored: Answer?
    }

    static func typed(_ text: String, at target: String, locale: String = "ja-easy") throws -> Typed {
        let at = try #require(try reach(target, WordingTests.base, locale: locale), "\(target) is never asked")
        let path = try #require(at.engine.dialog.parsePath(target))
        let step = at.engine.handle(.answer(text), at.step.state, at: Moment(epochMillis: at.now.epochMillis + 1_000, utcOffsetMinutes: at.now.utcOffsetMinutes))
        return Typed(invalid: step.effects.compactMap { if case .invalid(let m) = $0 { return m.text } else { return nil } },
                     asked: step.effects.lazy.compactMap { if case .ask(let p) = $0 { return p.display } else { return nil } }.last,
                     stored: step.state.answers[path]?.answer)
    }

    /// Labels of the intake dialog in やさしい日本語 typed run together: 「けっこん していない」,
    /// 「{今|いま}は こまっていない」, 「そのとき {相談|そうだん}して きめたい」 (one choice), 「けいたい {電話|でんわ}」
    /// (several).
    @Test(arguments: [("reason", "けっこんしていない", Value.choice("unmarried")), ("money_now", "いまはこまっていない", .choice("fine")),
                      ("disclose_employer", "そのときそうだんしてきめたい", .choice("later")),
                      ("contact_methods", "けいたいでんわ", .choices(["mobile"])),
                      ("contact_methods", "けいたいでんわ、メール", .choices(["mobile", "email"]))])
    func anEasyJapaneseLabelTypedWithoutItsWordSpacesIsTaken(question: String, text: String, value: Value) throws {
        let typed = try Self.typed(text, at: question)
        #expect(typed.invalid.isEmpty, "\(typed.invalid)")
        #expect(typed.asked != nil && typed.asked != question, "the next question follows")
        #expect(typed.stored == .value(value))
    }

    @Test func herReviewAndRecordShowTheLabelsSheTypedRunTogether() throws {
        let run = try WordingTests.walk(WordingTests.with([
            "reason": "けっこんしていない", "money_now": "いまはこまっていない", "disclose_employer": "そのときそうだんしてきめたい",
            "contact_methods": "けいたいでんわ、メール", "email": "hanako@example.jp",
        ]), locale: "ja-easy")
        // Each taken the first time (the walk types each answer once; a refusal asks again).
        for path in ["reason", "money_now", "disclose_employer", "contact_methods"] {
            let times = run.asked.filter { $0 == path }.count
            #expect(times == 1, "\(path)")
        }
        let answers = try #require(run.record?.json["answers"])
        #expect(answers["family"]?["reason"] == .string("unmarried"))
        #expect(answers["family"]?["money_now"] == .string("fine"))
        #expect(answers["consent"]?["disclose_employer"] == .string("later"))
        #expect(answers["consent"]?["contact_methods"] == .array([.string("mobile"), .string("email")]))
        // Her review shows the labels as they are written, with their spaces.
        let review = try #require(run.review)
        #expect(review.lines.first { $0.path == "reason" }?.answer == "けっこん していない")
        #expect(review.lines.first { $0.path == "contact_methods" }?.answer.hasPrefix("けいたい ") == true)
    }

    @Test func aWrongTextRunTogetherIsStillRefused() throws {
        // けっこんしている is no label, with spaces or without: refused, and the question asked again.
        let single = try Self.typed("けっこんしている", at: "reason")
        #expect(single.invalid.count == 1)
        #expect(single.invalid.first?.hasPrefix("1から5の ") == true, "\(single.invalid)")
        #expect(single.asked == "reason")
        // いえでんわ is not 「{家|いえ}の {電話|でんわ}」: the pick is named as not among the choices.
        let multi = try Self.typed("いえでんわ", at: "contact_methods")
        #expect(multi.invalid.count == 1)
        #expect(multi.invalid.first?.hasPrefix("「いえでんわ」は ありません。") == true, "\(multi.invalid)")
        #expect(multi.asked == "contact_methods")
        // …also beside a right one.
        #expect(try Self.typed("けいたいでんわ、いえでんわ", at: "contact_methods").asked == "contact_methods")
    }
}
