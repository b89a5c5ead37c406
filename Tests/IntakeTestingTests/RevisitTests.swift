import Foundation
import IntakeDialogs
import IntakeEngine
@testable import IntakeTesting
import Testing

/// A later visit starts from the client's last record: each module is shown as it was, and kept or
/// gone through again; the record says what was confirmed and what changed.
@Suite struct RevisitTests {
    static let project = DialogConversationTests.project

    /// 愛子's intake record (the persona conversation's end).
    static func aikoRecord() throws -> JSON {
        let c = try #require(DialogConversationTests.conversations.first { $0.name.hasPrefix("愛子 — ") })
        let result = ConversationRunner(project: project).run(c)
        #expect(result.failure == nil)
        return try #require(result.record?.json)
    }

    static func engine(_ id: String) throws -> Engine {
        Engine(dialog: try #require(project.dialogs[id]), catalog: project.catalog)
    }

    static let visitDay = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))

    /// Answers every "still right?" with `answer(section)` and every other prompt with `other(path)`,
    /// until the final review; returns the state and every prompt shown.
    static func walk(_ engine: Engine, _ start: Engine.Step, check: (String) -> String,
                     other: (Prompt) -> String) -> (SessionState, [Prompt]) {
        var state = start.state
        var effects = start.effects
        var shown: [Prompt] = []
        var now = visitDay
        for _ in 0..<400 {
            guard case .ask(let p)? = effects.last else { break }
            shown.append(p)
            now.epochMillis += 1000
            let input = p.path.sectionOfCheck.map(check) ?? other(p)
            let step = engine.handle(.answer(input), state, at: now)
            state = step.state
            effects = step.effects
        }
        return (state, shown)
    }

    @Test func confirmingEveryModuleKeepsTheWholeRecordAndChangesNothing() throws {
        let record = try Self.aikoRecord()
        let engine = try Self.engine("intake")
        let carried = Carried(previous: "s-aiko", previousDate: "2026-10-01",
                              answers: engine.dialog.carriedAnswers(records: [try IntakeRecord(json: record)]))
        let start = engine.start(locale: "ja", mode: .kiosk, carrying: carried, at: Self.visitDay)
        guard case .notice(let notice)? = start.effects.first else { Issue.record("no notice"); return }
        #expect(notice.key == "engine.revisit.started")
        #expect(notice.text.hasPrefix("前回（2026-10-01）の記録から始めます。"))
        var others: [String] = []
        let (state, shown) = Self.walk(engine, start, check: { _ in "1" }, other: { others.append($0.display); return "" })
        #expect(others == [], "only the 'still right?' prompts are asked when nothing changed")
        // Every module she answered was shown once, with her answers in words.
        #expect(shown.map(\.display) == ["consent?", "family?", "childcare?", "career?", "inventory?", "plan?", "wishes?", "wellbeing?", "needs?"])
        let family = try #require(shown.first { $0.display == "family?" })
        #expect(family.previous.contains { $0.answer == "離婚" })
        #expect(family.choices.map(\.label) == ["変わりない", "変えるところがある"])
        #expect(state.phase == .reviewing)
        let done = engine.handle(.finish, state, at: Self.visitDay)
        let again = try #require(engine.lastRecord(done.state)?.json)
        #expect(again["answers"] == record["answers"])
        #expect(again["suggestions"] == record["suggestions"])
        let visit = try #require(again["visit"])
        #expect(visit["previous"] == .string("s-aiko"))
        #expect(visit["changes"] == .array([]))
        #expect(visit["sections"]?["wishes"] == .string("confirmed"))
    }

    @Test func changingAModuleOffersEachOldAnswerAndRecordsOnlyWhatDiffers() throws {
        let record = try Self.aikoRecord()
        let engine = try Self.engine("intake")
        let carried = Carried(previous: "s-aiko", previousDate: "2026-10-01", answers: engine.dialog.carriedAnswers(records: [try IntakeRecord(json: record)]))
        let start = engine.start(locale: "ja", mode: .counselor, carrying: carried, at: Self.visitDay)
        var offered: [String: String] = [:]
        let (state, _) = Self.walk(engine, start, check: { $0 == "wishes" ? "2" : "1" }, other: { p in
            // Counselor-only questions she was never asked at the kiosk come as new questions.
            guard let current = p.current else { return p.required ? "1" : "" }
            offered[p.display] = current
            return p.display == "days_per_week" ? "4" : ""
        })
        #expect(offered["days_per_week"] == "5")
        #expect(offered["pay_unit"] == "時給（1時間いくら）")
        #expect(state.phase == .reviewing)
        let done = engine.handle(.finish, state, at: Self.visitDay)
        let visit = try #require(engine.lastRecord(done.state)?.json["visit"])
        let changes = try #require({ if case .array(let a)? = visit["changes"] { return a } else { return nil } }())
        let days = changes.first { $0["question"] == .string("days_per_week") }
        #expect(days?["before"] == .int(5))
        #expect(days?["after"] == .int(4))
        #expect(visit["sections"]?["wishes"] == .string("changed"))
        #expect(visit["sections"]?["family"] == .string("confirmed") || visit["sections"]?["family"] == .string("changed"))
        // Enter kept every other wish as it was.
        #expect(!changes.contains { $0["question"] == .string("desired_pay") })
    }

    @Test func aFollowUpCarriesOnlyTheModulesItSharesAndAsksItsOwnAfresh() throws {
        let record = try Self.aikoRecord()
        let engine = try Self.engine("followup")
        let carried = Carried(previous: "s-aiko", previousDate: nil, answers: engine.dialog.carriedAnswers(records: [try IntakeRecord(json: record)]))
        let start = engine.start(locale: "ja", mode: .counselor, carrying: carried, at: Self.visitDay)
        #expect(start.state.revisit?.sections == ["plan", "wishes"])
        guard case .ask(let first)? = start.effects.last else { Issue.record("no question"); return }
        #expect(first.display == "found_work")
        #expect(start.state.answers[Path("found_work")] == nil)
    }

    @Test func answersThatNoLongerFitAreLeftOutQuietly() throws {
        let record = try Self.aikoRecord()
        let engine = try Self.engine("intake")
        var answers = engine.dialog.carriedAnswers(records: [try IntakeRecord(json: record)])
        answers[Path("no_such_question")] = .value(.text("x"))
        answers[Path("days_per_week")] = .value(.text("five"))  // not a number any more
        answers[Path("plan?")] = .value(.bool(true))             // a check is never carried
        let start = engine.start(locale: "ja", mode: .kiosk, carrying: Carried(previous: "p", previousDate: nil, answers: answers),
                                 at: Self.visitDay)
        #expect(start.state.answers[Path("no_such_question")] == nil)
        #expect(start.state.answers[Path("days_per_week")] == nil)
        #expect(start.state.answers[Path("plan?")] == nil)
        #expect(!start.effects.contains { if case .dropped = $0 { true } else { false } })
        // The rest came along.
        #expect(start.state.answers[Path("desired_pay")]?.answer == .value(.int(1000)))
    }

    @Test func aRecordsRepeatGroupsComeBackWithTheirAddAnotherAnswers() throws {
        let record = try Self.aikoRecord()
        let dialog = try #require(Self.project.dialogs["intake"])
        let answers = dialog.carriedAnswers(records: [try IntakeRecord(json: record)])
        // Children come back by count; her one earlier job by "add another?" yes, then no.
        #expect(answers[Path("age", [1])] != nil)
        let jobsPrompts = answers.keys.filter { $0.groupOfMorePrompt == "jobs" }.sorted()
        #expect(!jobsPrompts.isEmpty)
        #expect(answers[jobsPrompts.last ?? Path("")] == .value(.bool(false)))
    }

    @Test func theSuiteRunsALaterVisitAfterTheConversationItFollows() throws {
        let result = try #require(DialogConversationTests.suite.results.first { $0.conversation.previous != nil })
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.actual.changed?.contains("hours_to") == true)
    }

    @Test func aPreviousThatNamesNoConversationFails() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prev-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tests"), withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Dialogs").path) where f.hasSuffix(".yaml") {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Dialogs/" + f), to: dir.appendingPathComponent(f))
        }
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Dialogs/modules"), to: dir.appendingPathComponent("modules"))
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Dialogs/sheets"), to: dir.appendingPathComponent("sheets"))
        try """
        dialog: followup
        conversations:
          - name: lost
            previous: nobody
            steps: []
        """.write(to: dir.appendingPathComponent("tests/lost.yaml"), atomically: true, encoding: .utf8)
        let project = Project.load(paths: [dir.path], localesDirectory: packageRoot.appendingPathComponent("Locales").path)
        let suite = TestSuite.run(project)
        #expect(suite.results.first?.failure == "previous: no conversation is named 'nobody'")
        #expect(suite.failed == 1)
    }
}
