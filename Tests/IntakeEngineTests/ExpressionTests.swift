import Testing
@testable import IntakeEngine

// MARK: - Fixture

/// A dialog with one question of every kind, a repeat group sized by a count, and nested add-another
/// groups, for the expression tests.
private enum ExprFixture {
    static func expr(_ text: String) throws -> Expr {
        let result = ExprParser.parse(text)
        if case .failure(let issue) = result {
            Issue.record("\(text): \(issue.code) at \(issue.offset)")
        }
        return try #require(try? result.get())
    }

    static func dialog() throws -> Dialog {
        let choices = { (values: [String]) in values.map { Choice(value: $0, label: "x.\($0)") } }
        return Dialog(
            id: "expr", version: "1", title: "expr.title",
            items: [
                .question(Question(id: "a", kind: .integer(min: nil, max: nil), text: "q.a")),
                .question(Question(id: "b", kind: .integer(min: nil, max: nil), text: "q.b")),
                .question(Question(id: "d", kind: .decimal(min: nil, max: nil), text: "q.d")),
                .question(Question(id: "flag", kind: .yesNo, text: "q.flag")),
                .question(Question(id: "name", kind: .text(maxLength: nil), text: "q.name")),
                .question(Question(id: "birth", kind: .date(min: nil, max: nil), text: "q.birth")),
                .question(Question(id: "reason", kind: .single(choices(["divorce", "bereavement", "unmarried", "other"])),
                                   text: "q.reason", declinable: true)),
                .question(Question(id: "share", kind: .multi(choices(["hellowork", "center", "welfare", "none"]), minPicks: nil, maxPicks: nil),
                                   text: "q.share")),
                .question(Question(id: "children_count", kind: .integer(min: 0, max: nil), text: "q.children_count")),
                .group(RepeatGroup(id: "children", title: "g.children", count: .from(try expr("children_count")), max: 20, items: [
                    .question(Question(id: "child_age", kind: .integer(min: 0, max: nil), text: "q.child_age")),
                    .question(Question(id: "care", kind: .single(choices(["daycare", "none"])), text: "q.care")),
                ])),
                .group(RepeatGroup(id: "jobs", title: "g.jobs", count: .addAnother(prompt: "g.jobs.more"), max: 5, items: [
                    .question(Question(id: "employer", kind: .text(maxLength: nil), text: "q.employer")),
                    .group(RepeatGroup(id: "tasks", title: "g.tasks", count: .addAnother(prompt: "g.tasks.more"), max: 5, items: [
                        .question(Question(id: "task", kind: .text(maxLength: nil), text: "q.task")),
                    ])),
                ])),
            ],
            computed: [
                ComputedValue(id: "double_a", expr: try expr("a * 2")),
                ComputedValue(id: "kids", expr: try expr("count(children)")),
            ],
            settings: ["young_child_age": .int(6), "office": .text("north")])
    }

    static let today = CivilDate(year: 2024, month: 4, day: 1) ?? CivilDate(daysSinceEpoch: 0)

    static func entries(_ answers: [Path: Answer]) -> [Path: AnswerEntry] {
        answers.mapValues { AnswerEntry($0, at: 0) }
    }

    /// Three children aged 2, 7 and 12; the first is cared for nowhere.
    static let family: [Path: Answer] = [
        Path("children_count"): .value(.int(3)),
        Path("child_age", [0]): .value(.int(2)), Path("care", [0]): .value(.choice("none")),
        Path("child_age", [1]): .value(.int(7)),
        Path("child_age", [2]): .value(.int(12)),
    ]

    /// Two jobs: the first with two tasks, the second with none.
    static let work: [Path: Answer] = [
        .morePrompt("jobs", outer: [], instance: 0): .value(.bool(true)),
        Path("employer", [0]): .value(.text("X")),
        .morePrompt("tasks", outer: [0], instance: 0): .value(.bool(true)),
        Path("task", [0, 0]): .value(.text("a")),
        .morePrompt("tasks", outer: [0], instance: 1): .value(.bool(true)),
        Path("task", [0, 1]): .value(.text("b")),
        .morePrompt("tasks", outer: [0], instance: 2): .value(.bool(false)),
        .morePrompt("jobs", outer: [], instance: 1): .value(.bool(true)),
        Path("employer", [1]): .value(.text("Y")),
        .morePrompt("tasks", outer: [1], instance: 0): .value(.bool(false)),
        .morePrompt("jobs", outer: [], instance: 2): .value(.bool(false)),
    ]

    static func evaluate(_ text: String, _ answers: [Path: Answer] = [:], scope: Scope = .root,
                         value: Value? = nil, today: CivilDate = today) throws -> Value? {
        var ev = Evaluator(dialog: try dialog(), answers: entries(answers), today: today, value: value)
        return try ev.eval(try expr(text), in: scope)
    }

    static func holds(_ text: String, _ answers: [Path: Answer] = [:], scope: Scope = .root) throws -> Bool {
        var ev = Evaluator(dialog: try dialog(), answers: entries(answers), today: today)
        return ev.holds(try expr(text), in: scope)
    }

    static func date(_ iso: String) throws -> Value {
        .date(try #require(CivilDate(iso: iso)))
    }
}

/// The tree as an s-expression, to see how the parser grouped things.
private func sexp(_ e: Expr) -> String {
    switch e.node {
    case .literal(let v):
        switch v {
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .decimal(let d): return String(d)
        case .text(let s), .choice(let s): return "'\(s)'"
        case .date(let d): return d.iso
        case .choices(let c): return c.joined(separator: "|")
        }
    case .null: return "null"
    case .list(let items): return "[" + items.map(sexp).joined(separator: " ") + "]"
    case .name(let n): return n
    case .setting(let k): return "settings.\(k)"
    case .unary(let op, let x): return "(\(op == .not ? "not" : "neg") \(sexp(x)))"
    case .binary(let op, let a, let b): return "(\(op.rawValue) \(sexp(a)) \(sexp(b)))"
    case .call(let n, let args): return "\(n)(" + args.map(sexp).joined(separator: ", ") + ")"
    }
}

// MARK: - Parser

@Suite struct ExprParserTests {
    @Test(arguments: [
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not a == 1", "(not (== a 1))"),
        ("not not a", "(not (not a))"),
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("7 % 3 / 2", "(/ (% 7 3) 2)"),
        ("-a * b", "(* (neg a) b)"),
        ("- -a", "(neg (neg a))"),
        ("a + 1 < b * 2", "(< (+ a 1) (* b 2))"),
        ("a + 1 >= 2 or b != 3", "(or (>= (+ a 1) 2) (!= b 3))"),
        ("(a or b) and c", "(and (or a b) c)"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("x in ['a', \"b\"]", "(in x ['a' 'b'])"),
        ("x in [] or y", "(or (in x []) y)"),
        ("a && b || !c", "(or (and a b) (not c))"),
        ("yes == true and no == false", "(and (== true true) (== false false))"),
        ("x == null", "(== x null)"),
        ("1.5 * 2", "(* 1.5 2)"),
        ("count(children, child_age < settings.young_child_age) > 0",
         "(> count(children, (< child_age settings.young_child_age)) 0)"),
        ("if(a, b, c)", "if(a, b, c)"),
        ("f()", "f()"),
    ])
    func precedence(text: String, tree: String) throws {
        #expect(sexp(try ExprFixture.expr(text)) == tree)
    }

    @Test func nodeOffsets() throws {
        let e = try ExprFixture.expr("reason == 'divorce' and a > 1")
        #expect(e.offset == 20)
        guard case .binary(.and, let left, let right) = e.node else { Issue.record("not an and"); return }
        #expect(left.offset == 7)
        #expect(right.offset == 26)
        guard case .binary(.eq, let name, let literal) = left.node else { Issue.record("not =="); return }
        #expect(name.offset == 0)
        #expect(literal.offset == 10)
        #expect(e.names.map(\.name) == ["reason", "a"])
        #expect(e.names.map(\.offset) == [0, 24])
    }

    @Test(arguments: [
        ("a = 1", "expr-single-equals", 2),
        ("a == 1 and b = 2", "expr-single-equals", 13),
        ("name == 'abc", "expr-unterminated-string", 8),
        ("\"abc", "expr-unterminated-string", 0),
        ("'it\"s", "expr-unterminated-string", 0),
        ("1 < a < 3", "expr-chained-comparison", 6),
        ("a == b == c", "expr-chained-comparison", 7),
        ("a < b in c", "expr-unexpected", 6),
        ("a +", "expr-unexpected", 3),
        ("", "expr-unexpected", 0),
        ("a b", "expr-unexpected", 2),
        ("(a", "expr-expected", 2),
        ("f(a, b", "expr-expected", 6),
        ("[1, 2", "expr-expected", 5),
        ("settings.", "expr-expected", 9),
        ("1.2.3", "expr-bad-number", 0),
        ("a # b", "expr-bad-character", 2),
        ("年齢 > 3", "expr-bad-character", 0),
    ])
    func errors(text: String, code: String, offset: Int) {
        switch ExprParser.parse(text) {
        case .success(let e): Issue.record("\(text) parsed as \(sexp(e))")
        case .failure(let issue):
            #expect(issue.code == code, "\(text)")
            #expect(issue.offset == offset, "\(text)")
        }
    }

    @Test func unexpectedTokenIsNamed() {
        guard case .failure(let issue) = ExprParser.parse("a +") else { Issue.record("parsed"); return }
        #expect(issue.args["token"] == "end of expression")
        guard case .failure(let issue2) = ExprParser.parse("(a") else { Issue.record("parsed"); return }
        #expect(issue2.args["expected"] == ")")
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "(", count: 64) + "1" + String(repeating: ")", count: 64)
        _ = try ExprFixture.expr(ok)
        for deep in [String(repeating: "(", count: 65) + "1" + String(repeating: ")", count: 65),
                     String(repeating: "not ", count: 65) + "a",
                     String(repeating: "-", count: 65) + "1",
                     String(repeating: "[", count: 66) + String(repeating: "]", count: 66),
                     String(repeating: "f(", count: 66) + String(repeating: ")", count: 66),
                     String(repeating: "(", count: 10_000)] {
            switch ExprParser.parse(deep) {
            case .success: Issue.record("a \(deep.count)-character nesting parsed")
            case .failure(let issue): #expect(issue.code == "expr-too-deep")
            }
        }
        guard case .failure(let issue) = ExprParser.parse(String(repeating: "(", count: 65) + "1" + String(repeating: ")", count: 65)) else { return }
        #expect(issue.offset == 65)
    }

    @Test func literals() throws {
        guard case .literal(.int(42)) = try ExprFixture.expr("42").node else { Issue.record("42"); return }
        guard case .literal(.decimal(2.5)) = try ExprFixture.expr("2.5").node else { Issue.record("2.5"); return }
        guard case .literal(.text("しごと")) = try ExprFixture.expr("'しごと'").node else { Issue.record("text"); return }
        guard case .setting("young_child_age") = try ExprFixture.expr("settings.young_child_age").node else { Issue.record("setting"); return }
        // Too large for Int, not a decimal either.
        guard case .failure(let issue) = ExprParser.parse("99999999999999999999") else { Issue.record("huge"); return }
        #expect(issue.code == "expr-bad-number")
    }
}

// MARK: - Type checker

@Suite struct TypeCheckerTests {
    private func check(_ text: String, scope: [String] = [], valueType: ValueType? = nil) throws -> (ValueType, [ExprIssue]) {
        let d = try ExprFixture.dialog()
        var checker = TypeChecker(index: d.index, settings: d.settings, scope: scope, valueType: valueType)
        let t = checker.check(try ExprFixture.expr(text))
        return (t, checker.issues)
    }

    private func single(_ text: String, scope: [String] = [], valueType: ValueType? = nil) throws -> ExprIssue {
        let (_, issues) = try check(text, scope: scope, valueType: valueType)
        #expect(issues.count == 1, "\(text): \(issues)")
        return try #require(issues.first)
    }

    @Test func unknownNameWithSuggestion() throws {
        let issue = try single("chidren_count > 0")
        #expect(issue.code == "expr-unknown-name")
        #expect(issue.args == ["name": "chidren_count", "suggestion": "children_count"])
        #expect(issue.offset == 0)
        let far = try single("a > 0 and zzz")
        #expect(far.code == "expr-unknown-name")
        #expect(far.args["suggestion"] == nil)
        #expect(far.offset == 10)
    }

    @Test func unknownFunctionAndSetting() throws {
        let fn = try single("cout(children) > 1")
        #expect(fn.code == "expr-unknown-function")
        #expect(fn.args["suggestion"] == "count")
        let setting = try single("a < settings.young_child_ag")
        #expect(setting.code == "expr-unknown-setting")
        #expect(setting.args == ["name": "young_child_ag", "suggestion": "young_child_age"])
        #expect(setting.offset == 4)
    }

    @Test func unknownChoiceValues() throws {
        let eq = try single("reason == 'divorse'")
        #expect(eq.code == "expr-unknown-choice")
        #expect(eq.args == ["value": "divorse", "question": "reason", "suggestion": "divorce"])
        #expect(eq.offset == 10)

        let flipped = try single("'divorse' != reason")
        #expect(flipped.code == "expr-unknown-choice")
        #expect(flipped.offset == 0)

        let list = try single("reason in ['divorce', 'widowed']")
        #expect(list.code == "expr-unknown-choice")
        #expect(list.args["value"] == "widowed")
        #expect(list.args["suggestion"] == nil)
        #expect(list.offset == 22)

        let multi = try single("'helowork' in share")
        #expect(multi.code == "expr-unknown-choice")
        #expect(multi.args == ["value": "helowork", "question": "share", "suggestion": "hellowork"])

        let inGroup = try single("any(children, care == 'dayccare')")
        #expect(inGroup.code == "expr-unknown-choice")
        #expect(inGroup.args["suggestion"] == "daycare")
    }

    @Test(arguments: [
        ("name > 3", "expr-mismatch", 5),
        ("a + 'x'", "expr-mismatch", 2),
        ("birth == 3", "expr-mismatch", 6),
        ("flag < 1", "expr-mismatch", 5),
        ("reason in [1, 2]", "expr-mismatch", 7),
        ("if(flag, 1, 'one') == 1", "expr-mismatch", 0),
        ("not a", "expr-type", 4),
        ("flag and a", "expr-type", 9),
        ("age(name) > 3", "expr-type", 4),
        ("name * 2 > 1", "expr-type", 0),
        ("len(a) > 0", "expr-type", 4),
        ("a in b", "expr-in-needs-list", 5),
        ("any(a, true)", "expr-needs-group", 4),
        ("answered(a + 1)", "expr-needs-question", 11),
        ("date('2024-02-30') > today", "expr-bad-date", 5),
        ("a in [1, b]", "expr-list-literal", 9),
        ("children > 1", "expr-mismatch", 9),
        ("consent_missing == 1 or value > 1", "expr-unknown-name", 0),
    ])
    func typeErrors(text: String, code: String, offset: Int) throws {
        let (_, issues) = try check(text)
        #expect(issues.first?.code == code, "\(text): \(issues)")
        #expect(issues.first?.offset == offset, "\(text): \(issues)")
    }

    @Test func mismatchNamesBothTypes() throws {
        let issue = try single("name > 3")
        #expect(issue.args == ["left": "text", "right": "integer"])
    }

    @Test func outOfScopeGroupMember() throws {
        let outside = try single("child_age > 3")
        #expect(outside.code == "expr-out-of-scope")
        #expect(outside.args == ["name": "child_age", "group": "children"])
        #expect(try check("child_age > 3", scope: ["children"]).1.isEmpty)

        let nested = try single("count(tasks) > 0")
        #expect(nested.code == "expr-out-of-scope")
        #expect(nested.args == ["name": "tasks", "group": "jobs"])
        #expect(try check("count(tasks) > 0", scope: ["jobs"]).1.isEmpty)
        // A sibling group's member is not visible inside another group.
        #expect(try single("task == 'x'", scope: ["children"]).code == "expr-out-of-scope")
        // From outside, a group member is read through an aggregate.
        #expect(try check("any(children, child_age < 3)").1.isEmpty)
        #expect(try check("any(jobs, any(tasks, task == employer))").1.isEmpty)
    }

    @Test(arguments: [
        ("age() > 1", "age", "0", "1"),
        ("count(children, child_age > 1, 3) > 0", "count", "3", "1–2"),
        ("if(flag, 1) == 1", "if", "2", "3"),
        ("any(children) or flag", "any", "1", "2"),
        ("min(a) > 0", "min", "1", "2"),
        ("contains(share) or flag", "contains", "1", "2"),
    ])
    func wrongArity(text: String, function: String, count: String, expected: String) throws {
        let (_, issues) = try check(text)
        let issue = try #require(issues.first { $0.code == "expr-arity" }, "\(text): \(issues)")
        #expect(issue.args == ["function": function, "count": count, "expected": expected])
    }

    @Test func valueOnlyInsideChecks() throws {
        #expect(try single("value > 3").code == "expr-value-outside-check")
        #expect(try check("value > 3 and value <= a", valueType: .int).1.isEmpty)
        #expect(try check("age(value) >= 16", valueType: .date).1.isEmpty)
        #expect(try single("value == 'x'", valueType: .int).code == "expr-mismatch")
    }

    @Test(arguments: [
        ("reason == 'divorce' and any(children, child_age <= settings.young_child_age)", ValueType.bool),
        ("count(children, care in ['daycare', 'none']) > 0", .bool),
        ("age(birth) >= 18", .bool),
        ("'hellowork' in share and not ('none' in share)", .bool),
        ("contains(share, 'center') or contains(name, '山')", .bool),
        ("date('2024-04-01') + 30 > today", .bool),
        ("sum(jobs, count(tasks)) >= 2", .bool),
        ("min(children, child_age) < 3", .bool),
        ("if(flag, a, b) > 0", .bool),
        ("a == null or declined(reason) or answered(name)", .bool),
        ("len(name) > 0 and len(share) < 3", .bool),
        ("double_a > 2 and kids >= 1", .bool),
        ("d * 2 > a", .bool),
        ("reason in ['divorce', 'other'] and settings.office == 'north'", .bool),
        ("a + b", .int),
        ("a / b", .decimal),
        ("a % b", .int),
        ("a + d", .decimal),
        ("birth + 1", .date),
        ("birth - birth", .int),
        ("name + '様'", .text),
        ("count(children)", .int),
        ("sum(children, child_age)", .int),
        ("max(a, d)", .decimal),
        ("age(birth)", .int),
        ("-a", .int),
    ])
    func cleanExpressions(text: String, type: ValueType) throws {
        let (t, issues) = try check(text)
        #expect(issues.isEmpty, "\(text): \(issues)")
        #expect(t == type, "\(text)")
    }

    @Test func computedCycle() throws {
        let base = try ExprFixture.dialog()
        let d = Dialog(id: "c", version: "1", title: "t", items: base.items,
                       computed: [ComputedValue(id: "x", expr: try ExprFixture.expr("y + 1")),
                                  ComputedValue(id: "y", expr: try ExprFixture.expr("x + 1"))])
        var checker = TypeChecker(index: d.index, settings: [:])
        _ = checker.check(try ExprFixture.expr("x > 1"))
        #expect(checker.issues.contains { $0.code == "expr-computed-cycle" })
    }
}

// MARK: - Evaluator

@Suite struct EvaluatorTests {
    private let someAnswered: [Path: Answer] = [Path("b"): .value(.int(2))]

    @Test(arguments: [
        ("a > 1", nil as Value?),
        ("a == 1", nil),
        ("a != 1", nil),
        ("a == b", nil),
        ("not (a > 1)", nil),
        ("-a", nil),
        ("null and false", .bool(false)),
        ("false and null", .bool(false)),
        ("null and true", nil),
        ("null or true", .bool(true)),
        ("true or null", .bool(true)),
        ("null or false", nil),
        ("a > 1 and b > 5", .bool(false)),
        ("a > 1 and b < 5", nil),
        ("a > 1 or b == 2", .bool(true)),
        ("a == null", .bool(true)),
        ("null == a", .bool(true)),
        ("a != null", .bool(false)),
        ("b == null", .bool(false)),
        ("b != null", .bool(true)),
        ("null == null", .bool(true)),
        ("a in [1, 2]", nil),
        ("b in [1, null, 2]", .bool(true)),
        ("if(a > 1, 1, 2)", .int(2)),
        ("a + 1", nil),
        ("age(birth)", nil),
        ("len(name)", nil),
        ("min(a, b)", nil),
    ])
    func threeValuedLogic(text: String, expected: Value?) throws {
        #expect(try ExprFixture.evaluate(text, someAnswered) == expected, "\(text)")
    }

    @Test func aWhenThatIsNullDoesNotHold() throws {
        // Whichever way the condition is written, a missing answer does not make it hold.
        for text in ["a > 1", "not (a > 1)", "a <= 1", "a != 1", "a > 1 or b > 5", "not (a > 1 or b > 5)"] {
            #expect(try ExprFixture.holds(text, someAnswered) == false, "\(text)")
        }
        #expect(try ExprFixture.holds("a == null", someAnswered))
        #expect(try ExprFixture.holds("a > 1 or b == 2", someAnswered))
        // A runtime error does not hold either (the type checker catches these before a session runs).
        #expect(try ExprFixture.holds("name + 1 > 0", [Path("name"): .value(.text("x"))]) == false)
        var ev = Evaluator(dialog: try ExprFixture.dialog(), answers: [:], today: ExprFixture.today)
        let absent = ev.holds(nil, in: .root)
        #expect(absent)
    }

    @Test func declinedAndSkippedReadAsNull() throws {
        let answers: [Path: Answer] = [Path("reason"): .declined, Path("a"): .skipped, Path("b"): .value(.int(1))]
        for text in ["reason == 'divorce'", "reason != 'divorce'", "not (reason == 'divorce')", "reason in ['divorce']", "a > 0"] {
            #expect(try ExprFixture.evaluate(text, answers) == nil, "\(text)")
        }
        #expect(try ExprFixture.evaluate("reason == null and a == null", answers) == .bool(true))
        #expect(try ExprFixture.evaluate("declined(reason)", answers) == .bool(true))
        #expect(try ExprFixture.evaluate("declined(a)", answers) == .bool(false))
        #expect(try ExprFixture.evaluate("answered(reason)", answers) == .bool(false))
        #expect(try ExprFixture.evaluate("answered(a)", answers) == .bool(false))
        #expect(try ExprFixture.evaluate("answered(b)", answers) == .bool(true))
        #expect(try ExprFixture.evaluate("answered(name)", answers) == .bool(false))
    }

    @Test(arguments: [
        ("1 + 2 * 3", Value.int(7) as Value?),
        ("(1 + 2) * 3", .int(9)),
        ("10 - 2 - 3", .int(5)),
        ("7 / 2", .decimal(3.5)),
        ("6 / 3", .decimal(2)),
        ("7 % 3", .int(1)),
        ("-7 % 3", .int(-1)),
        ("7.5 % 2", .decimal(1.5)),
        ("1.5 + 1", .decimal(2.5)),
        ("2 * 0.5", .decimal(1)),
        ("-(3)", .int(-3)),
        ("- -3", .int(3)),
        ("'山田' + '様'", .text("山田様")),
        ("7 / 0", nil),
        ("7 % 0", nil),
        ("7.0 / 0", nil),
        ("7.5 % 0", nil),
        ("0 / 0", nil),
        ("(7 / 0) + 1", nil),
        ("7 / 0 == null", .bool(true)),
        ("7 / 0 > 1", nil),
        ("big + 1", nil),
        ("big * 2", nil),
        ("0 - big - 2", nil),
        ("-small", nil),
        ("small - 1", nil),
        ("small % -1", nil),
        ("small / -1", .decimal(9.223372036854775808e18)),
        ("big - 1", .int(Int.max - 1)),
        ("big + 1 == null", .bool(true)),
    ])
    func arithmetic(text: String, expected: Value?) throws {
        let answers: [Path: Answer] = [Path("a"): .value(.int(Int.max)), Path("b"): .value(.int(Int.min))]
        // `big` and `small` are computed values standing for Int.max and Int.min.
        let base = try ExprFixture.dialog()
        let d = Dialog(id: base.id, version: base.version, title: base.title, items: base.items,
                       computed: [ComputedValue(id: "big", expr: try ExprFixture.expr("a")),
                                  ComputedValue(id: "small", expr: try ExprFixture.expr("b"))])
        var ev = Evaluator(dialog: d, answers: ExprFixture.entries(answers), today: ExprFixture.today)
        #expect(try ev.eval(try ExprFixture.expr(text), in: .root) == expected, "\(text)")
    }

    @Test func divisionByZeroDoesNotHold() throws {
        let answers: [Path: Answer] = [Path("a"): .value(.int(10)), Path("b"): .value(.int(0))]
        #expect(try ExprFixture.holds("a / b > 1", answers) == false)
        #expect(try ExprFixture.holds("not (a / b > 1)", answers) == false)
        #expect(try ExprFixture.holds("a / b == null", answers))
    }

    @Test func dates() throws {
        let born: [Path: Answer] = [Path("birth"): .value(try ExprFixture.date("2006-04-01"))]
        #expect(try ExprFixture.evaluate("age(birth)", born) == .int(18))
        #expect(try ExprFixture.evaluate("age(birth) >= 18", born) == .bool(true))
        // The age is against the evaluator's (the session's) date, not any clock.
        let dayBefore = try #require(CivilDate(iso: "2024-03-31"))
        #expect(try ExprFixture.evaluate("age(birth)", born, today: dayBefore) == .int(17))
        let leap: [Path: Answer] = [Path("birth"): .value(try ExprFixture.date("2004-02-29"))]
        #expect(try ExprFixture.evaluate("age(birth)", leap, today: try #require(CivilDate(iso: "2023-02-28"))) == .int(18))
        #expect(try ExprFixture.evaluate("age(birth)", leap, today: try #require(CivilDate(iso: "2023-03-01"))) == .int(19))

        #expect(try ExprFixture.evaluate("date('2024-04-01') + 30") == ExprFixture.date("2024-05-01"))
        #expect(try ExprFixture.evaluate("date('2024-03-01') - 1") == ExprFixture.date("2024-02-29"))
        #expect(try ExprFixture.evaluate("date('2024-05-01') - date('2024-04-01')") == .int(30))
        #expect(try ExprFixture.evaluate("today") == ExprFixture.date("2024-04-01"))
        #expect(try ExprFixture.evaluate("today - 1") == ExprFixture.date("2024-03-31"))
        #expect(try ExprFixture.evaluate("today - birth", born) == .int(6575))
        #expect(try ExprFixture.evaluate("year(birth) * 100 + month(birth)", born) == .int(200_604))
        #expect(try ExprFixture.evaluate("birth < date('2010-01-01')", born) == .bool(true))
        #expect(try ExprFixture.evaluate("birth == date('2006-04-01')", born) == .bool(true))
        #expect(try ExprFixture.evaluate("birth + 30 > today", born) == .bool(false))
        #expect(try ExprFixture.evaluate("birth + 1", [:]) == nil)
        #expect(try ExprFixture.evaluate("year(birth)", [:]) == nil)
        #expect(throws: Evaluator.Failure.self) { try ExprFixture.evaluate("date('2024-02-30')") }
    }

    @Test func inAndContains() throws {
        let answers: [Path: Answer] = [
            Path("reason"): .value(.choice("divorce")), Path("b"): .value(.int(2)),
            Path("share"): .value(.choices(["hellowork", "welfare"])), Path("name"): .value(.text("山田 花子")),
        ]
        let cases: [(String, Value?)] = [
            ("reason in ['divorce', 'other']", .bool(true)),
            ("reason in ['other']", .bool(false)),
            ("reason in []", .bool(false)),
            ("b in [1, 2, 3]", .bool(true)),
            ("b in [2.0]", .bool(true)),
            ("b in [5]", .bool(false)),
            ("'hellowork' in share", .bool(true)),
            ("'center' in share", .bool(false)),
            ("reason in share", .bool(false)),
            ("not ('none' in share)", .bool(true)),
            ("contains(share, 'welfare')", .bool(true)),
            ("contains(share, 'none')", .bool(false)),
            ("contains(name, '花子')", .bool(true)),
            ("'太郎' in name", .bool(false)),
            ("len(share)", .int(2)),
            ("len(name)", .int(5)),
            ("a in [1, 2]", nil),
        ]
        for (text, expected) in cases {
            #expect(try ExprFixture.evaluate(text, answers) == expected, "\(text)")
        }
        // Nothing picked yet: unknown, so conditions on it do not hold.
        #expect(try ExprFixture.evaluate("'hellowork' in share") == nil)
        #expect(try ExprFixture.evaluate("contains(share, 'hellowork')") == nil)
    }

    @Test func aggregatesOverRepeatInstances() throws {
        let f = ExprFixture.family
        let cases: [(String, Value?)] = [
            ("count(children)", .int(3)),
            ("count(children, child_age < 6)", .int(1)),
            ("count(children, care == 'none')", .int(1)),
            ("any(children, child_age < 3)", .bool(true)),
            ("any(children, child_age > 20)", .bool(false)),
            ("all(children, child_age < 18)", .bool(true)),
            ("all(children, child_age < 10)", .bool(false)),
            ("min(children, child_age)", .int(2)),
            ("max(children, child_age)", .int(12)),
            ("sum(children, child_age)", .int(21)),
            ("sum(children, child_age / 2)", .decimal(10.5)),
            ("any(children, child_age < settings.young_child_age and care == 'none')", .bool(true)),
            ("kids", .int(3)),
        ]
        for (text, expected) in cases {
            #expect(try ExprFixture.evaluate(text, f) == expected, "\(text)")
        }
        // Inside an instance, a member is that instance's answer.
        #expect(try ExprFixture.evaluate("child_age", f, scope: Scope(groups: ["children"], indices: [1])) == .int(7))
        #expect(try ExprFixture.evaluate("child_age < 6 and count(children) == 3", f,
                                         scope: Scope(groups: ["children"], indices: [0])) == .bool(true))
    }

    @Test func aggregatesWithMissingAnswers() throws {
        var f = ExprFixture.family
        f[Path("child_age", [1])] = nil
        let cases: [(String, Value?)] = [
            ("all(children, child_age < 18)", .bool(true)),  // the unknown one counts for neither
            ("all(children, child_age < 10)", .bool(false)),  // one is known to fail
            ("any(children, child_age > 10)", .bool(true)),
            ("any(children, child_age > 20)", .bool(false)),  // never null over instances
            ("count(children, child_age > 0)", .int(2)),
            ("sum(children, child_age)", .int(14)),
            ("min(children, child_age)", .int(2)),
            ("max(children, child_age)", .int(12)),
        ]
        for (text, expected) in cases {
            #expect(try ExprFixture.evaluate(text, f) == expected, "\(text)")
        }
        // No count yet: no instances.
        let none: [(String, Value?)] = [
            ("count(children)", .int(0)), ("any(children, child_age > 1)", .bool(false)),
            ("all(children, child_age > 1)", .bool(true)), ("sum(children, child_age)", .int(0)),
            ("min(children, child_age)", nil),
        ]
        for (text, expected) in none {
            #expect(try ExprFixture.evaluate(text) == expected, "\(text)")
        }
    }

    @Test func instanceCountIsClamped() throws {
        let d = try ExprFixture.dialog()
        let g = try #require(d.index.group("children"))
        for (answer, expected) in [(Value.int(50), 20), (.int(-3), 0), (.int(4), 4)] {
            var ev = Evaluator(dialog: d, answers: ExprFixture.entries([Path("children_count"): .value(answer)]), today: ExprFixture.today)
            #expect(ev.instanceCount(g, outer: []) == expected)
        }
        var ev = Evaluator(dialog: d, answers: [:], today: ExprFixture.today)
        #expect(ev.instanceCount(g, outer: []) == 0)
    }

    @Test func sumOverflowIsNull() throws {
        let answers: [Path: Answer] = [
            Path("children_count"): .value(.int(2)),
            Path("child_age", [0]): .value(.int(Int.max)), Path("child_age", [1]): .value(.int(1)),
        ]
        #expect(try ExprFixture.evaluate("sum(children, child_age)", answers) == nil)
    }

    @Test func nestedGroups() throws {
        let w = ExprFixture.work
        let cases: [(String, Value?)] = [
            ("count(jobs)", .int(2)),
            ("sum(jobs, count(tasks))", .int(2)),
            ("any(jobs, count(tasks) >= 2)", .bool(true)),
            ("all(jobs, count(tasks) >= 1)", .bool(false)),
            ("count(jobs, any(tasks, task == 'b'))", .int(1)),
            ("max(jobs, count(tasks))", .int(2)),
            ("min(jobs, count(tasks))", .int(0)),
            ("count(jobs, employer == 'Y')", .int(1)),
            ("any(jobs, any(tasks, task == employer))", .bool(false)),
        ]
        for (text, expected) in cases {
            #expect(try ExprFixture.evaluate(text, w) == expected, "\(text)")
        }
        #expect(try ExprFixture.evaluate("count(tasks)", w, scope: Scope(groups: ["jobs"], indices: [0])) == .int(2))
        #expect(try ExprFixture.evaluate("count(tasks)", w, scope: Scope(groups: ["jobs"], indices: [1])) == .int(0))
        #expect(try ExprFixture.evaluate("task + employer", w, scope: Scope(groups: ["jobs", "tasks"], indices: [0, 1])) == .text("bX"))
        // From outside its group, a member cannot be read.
        #expect(throws: Evaluator.Failure.self) { try ExprFixture.evaluate("count(tasks)", w) }
        #expect(throws: Evaluator.Failure.self) { try ExprFixture.evaluate("employer", w) }
    }

    @Test func ifChoosesABranch() throws {
        let answers: [Path: Answer] = [Path("flag"): .value(.bool(true)), Path("b"): .value(.int(2))]
        #expect(try ExprFixture.evaluate("if(flag, 'y', 'n')", answers) == .text("y"))
        #expect(try ExprFixture.evaluate("if(not flag, 'y', 'n')", answers) == .text("n"))
        #expect(try ExprFixture.evaluate("if(flag, 'y', 'n')") == .text("n"))  // null: the else branch
        #expect(try ExprFixture.evaluate("if(b > 1, b * 10, 0)", answers) == .int(20))
        #expect(try ExprFixture.evaluate("if(b > 5, 1, a)", answers) == nil)
    }

    @Test func settingsAndComputed() throws {
        #expect(try ExprFixture.evaluate("settings.young_child_age") == .int(6))
        #expect(try ExprFixture.evaluate("settings.office == 'north'") == .bool(true))
        #expect(try ExprFixture.evaluate("settings.nowhere") == nil)
        #expect(try ExprFixture.evaluate("count(children, child_age < settings.young_child_age)", ExprFixture.family) == .int(1))
        #expect(try ExprFixture.evaluate("double_a", [Path("a"): .value(.int(4))]) == .int(8))
        #expect(try ExprFixture.evaluate("double_a") == nil)
    }

    @Test func valueIsTheAnswerBeingChecked() throws {
        #expect(try ExprFixture.evaluate("value > 3", value: .int(5)) == .bool(true))
        #expect(try ExprFixture.evaluate("value <= today", value: try ExprFixture.date("2030-01-01")) == .bool(false))
        #expect(try ExprFixture.evaluate("value == null") == .bool(true))
    }

    @Test func comparisonsAcrossKinds() throws {
        let answers: [Path: Answer] = [
            Path("a"): .value(.int(2)), Path("d"): .value(.decimal(2.0)), Path("name"): .value(.text("b")),
            Path("share"): .value(.choices(["center", "hellowork"])),
        ]
        #expect(try ExprFixture.evaluate("a == d", answers) == .bool(true))
        #expect(try ExprFixture.evaluate("d < 2.5", answers) == .bool(true))
        #expect(try ExprFixture.evaluate("name > 'a'", answers) == .bool(true))
        #expect(try ExprFixture.evaluate("max(a, 1.5)", answers) == .int(2))
        #expect(try ExprFixture.evaluate("min(a, 1.5)", answers) == .decimal(1.5))
        #expect(throws: Evaluator.Failure.self) { try ExprFixture.evaluate("name == 1", answers) }
        #expect(throws: Evaluator.Failure.self) { try ExprFixture.evaluate("[1, 2]") }
        #expect(throws: Evaluator.Failure.self) { try ExprFixture.evaluate("nosuch > 1") }
    }

    @Test func costBudgetStopsRunawayExpressions() throws {
        // Each computed value reads the one before twice: `c20` would take 2^21 steps.
        let base = try ExprFixture.dialog()
        var computed = [ComputedValue(id: "c0", expr: try ExprFixture.expr("a"))]
        for i in 1...20 { computed.append(ComputedValue(id: "c\(i)", expr: try ExprFixture.expr("c\(i - 1) + c\(i - 1)"))) }
        let d = Dialog(id: "budget", version: "1", title: "t", items: base.items, computed: computed)
        let answers = ExprFixture.entries([Path("a"): .value(.int(1))])
        let heavy = try ExprFixture.expr("c20 > 0")
        var ev = Evaluator(dialog: d, answers: answers, today: ExprFixture.today)
        let heavyHolds = ev.holds(heavy, in: .root)
        #expect(heavyHolds == false)
        #expect(ev.budget <= 0)
        // The next top-level evaluation starts with a fresh budget.
        let next = ev.holds(try ExprFixture.expr("c3 == 8"), in: .root)
        #expect(next)
        #expect(ev.budget > Evaluator.maxCost - 100)
        // Within the budget, the same chain evaluates.
        var light = Evaluator(dialog: d, answers: answers, today: ExprFixture.today)
        #expect(try light.eval(try ExprFixture.expr("c10"), in: .root) == .int(1024))
        // Aggregates count against the same budget.
        var runaway = "count(children) > 0"
        for _ in 0..<4 { runaway = "count(children, \(runaway)) > 0" }
        var small = Evaluator(dialog: d, answers: ExprFixture.entries([Path("children_count"): .value(.int(20))]), today: ExprFixture.today)
        small.budget = 5_000
        let runawayExpr = try ExprFixture.expr(runaway)
        #expect(throws: Evaluator.Failure.self) { try small.eval(runawayExpr, in: .root) }
        #expect(small.budget <= 0)
    }
}
