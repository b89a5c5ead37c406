import Testing
@testable import IntakeEngine

/// A suggestion cites the answers that made its rule true, not every answer the rule read
/// (issue 17: the twilight-care reason cited a 小5 child).
@Suite struct SuggestionReasonTests {
    static func expr(_ text: String) throws -> Expr {
        let result = ExprParser.parse(text)
        if case .failure(let issue) = result { Issue.record("\(text): \(issue.code) at \(issue.offset)") }
        return try #require(try? result.get())
    }

    static func dialog() throws -> Dialog {
        let choices = { (values: [String]) in values.map { Choice(value: $0, label: "x.\($0)") } }
        return Dialog(
            id: "reasons", version: "1", title: "t",
            items: [
                .question(Question(id: "hours_to", kind: .integer(min: 0, max: 24), text: "q.hours_to")),
                .question(Question(id: "weekends_ok", kind: .yesNo, text: "q.weekends_ok")),
                .question(Question(id: "money", kind: .single(choices(["short", "fine"])), text: "q.money")),
                .question(Question(id: "children_count", kind: .integer(min: 0, max: 5), text: "q.children_count")),
                .group(RepeatGroup(id: "children", title: "g.children", count: .from(try expr("children_count")), max: 5, items: [
                    .question(Question(id: "age", kind: .integer(min: 0, max: 20), text: "q.age")),
                    .question(Question(id: "stage", kind: .single(choices(["infant", "preschool", "elem_low", "elem_high"])), text: "q.stage")),
                    .question(Question(id: "evening_care", kind: .single(choices(["yes", "none"])), text: "q.evening_care")),
                ])),
            ],
            computed: [
                ComputedValue(id: "has_small_child", expr: try expr("any(children, age <= 5 or stage in ['infant', 'preschool'])")),
                ComputedValue(id: "no_evening_care", expr: try expr("count(children, evening_care == 'none') > 0")),
            ])
    }

    /// Emi: works until 19:00, not on weekends; a 小2 child (7) and a 小5 child (10).
    static let emi: [Path: Answer] = [
        Path("hours_to"): .value(.int(19)), Path("weekends_ok"): .value(.bool(false)), Path("money"): .value(.choice("fine")),
        Path("children_count"): .value(.int(2)),
        Path("age", [0]): .value(.int(7)), Path("stage", [0]): .value(.choice("elem_low")), Path("evening_care", [0]): .value(.choice("none")),
        Path("age", [1]): .value(.int(10)), Path("stage", [1]): .value(.choice("elem_high")), Path("evening_care", [1]): .value(.choice("yes")),
    ]

    func because(_ rule: String, _ answers: [Path: Answer]) throws -> [Path] {
        var ev = Evaluator(dialog: try Self.dialog(), answers: answers.mapValues { AnswerEntry($0, at: 0) },
                           today: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))
        let e = try Self.expr(rule)
        #expect(try ev.evaluate(e, in: .root) == .bool(true), "the rule holds")
        return try ev.because(e, in: .root, is: true)
    }

    @Test func anyCitesOnlyTheChildrenWhoMatch() throws {
        // The twilight-care rule: the 小2 child, not the 小5 one; of `a or b` only the side that held.
        let paths = try because("(hours_to > 17 or weekends_ok) and any(children, stage in ['preschool', 'elem_low'])", Self.emi)
        #expect(paths == [Path("hours_to"), Path("stage", [0])])
    }

    @Test func orCitesTheSideThatHeld() throws {
        var weekend = Self.emi
        weekend[Path("hours_to")] = .value(.int(15))
        weekend[Path("weekends_ok")] = .value(.bool(true))
        // hours_to > 17 is false: the weekend answer made it true, and only it is cited.
        #expect(try because("hours_to > 17 or weekends_ok", weekend) == [Path("weekends_ok")])
    }

    @Test func andCitesBothSides() throws {
        #expect(try because("money == 'fine' and hours_to >= 19", Self.emi) == [Path("money"), Path("hours_to")])
    }

    @Test func notAndComputedValuesCiteWhatDecidedThem() throws {
        // No small child: every child is why (each is neither young enough nor at a small stage).
        #expect(try because("not has_small_child", Self.emi) == [Path("age", [0]), Path("stage", [0]), Path("age", [1]), Path("stage", [1])])
        var small = Self.emi
        small[Path("age", [1])] = .value(.int(4))
        small[Path("stage", [1])] = .value(.choice("preschool"))
        // A small child: the 4-year-old's age settles it (the `or` stops there); the 7-year-old is not cited.
        #expect(try because("has_small_child", small) == [Path("age", [1])])
    }

    @Test func aCountCitesTheInstancesItCounted() throws {
        #expect(try because("no_evening_care", Self.emi) == [Path("evening_care", [0])])
    }
}
