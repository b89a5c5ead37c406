@testable import IntakeEngine
import Testing

private func e(_ text: String) throws -> Expr { try ExprParser.parse(text).get() }

/// Values computed per repeat instance (`computed:` of a group): read in that instance's
/// conditions and texts, and across instances through `count/any/all/sum/min/max`.
@Suite struct InstanceComputedTests {
    /// Children with an age; per child a stage from her age, whether she is small, whether she
    /// has no evening care, and the years until school. Daycare is asked for a small child only.
    static func dialog() throws -> Dialog {
        Dialog(id: "ic", version: "1", title: "t", items: [
            .question(Question(id: "n", kind: .integer(min: 1, max: 5), text: "q.n")),
            .group(RepeatGroup(id: "children", title: "g.children", count: .from(try e("n")), max: 5, items: [
                .question(Question(id: "age", kind: .integer(min: 0, max: 20), text: "q.age")),
                .question(Question(id: "daycare", kind: .yesNo, text: "q.daycare", when: try e("small"))),
                .question(Question(id: "evening", kind: .single([Choice(value: "yes", label: "c.yes"), Choice(value: "none", label: "c.none")]),
                                   text: "q.evening", when: try e("stage != 'older'"),
                                   checks: [Check(expect: try e("value == 'yes' or small"), soft: false, message: "q.evening.check")])),
            ], computed: [
                ComputedValue(id: "stage", expr: try e("if(age <= 5, 'small', if(age <= 8, 'school', 'older'))")),
                ComputedValue(id: "small", expr: try e("stage == 'small'")),
                ComputedValue(id: "no_evening_care", expr: try e("evening == 'none'")),
                ComputedValue(id: "years_to_school", expr: try e("if(age < 6, 6 - age, 0)")),
            ])),
            .group(RepeatGroup(id: "care", title: "g.care", count: .each("children"), max: 5, items: [
                .question(Question(id: "where", kind: .text(maxLength: nil), text: "q.where", when: try e("small"))),
            ])),
            .question(Question(id: "plan", kind: .text(maxLength: nil), text: "q.plan")),
        ], computed: [
            ComputedValue(id: "small_children", expr: try e("count(children, small)")),
            ComputedValue(id: "has_small_child", expr: try e("any(children, small)")),
            ComputedValue(id: "evening_care_missing", expr: try e("any(children, no_evening_care)")),
            ComputedValue(id: "years", expr: try e("sum(children, years_to_school)")),
            ComputedValue(id: "soonest", expr: try e("min(children, years_to_school)")),
            ComputedValue(id: "latest", expr: try e("max(children, years_to_school)")),
            ComputedValue(id: "all_small", expr: try e("all(children, small)")),
        ], suggestions: [
            SuggestionRule(id: "daycare_help", when: try e("any(children, small)"), message: "s.daycare"),
        ])
    }

    static let catalog: Catalog = {
        var c = Catalog()
        for k in EngineStrings.keys { c.set(k, k, in: "ja") }
        for (k, v) in ["t": "t", "q.n": "人数", "g.children": "{n}人目", "g.care": "{n}人目（保育）", "q.age": "{n}人目の年齢",
                       "q.daycare": "{n}人目（{computed.stage}、入学まで{computed.years_to_school}年）は保育園に通っていますか",
                       "q.daycare.help": "小さいお子さん：{computed.small_children}人",
                       "q.evening": "{n}人目の夜の預け先", "c.yes": "ある", "c.none": "ない",
                       "q.evening.check": "小学生の夜の預け先は「ある」だけです",
                       "q.where": "{n}人目（{computed.stage}）の預け先", "q.plan": "計画（{computed.stage}）", "s.daycare": "保育の案内",
                       "engine.yes": "はい", "engine.no": "いいえ"] {
            c.set(k, v, in: "ja")
        }
        return c
    }()

    struct Run {
        let engine: Engine
        var state: SessionState
        var effects: [Effect]
        var now = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))

        init(_ dialog: Dialog) {
            engine = Engine(dialog: dialog, catalog: InstanceComputedTests.catalog)
            let step = engine.start(locale: "ja", at: now)
            state = step.state
            effects = step.effects
        }

        mutating func send(_ answers: String...) {
            for a in answers {
                now.epochMillis += 1000
                let step = engine.handle(.answer(a), state, at: now)
                state = step.state
                effects = step.effects
            }
        }

        var prompt: Prompt? { if case .ask(let p)? = effects.last { return p } else { return nil } }
        var asked: String? { prompt?.display }
    }

    @Test func aPerChildValueDecidesThatChildsQuestionsOnly() throws {
        var run = Run(try Self.dialog())
        run.send("2", "4")
        #expect(run.asked == "children[1].daycare", "the first child is 4: small, so daycare is asked")
        run.send("はい")
        #expect(run.asked == "children[1].evening")
        run.send("ない", "10")
        #expect(run.asked == "care[1].where", "the second child is 10: neither daycare nor evening care is asked")
        run.send("祖母")
        #expect(run.asked == "plan", "the each-group sees the value of the child it follows: not asked for the 10-year-old")
        #expect(run.state.answers[Path("daycare", [1])] == nil)
        #expect(run.state.answers[Path("evening", [1])] == nil)
        #expect(run.state.answers[Path("where", [1])] == nil)
    }

    @Test func aCheckReadsTheValueOfTheInstanceBeingAnswered() throws {
        var run = Run(try Self.dialog())
        run.send("2", "4", "はい", "ない")
        #expect(run.asked == "children[2].age", "the 4-year-old is small: no evening care is accepted")
        run.send("7")
        #expect(run.asked == "children[2].evening")
        run.send("ない")
        #expect(run.effects.first == .invalid(Message(key: "q.evening.check", text: "小学生の夜の預け先は「ある」だけです")),
                "the 7-year-old is not small: the check holds her to it")
        #expect(run.asked == "children[2].evening")
        run.send("ある")
        #expect(run.asked == "care[1].where")
    }

    @Test func aggregatesAtTheRootReadTheValueInEachInstance() throws {
        var run = Run(try Self.dialog())
        run.send("3", "4", "はい", "ない", "2", "いいえ", "ある", "10", "祖母", "保育園", "計画")
        let computed = run.engine.record(run.state).json["computed"]
        #expect(computed == .object([("small_children", .int(2)), ("has_small_child", .bool(true)), ("evening_care_missing", .bool(true)),
                                     ("years", .int(6)), ("soonest", .int(0)), ("latest", .int(4)), ("all_small", .bool(false))]),
                "two small children (4 and 2), the first with no evening care; 2 + 4 + 0 years to school; per-child values are not listed")
    }

    @Test func aSuggestionCitesTheAnswersOfTheInstancesWhereThePerChildValueHolds() throws {
        var run = Run(try Self.dialog())
        run.send("2", "10", "3", "いいえ", "ある", "保育園", "計画")
        let fired = run.engine.record(run.state).json["suggestions"]
        guard case .array(let rules)? = fired else { Issue.record("no suggestions"); return }
        #expect(rules.count == 1)
        #expect(rules.first?["because"] == .object([("children[2].age", .int(3))]), "the 3-year-old, not the 10-year-old")
    }

    @Test func textsInsideTheInstanceShowItsValue() throws {
        var run = Run(try Self.dialog())
        run.send("2", "10", "2")
        #expect(run.asked == "children[2].daycare")
        #expect(run.prompt?.text == "2人目（small、入学まで4年）は保育園に通っていますか")
        #expect(run.prompt?.help == "小さいお子さん：1人", "a dialog-wide value beside it is filled as before")
        run.send("いいえ", "ある")
        #expect(run.asked == "care[2].where")
        #expect(run.prompt?.text == "2人目（small）の預け先", "an each-group's question shows the value of the child it follows")
        run.send("祖母")
        #expect(run.asked == "plan")
        #expect(run.prompt?.text == "計画（—）", "outside the group there is no instance to read it in")
    }

    @Test func theValueIsReadInTheInstanceItIsEvaluatedIn() throws {
        let given: [Path: Answer] = [Path("n"): .value(.int(2)), Path("age", [0]): .value(.int(7)), Path("age", [1]): .value(.int(1))]
        let answers = given.mapValues { AnswerEntry($0, at: 0) }
        var ev = Evaluator(dialog: try Self.dialog(), answers: answers, today: CivilDate(year: 2026, month: 1, day: 1) ?? CivilDate(daysSinceEpoch: 0))
        #expect(try ev.evaluate(try e("stage"), in: Scope(indices: [0])) == .text("school"))
        #expect(try ev.evaluate(try e("stage"), in: Scope(indices: [1])) == .text("small"))
        #expect(try ev.evaluate(try e("count(children, stage == 'small')"), in: .root) == .int(1))
        var failed = false
        do { _ = try ev.evaluate(try e("stage"), in: .root) } catch { failed = true }
        #expect(failed, "outside any instance there is no child to read it for")
        #expect(!ev.holds(try e("small"), in: .root), "outside any instance a per-instance value does not hold")
        #expect(try ev.evaluate(try e("years_to_school + 1"), in: Scope(indices: [1])) == .int(6))
    }

    @Test func theTypeCheckerKeepsAPerInstanceValueInsideItsGroup() throws {
        let index = try Self.dialog().index
        func issues(_ text: String, scope: [String] = []) throws -> [String] {
            var checker = TypeChecker(index: index, settings: [:], scope: scope)
            _ = checker.check(try e(text), expecting: .bool)
            return checker.issues.map { $0.code + ($0.args["group"].map { ":" + $0 } ?? "") }
        }
        #expect(try issues("small") == ["expr-computed-out-of-scope:children"])
        #expect(try issues("small", scope: ["children"]) == [])
        #expect(try issues("small", scope: ["care"]) == [], "an each-group walks the same instances")
        #expect(try issues("count(children, small) > 1 and any(care, no_evening_care) and sum(children, years_to_school) > 2") == [])
        #expect(try issues("stage > 3", scope: ["children"]) == ["expr-mismatch"])
        #expect(try issues("sum(children, stage) > 3") == ["expr-type"])
        #expect(try issues("stage", scope: ["children"]) == ["expr-type"], "text where yes/no is needed")
    }

    @Test func nestedGroupsReadTheOuterInstancesValueAndAggregateTheInnerOnes() throws {
        let d = Dialog(id: "nest", version: "1", title: "t", items: [
            .question(Question(id: "n", kind: .integer(min: 1, max: 5), text: "q.n")),
            .group(RepeatGroup(id: "jobs", title: "g.jobs", count: .from(try e("n")), items: [
                .question(Question(id: "years", kind: .integer(min: 0, max: nil), text: "q.years")),
                .question(Question(id: "m", kind: .integer(min: 0, max: 5), text: "q.m")),
                .group(RepeatGroup(id: "tasks", title: "g.tasks", count: .from(try e("m")), items: [
                    .question(Question(id: "hours", kind: .integer(min: 0, max: nil), text: "q.hours")),
                ], computed: [ComputedValue(id: "long", expr: try e("hours > 4 and senior"))])),
            ], computed: [ComputedValue(id: "senior", expr: try e("years >= 5"))])),
        ])
        let given: [Path: Answer] = [
            Path("n"): .value(.int(2)),
            Path("years", [0]): .value(.int(6)), Path("m", [0]): .value(.int(2)),
            Path("hours", [0, 0]): .value(.int(8)), Path("hours", [0, 1]): .value(.int(2)),
            Path("years", [1]): .value(.int(1)), Path("m", [1]): .value(.int(1)), Path("hours", [1, 0]): .value(.int(9)),
        ]
        var ev = Evaluator(dialog: d, answers: given.mapValues { AnswerEntry($0, at: 0) }, today: CivilDate(daysSinceEpoch: 0))
        #expect(try ev.evaluate(try e("long"), in: Scope(indices: [0, 0])) == .bool(true))
        #expect(try ev.evaluate(try e("long"), in: Scope(indices: [1, 0])) == .bool(false), "nine hours, but in the second (junior) job")
        #expect(try ev.evaluate(try e("count(tasks, long)"), in: Scope(indices: [0])) == .int(1))
        #expect(try ev.evaluate(try e("sum(jobs, count(tasks, long))"), in: .root) == .int(1))
        #expect(try ev.evaluate(try e("all(jobs, senior)"), in: .root) == .bool(false))

        func issues(_ text: String, scope: [String]) throws -> [String] {
            var checker = TypeChecker(index: d.index, settings: [:], scope: scope)
            _ = checker.check(try e(text), expecting: .bool)
            return checker.issues.map(\.code)
        }
        #expect(try issues("senior and long", scope: ["jobs", "tasks"]) == [])
        #expect(try issues("long", scope: ["jobs"]) == ["expr-computed-out-of-scope"])
        #expect(try issues("any(tasks, long) and senior", scope: ["jobs"]) == [])
        #expect(try issues("any(jobs, any(tasks, long))", scope: []) == [])
    }

    @Test func perInstanceValuesThatReadEachOtherAreACycle() throws {
        let d = Dialog(id: "c", version: "1", title: "t", items: [
            .question(Question(id: "n", kind: .integer(min: 1, max: 5), text: "q.n")),
            .group(RepeatGroup(id: "g", title: "g", count: .from(try e("n")), items: [
                .question(Question(id: "x", kind: .integer(min: nil, max: nil), text: "q.x")),
            ], computed: [ComputedValue(id: "p", expr: try e("q + x")), ComputedValue(id: "q", expr: try e("p + 1"))])),
        ])
        var checker = TypeChecker(index: d.index, settings: [:], scope: ["g"])
        _ = checker.check(try e("p > 1"))
        #expect(checker.issues.map(\.code) == ["expr-computed-cycle"])
        var ev = Evaluator(dialog: d, answers: [Path("n"): AnswerEntry(.value(.int(1)), at: 0), Path("x", [0]): AnswerEntry(.value(.int(1)), at: 0)],
                           today: CivilDate(daysSinceEpoch: 0))
        #expect(!ev.holds(try e("p > 1"), in: Scope(indices: [0])), "evaluation stops at the depth limit, not the stack")
    }
}
