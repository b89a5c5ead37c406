import Testing
@testable import IntakeEngine

private func regex(_ pattern: String) throws -> BoundedRegex {
    switch BoundedRegex.compile(pattern) {
    case .success(let r): return r
    case .failure(let refusal):
        Issue.record("\(pattern): \(refusal.code) at \(refusal.position)")
        throw refusal
    }
}

private func refusal(_ pattern: String) -> BoundedRegex.Refusal? {
    if case .failure(let r) = BoundedRegex.compile(pattern) { return r }
    return nil
}

@Suite struct BoundedRegexMatchingTests {
    @Test(arguments: [
        // pattern, text, whole-string match?
        ("abc", "abc", true), ("abc", "abcd", false), ("abc", "xabc", false), ("", "", true), ("", "a", false),
        ("a.c", "abc", true), ("a.c", "a\nc", false), ("a.c", "aあc", true),
        ("[0-9]{3}-[0-9]{4}", "350-1234", true), ("[0-9]{3}-[0-9]{4}", "3501234", false),
        ("[0-9]{3}-[0-9]{4}", "350-12345", false), ("\\d{3}-?\\d{4}", "3501234", true),
        // \d is ASCII only: full-width digits are written out where wanted.
        ("\\d+", "１２３", false), ("[0-9０-９]+", "１２3", true),
        ("[^0-9]+", "abc", true), ("[^0-9]+", "ab1", false), ("[a-cx-z]+", "abzyx", true), ("[a-cx-z]", "d", false),
        ("[-a]+", "-a-", true), ("[a-]+", "a-", true), ("[]a]+", "]a", true), ("[\\]\\-]+", "]-", true),
        ("\\D\\S\\W", "a b", false), ("\\D\\S\\W", "aa.", true),
        ("\\w+", "abc_123", true), ("\\w+", "やまだ", true), ("\\w+", "a-b", false),
        ("a\\.b", "a.b", true), ("a\\.b", "axb", false), ("\\(\\d\\)", "(1)", true),
        // alternation and groups
        ("cat|dog", "dog", true), ("cat|dog", "catdog", false), ("(cat|dog)s?", "cats", true),
        ("(?:ab)+", "ababab", true), ("(?:ab)+", "aba", false), ("a(|b)c", "ac", true), ("a(|b)c", "abc", true),
        // repeats
        ("a*", "", true), ("a+", "", false), ("a?b", "b", true), ("a{2}", "aa", true), ("a{2}", "aaa", false),
        ("a{2,}", "aaaaa", true), ("a{2,}", "a", false), ("a{2,3}", "aaa", true), ("a{2,3}", "aaaa", false),
        ("a{0,2}b", "b", true), ("(ab){1,2}c", "ababc", true), ("(ab){1,2}c", "abababc", false),
        ("a*?b", "aab", true), ("a{1,3}?", "aa", true),
        // anchors: redundant at the ends of a whole-string match, meaningful inside alternatives
        ("^abc$", "abc", true), ("^a|b$", "a", true), ("a^b", "ab", false), ("a$b", "ab", false), ("(a$)?", "", true),
        // Japanese: kana by script, by range, with the long-vowel mark and spaces
        ("\\p{Hiragana}+", "やまだ", true), ("\\p{Hiragana}+", "ヤマダ", false), ("\\p{Katakana}+", "ヤマダ", true),
        ("\\p{Katakana}+", "ｶﾞﾝﾀﾞﾑ", true), ("\\p{Katakana}+", "サトー", false), ("[\\p{Katakana}ー]+", "サトー", true),
        ("\\p{Han}+", "山田", true), ("\\p{Han}+", "山だ", false), ("\\P{Han}+", "やまだ", true),
        ("[\\p{Hiragana}\\p{Katakana}ー・\\s]+", "さとう　マリア・サントス", true),
        ("[\\p{Hiragana}\\p{Katakana}ー・\\s]+", "Sato Maria", false),
        ("[ぁ-ゖー]+", "らーめん", true), ("[ぁ-ゖー]+", "ラーメン", false), ("[ァ-ヶー]+", "ラーメン", true),
        // A character is what a person sees: が typed decomposed (か + ゙) is が, and one character.
        ("が", "か\u{3099}", true), ("[ぁ-ゖ]", "か\u{3099}", true), ("\\p{Hiragana}", "か\u{3099}", true), (".", "か\u{3099}", true),
        (".{2}", "👩‍👧x", true),
    ])
    func matching(pattern: String, text: String, expected: Bool) throws {
        #expect(try regex(pattern).matches(text) == expected, "\(pattern) on \(text)")
    }

    /// Patterns that take exponential time in a backtracking engine: here each character of the
    /// text costs at most the program's size. The answer is what is checked, not the time.
    @Test(arguments: ["(a|a)*b", "(a*)*b", "(a+)+b", "(a|aa)*b", "(.*a){20}b", "((a*)*)*b"])
    func pathologicalPatternsEndWithoutAMatch(pattern: String) throws {
        let r = try regex(pattern)
        let text = String(repeating: "a", count: 10_000)
        #expect(r.matches(text) == false)
        #expect(r.matches(text + "b") == true)
        #expect(r.size <= BoundedRegex.maxProgram)
    }

    @Test func repeatsAreWrittenOutWithinTheCap() throws {
        #expect(try regex("a{100}").size == 101)
        #expect(try regex("a{0,100}").size == 201)
        #expect(try regex("[0-9]{1,100}").matches(String(repeating: "7", count: 100)))
        #expect(try regex("[0-9]{1,100}").matches(String(repeating: "7", count: 101)) == false)
        // The classic exponential case of a backtracking engine, a^n against (a?){n}a{n}.
        let classic = try regex("(a?){50}a{50}")
        #expect(classic.matches(String(repeating: "a", count: 100)))
        #expect(classic.matches(String(repeating: "a", count: 49)) == false)
        #expect(classic.matches(String(repeating: "a", count: 101)) == false)
    }
}

@Suite struct BoundedRegexRefusalTests {
    @Test(arguments: [
        // pattern, code, position of the problem, args
        ("(a)\\1", "regex-backreference", 3, ["text": "\\1"]),
        ("(?<n>a)\\k<n>", "regex-unsupported-group", 0, ["text": "(?<"]),
        ("a(?=b)", "regex-lookaround", 1, ["text": "(?="]),
        ("a(?!b)", "regex-lookaround", 1, ["text": "(?!"]),
        ("(?<=a)b", "regex-lookaround", 0, ["text": "(?<="]),
        ("(?<!a)b", "regex-lookaround", 0, ["text": "(?<!"]),
        ("(?i)abc", "regex-unsupported-group", 0, ["text": "(?i"]),
        ("a*+", "regex-possessive", 1, ["text": "*+"]),
        ("a{2,3}+", "regex-possessive", 1, ["text": "{2,3}+"]),
        ("(ab", "regex-unclosed-group", 0, [:]),
        ("ab)", "regex-unopened-group", 2, [:]),
        ("x[ab", "regex-unclosed-class", 1, [:]),
        ("[z-a]", "regex-bad-range", 1, ["text": "z-a"]),
        ("[\\d-z]", "regex-bad-range", 1, ["text": "\\d-z"]),
        ("*a", "regex-nothing-to-repeat", 0, ["text": "*"]),
        ("a|+", "regex-nothing-to-repeat", 2, ["text": "+"]),
        ("a**", "regex-nothing-to-repeat", 2, ["text": "*"]),
        ("^*", "regex-nothing-to-repeat", 1, ["text": "*"]),
        ("a{3,2}", "regex-bad-repeat", 1, ["text": "{3,2}"]),
        ("a{,2}", "regex-bad-repeat", 1, ["text": "{,2}"]),
        ("a{2", "regex-bad-repeat", 1, ["text": "{2"]),
        ("a{101}", "regex-repeat-too-large", 1, ["text": "{101}", "max": "100"]),
        ("a{1,99999999999999999999}", "regex-repeat-too-large", 1, ["text": "{1,99999999999999999999}", "max": "100"]),
        ("((a{100}){100}){100}", "regex-too-large", 0, ["max": "1000"]),
        ("(a{0,100}){10}", "regex-too-large", 0, ["max": "1000"]),
        ("\\b", "regex-unknown-escape", 0, ["text": "\\b"]),
        ("\\p{Greek}", "regex-unknown-property", 0, ["name": "Greek"]),
        ("\\pL", "regex-unknown-property", 0, ["name": ""]),
        ("ab\\", "regex-trailing-backslash", 2, [:]),
    ])
    func refused(pattern: String, code: String, position: Int, args: [String: String]) throws {
        let r = try #require(refusal(pattern), "\(pattern) compiled")
        #expect(r.code == code, "\(pattern)")
        #expect(r.position == position, "\(pattern)")
        #expect(r.args == args, "\(pattern)")
    }

    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "(", count: 33) + "a" + String(repeating: ")", count: 33)
        #expect(refusal(deep)?.code == "regex-too-deep")
        let fine = String(repeating: "(", count: 32) + "a" + String(repeating: ")", count: 32)
        #expect(try regex(fine).matches("a"))
    }

    @Test func repeatsOfNothingWriteNothing() throws {
        // Nested repeats of an empty group measure 0 and must not be walked 100^n times.
        let pattern = String(repeating: "(", count: 30) + String(repeating: "){100}", count: 30) + "x"
        #expect(try regex(pattern).matches("x"))
    }
}

// MARK: - In the expression language

private enum Fixture {
    static func dialog() -> Dialog {
        Dialog(id: "re", version: "1", title: "re.title", items: [
            .question(Question(id: "kana", kind: .text(maxLength: nil), text: "q.kana")),
            .question(Question(id: "n", kind: .integer(min: nil, max: nil), text: "q.n")),
            .question(Question(id: "pick", kind: .single([Choice(value: "a1", label: "x"), Choice(value: "b", label: "y")]), text: "q.pick")),
        ])
    }

    static func parse(_ text: String) -> Result<Expr, ExprIssue> { ExprParser.parse(text) }

    static func issues(_ text: String, valueType: ValueType? = nil) throws -> [ExprIssue] {
        let e = try parse(text).get()
        let d = dialog()
        var checker = TypeChecker(index: d.index, settings: [:], valueType: valueType)
        _ = checker.check(e, expecting: .bool)
        return checker.issues
    }

    static func evaluate(_ text: String, _ answers: [Path: Answer] = [:], value: Value? = nil) throws -> Value? {
        let today = try #require(CivilDate(iso: "2026-01-01"))
        var ev = Evaluator(dialog: dialog(), answers: answers.mapValues { AnswerEntry($0, at: 0) }, today: today, value: value)
        return try ev.evaluate(try parse(text).get(), in: .root)
    }
}

@Suite struct MatchesFunctionTests {
    @Test func compiledOnceWhenParsed() throws {
        let e = try Fixture.parse("matches(value, '[ぁ-ゖー ]+')").get()
        #expect(e.regex?.pattern == "[ぁ-ゖー ]+")
        // Other calls carry none.
        #expect(try Fixture.parse("len(value) > 0").get().regex == nil)
    }

    @Test func evaluatesOnTextChoicesAndNull() throws {
        #expect(try Fixture.evaluate("matches(value, '[ぁ-ゖー ]+')", value: .text("らーめん たろう")) == .bool(true))
        #expect(try Fixture.evaluate("matches(value, '[ぁ-ゖー ]+')", value: .text("Ramen Taro")) == .bool(false))
        #expect(try Fixture.evaluate("not matches(kana, \"\\p{Katakana}+\")", [Path("kana"): .value(.text("カナ"))]) == .bool(false))
        #expect(try Fixture.evaluate("matches(pick, '[a-z][0-9]')", [Path("pick"): .value(.choice("a1"))]) == .bool(true))
        // An unanswered question gives null, so the check does not decide.
        #expect(try Fixture.evaluate("matches(kana, 'x')") == nil)
    }

    @Test func aPatternMayHoldTheOtherQuote() throws {
        #expect(try Fixture.evaluate("matches(value, \"it's\")", value: .text("it's")) == .bool(true))
    }

    @Test func refusedPatternsPointIntoTheExpression() throws {
        // matches(value, '(a)\1'): the quote is at 15, the pattern starts at 16, '\1' at 19.
        guard case .failure(let issue) = Fixture.parse("matches(value, '(a)\\1')") else {
            Issue.record("a back-reference was accepted")
            return
        }
        #expect(issue == ExprIssue("regex-backreference", ["text": "\\1"], at: 19))
        guard case .failure(let look) = Fixture.parse("matches(value, 'a(?=b)')") else {
            Issue.record("a look-ahead was accepted")
            return
        }
        #expect(look == ExprIssue("regex-lookaround", ["text": "(?="], at: 17))
    }

    @Test func typeChecked() throws {
        let onInt = try Fixture.issues("matches(n, '[0-9]+')")
        #expect(onInt == [ExprIssue("expr-type", ["expected": "text", "found": "integer"], at: 8)])
        let onIntValue = try Fixture.issues("matches(value, '[0-9]+')", valueType: .int)
        #expect(onIntValue.map(\.code) == ["expr-type"])
        let notLiteral = try Fixture.issues("matches(value, kana)", valueType: .text)
        #expect(notLiteral == [ExprIssue("expr-regex-literal", at: 15)])
        let arity = try Fixture.issues("matches(value)", valueType: .text)
        #expect(arity.map(\.code) == ["expr-arity"])
        #expect(try Fixture.issues("matches(value, '.*')", valueType: .text).isEmpty)
        #expect(try Fixture.issues("matches(pick, '.*')").isEmpty)
    }

    @Test func anUncompiledCallNeverMatches() throws {
        // A pattern that is not a literal was refused by lint; should one run anyway, it fails
        // (so the check does not decide) instead of compiling at a step.
        var ev = Evaluator(dialog: Fixture.dialog(), answers: [:], today: try #require(CivilDate(iso: "2026-01-01")), value: .text("x"))
        #expect((try? ev.evaluate(try Fixture.parse("matches(value, value)").get(), in: .root)) == nil)
    }
}
