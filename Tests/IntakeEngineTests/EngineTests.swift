import Foundation
import Testing
@testable import IntakeEngine

// MARK: - Fixtures

private func expr(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Expr {
    let result = ExprParser.parse(text)
    if case .failure(let issue) = result {
        Issue.record("\(text): \(issue.code) at \(issue.offset)", sourceLocation: sourceLocation)
    }
    return try #require(try? result.get(), sourceLocation: sourceLocation)
}

private let april1 = CivilDate(daysSinceEpoch: 19_814)  // 2024-04-01

private enum Dialogs {
    static let reasons = [
        Choice(value: "divorce", label: "reason.divorce"), Choice(value: "bereavement", label: "reason.bereavement"),
        Choice(value: "unmarried", label: "reason.unmarried"), Choice(value: "other", label: "reason.other"),
    ]
    static let support = [
        Choice(value: "hellowork", label: "support.hellowork"), Choice(value: "center", label: "support.center"),
        Choice(value: "welfare", label: "support.welfare"), Choice(value: "nothing", label: "support.nothing", exclusive: true),
    ]

    /// One question of `kind` (id `q`), then a text question `after`.
    static func one(_ kind: QuestionKind, required: Bool = true, declinable: Bool = false, openEnded: Bool = false) -> Dialog {
        Dialog(id: "one", version: "1", title: "t.title", items: [
            .question(Question(id: "q", kind: kind, text: "q.text", required: required, declinable: declinable, openEnded: openEnded)),
            .question(Question(id: "after", kind: .text(maxLength: nil), text: "q.after")),
        ])
    }

    /// Three plain questions.
    static func abc() -> Dialog {
        Dialog(id: "abc", version: "1", title: "t.title", items: [
            .question(Question(id: "a", kind: .text(maxLength: nil), text: "q.a")),
            .question(Question(id: "b", kind: .integer(min: nil, max: nil), text: "q.b")),
            .question(Question(id: "c", kind: .single(reasons), text: "q.c")),
        ])
    }

    /// A small intake: consent (with an end), profile (checks, optional, declinable, conditional,
    /// counselor-only), family (a group sized by a count), work (add-another groups, nested).
    static func intake() throws -> Dialog {
        Dialog(
            id: "intake-test", version: "3", title: "t.title",
            items: [
                .section(Section(id: "consent", title: "consent.title", items: [
                    .question(Question(id: "agree", kind: .yesNo, text: "consent.agree")),
                    .end(EndItem(id: "no_consent", when: try expr("agree == false"), message: "consent.stop", status: "stopped")),
                ])),
                .section(Section(id: "profile", title: "profile.title", items: [
                    .question(Question(id: "name", kind: .text(maxLength: 10), text: "profile.name")),
                    .question(Question(id: "kana", kind: .text(maxLength: nil), text: "profile.kana", required: false)),
                    .question(Question(id: "birth", kind: .date(min: CivilDate(iso: "1900-01-01"), max: nil), text: "profile.birth", checks: [
                        Check(expect: try expr("value <= today"), soft: false, message: "profile.birth.future"),
                        Check(expect: try expr("age(value) >= 16 and age(value) <= 70"), soft: true, message: "profile.birth.unusual"),
                    ])),
                    .question(Question(id: "reason", kind: .single(reasons), text: "profile.reason", declinable: true)),
                    .question(Question(id: "divorce_detail", kind: .text(maxLength: nil), text: "profile.divorce_detail",
                                       required: false, when: try expr("reason == 'divorce'"))),
                    .question(Question(id: "benefit_number", kind: .text(maxLength: nil), text: "profile.benefit_number",
                                       audience: .counselor)),
                ])),
                .section(Section(id: "family", title: "family.title", items: [
                    .question(Question(id: "children_count", kind: .integer(min: 0, max: 5), text: "family.children_count")),
                    .group(RepeatGroup(id: "children", title: "family.children", count: .from(try expr("children_count")), max: 5, items: [
                        .question(Question(id: "child_age", kind: .integer(min: 0, max: 30), text: "family.child_age", checks: [
                            Check(expect: try expr("value < 20"), soft: true, message: "family.child_age.adult"),
                        ])),
                        .question(Question(id: "care", kind: .single([
                            Choice(value: "daycare", label: "care.daycare"), Choice(value: "relatives", label: "care.relatives"),
                            Choice(value: "none", label: "care.none"),
                        ]), text: "family.care", when: try expr("child_age < settings.young_child_age"))),
                    ])),
                    .question(Question(id: "support", kind: .multi(support, minPicks: nil, maxPicks: 3), text: "family.support")),
                ])),
                .section(Section(id: "work", title: "work.title", items: [
                    .question(Question(id: "hours", kind: .decimal(min: 0, max: 12), text: "work.hours")),
                    .question(Question(id: "income", kind: .integer(min: 0, max: nil), text: "work.income",
                                       required: false, declinable: true)),
                    .question(Question(id: "has_history", kind: .yesNo, text: "work.has_history")),
                    .group(RepeatGroup(id: "jobs", title: "work.jobs", when: try expr("has_history"),
                                       count: .addAnother(prompt: "work.jobs.more"), min: 1, max: 3, items: [
                        .question(Question(id: "employer", kind: .text(maxLength: nil), text: "work.employer")),
                        .group(RepeatGroup(id: "tasks", title: "work.tasks", count: .addAnother(prompt: "work.tasks.more"),
                                           min: 0, max: 2, items: [
                            .question(Question(id: "task", kind: .text(maxLength: nil), text: "work.task")),
                        ])),
                    ])),
                ])),
            ],
            computed: [
                ComputedValue(id: "young_children", expr: try expr("count(children, child_age < settings.young_child_age)")),
                ComputedValue(id: "job_count", expr: try expr("count(jobs)")),
                ComputedValue(id: "age_now", expr: try expr("age(birth)")),
            ],
            suggestions: [
                SuggestionRule(id: "childcare", when: try expr("any(children, child_age < settings.young_child_age and care == 'none')"),
                               message: "suggest.childcare"),
                SuggestionRule(id: "hellowork", when: try expr("'hellowork' in support and hours >= 4"), message: "suggest.hellowork"),
                SuggestionRule(id: "bereavement", when: try expr("reason == 'bereavement'"), message: "suggest.bereavement"),
            ],
            settings: ["young_child_age": .int(6)])
    }

    /// The whole intake answered as a person at a kiosk types it, up to the final review.
    static func happyPath(counselor: Bool = false) -> [Event] {
        var lines = ["はい", "山田花子", "", "平成5年4月1日", "1", "2023年に離婚"]
        if counselor { lines.append("A-12345") }
        lines += ["２", "3", "預け先なし", "8", "1、3", "５．５", "答えない", "はい", "スーパー", "はい", "レジ", "いいえ", "いいえ"]
        return lines.map { .answer($0) }
    }
}

private enum TestCatalog {
    /// Every locale key the dialog uses.
    static func keys(of dialog: Dialog) -> [String] {
        var out = [dialog.title]
        func visit(_ items: [Item]) {
            for item in items {
                switch item {
                case .section(let s): out.append(s.title); visit(s.items)
                case .question(let q):
                    out.append(q.text)
                    out += q.kind.choices.map(\.label) + q.checks.map(\.message)
                case .group(let g):
                    out.append(g.title)
                    if case .addAnother(let prompt) = g.count { out.append(prompt) }
                    visit(g.items)
                case .end(let e): out.append(e.message)
                }
            }
        }
        visit(dialog.items)
        return out + dialog.suggestions.map(\.message)
    }

    static let ja: [String: String] = [
        "t.title": "テスト受付", "q.text": "質問", "q.after": "次の質問", "q.a": "質問A", "q.b": "質問B", "q.c": "質問C",
        "consent.title": "同意", "consent.agree": "記録してよいですか？", "consent.stop": "相談員をお呼びします。",
        "profile.title": "あなたのこと", "profile.name": "お名前は？", "profile.kana": "ふりがなは？", "profile.birth": "生年月日は？",
        "profile.birth.future": "未来の日付です。", "profile.birth.unusual": "年齢が範囲の外のようです。",
        "profile.reason": "理由は？", "profile.divorce_detail": "離婚の状況は？", "profile.benefit_number": "証書番号（相談員）",
        "reason.divorce": "離婚", "reason.bereavement": "死別", "reason.unmarried": "未婚", "reason.other": "その他",
        "family.title": "家族", "family.children_count": "お子さんは何人？", "family.children": "{n}人目のお子さん",
        "family.child_age": "{n}人目のお子さんは何歳？", "family.child_age.adult": "20歳以上です。",
        "family.care": "{n}人目のお子さんの預け先は？", "care.daycare": "保育所", "care.relatives": "親族", "care.none": "預け先なし",
        "family.support": "利用したい支援は？", "support.hellowork": "ハローワーク", "support.center": "支援センター",
        "support.welfare": "生活保護", "support.nothing": "どれもいらない", "reason.divorce.also": "離別|りこん",
        "work.title": "仕事", "work.hours": "何時間働きたい？", "work.income": "収入は？", "work.has_history": "働いた経験は？",
        "work.jobs": "{n}つ目の仕事", "work.jobs.more": "{n}つ目の仕事を追加しますか？", "work.employer": "勤め先は？",
        "work.tasks": "仕事内容{n}", "work.tasks.more": "仕事内容を追加しますか？（{n}つ目）", "work.task": "どんなことを？",
        "suggest.childcare": "保育の相談", "suggest.hellowork": "ハローワークの紹介", "suggest.bereavement": "遺族年金の案内",
        "engine.yes": "はい", "engine.no": "いいえ", "engine.decline.words": "答えない|こたえない|decline",
        "engine.ongoing.words": "現在|げんざい|いま|今|いまも|now", "engine.invalid.month": "年と月を入力してください（例：2019-04）",
        "engine.declined": "答えない", "engine.skipped": "（空欄）", "engine.list_separator": "、", "engine.date": "{wareki}",
        "engine.invalid.range": "{min}から{max}までで答えてください", "engine.invalid.min": "{min}以降で答えてください",
        "engine.invalid.choice": "1から{count}の番号で答えてください", "engine.locale.switched": "日本語にします",
        "engine.edit.unknown": "「{target}」はありません", "engine.invalid.too_long": "{max}文字までです（{length}文字）",
    ]

    static let en: [String: String] = [
        "profile.name": "Your name?", "profile.kana": "Reading of your name?", "profile.reason": "Why?",
        "reason.divorce": "Divorce", "reason.bereavement": "Death of partner", "reason.unmarried": "Never married",
        "reason.other": "Other reason", "care.none": "No care", "support.hellowork": "Hello Work",
        "engine.yes": "Yes", "engine.no": "No", "engine.decline.words": "decline|prefer not to answer",
        "engine.declined": "Prefer not to answer", "engine.skipped": "(skipped)", "engine.list_separator": ", ",
        "engine.date": "{iso}", "engine.locale.switched": "Switched to English",
        "engine.locale.unknown": "Unknown language {locale}; available: {available}",
    ]

    static func make(for dialog: Dialog) -> Catalog {
        var catalog = Catalog([:], fallback: "ja")
        for key in keys(of: dialog) + EngineStrings.keys {
            catalog.set(key, ja[key] ?? "ja:\(key)", in: "ja")
            catalog.set(key, en[key] ?? "en:\(key)", in: "en")
        }
        // Short forms of labels (no dialog names them: they go with their label).
        for (key, text) in ja where key.hasSuffix(".also") { catalog.set(key, text, in: "ja") }
        return catalog
    }
}

/// A session driven like a front end: one event a minute from noon on 2024-04-01 (JST).
/// After every step it checks that the effects end with where the session stands and that the state
/// survives a JSON round trip.
private struct Run {
    static let start = Moment.noon(of: april1)

    let engine: Engine
    private(set) var state: SessionState
    private(set) var effects: [Effect]
    private(set) var log: [[Effect]]
    private(set) var clock: Int64
    /// The answers the last step set, changed or dropped (`Step.changes`).
    private(set) var changes: [AnswerChange] = []

    init(_ dialog: Dialog, locale: String = "ja", mode: SessionState.Mode = .kiosk, at start: Moment = Run.start,
         sourceLocation: SourceLocation = #_sourceLocation) {
        engine = Engine(dialog: dialog, catalog: TestCatalog.make(for: dialog))
        let step = engine.start(locale: locale, mode: mode, at: start)
        state = step.state
        effects = step.effects
        log = [step.effects]
        clock = start.epochMillis
        Run.check(step, sourceLocation)
    }

    /// Continues a restored session.
    init(engine: Engine, state: SessionState, clock: Int64) {
        self.engine = engine
        self.state = state
        self.effects = engine.current(state)
        self.log = []
        self.clock = clock
    }

    @discardableResult
    mutating func send(_ event: Event, sourceLocation: SourceLocation = #_sourceLocation) -> [Effect] {
        clock += 60_000
        let step = engine.handle(event, state, at: Moment(epochMillis: clock, utcOffsetMinutes: state.started.utcOffsetMinutes))
        state = step.state
        effects = step.effects
        changes = step.changes
        log.append(step.effects)
        Run.check(step, sourceLocation)
        return step.effects
    }

    @discardableResult
    mutating func answer(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Effect] {
        send(.answer(text), sourceLocation: sourceLocation)
    }

    mutating func send(_ events: [Event], sourceLocation: SourceLocation = #_sourceLocation) {
        for e in events { send(e, sourceLocation: sourceLocation) }
    }

    /// The answer stored at a displayed path (`children[2].age`).
    func answer(at display: String, sourceLocation: SourceLocation = #_sourceLocation) -> Answer? {
        guard let p = engine.dialog.parsePath(display) else {
            Issue.record("no path \(display)", sourceLocation: sourceLocation)
            return nil
        }
        return state.answers[p]?.answer
    }

    var record: Record { engine.record(state) }

    private static func check(_ step: Engine.Step, _ sourceLocation: SourceLocation) {
        switch step.effects.last {
        case .ask?, .done?: break
        case .review(let r)? where r.final: break
        default: Issue.record("effects do not end with where the session stands: \(step.effects)", sourceLocation: sourceLocation)
        }
        if case .ask(let p)? = step.effects.last {
            #expect(step.state.current == p.path, sourceLocation: sourceLocation)
            #expect(step.state.phase == .asking, sourceLocation: sourceLocation)
        }
        do {
            let data = try JSONEncoder().encode(step.state)
            let decoded = try JSONDecoder().decode(SessionState.self, from: data)
            #expect(decoded == step.state, sourceLocation: sourceLocation)
            // A resume reads a snapshot directly: the same state.
            #expect(SessionState.decodedDirectly(data) == step.state, sourceLocation: sourceLocation)
            // A snapshot is written directly: read either way, the same state.
            let stored = try step.state.storedData()
            #expect(SessionState.decodedDirectly(stored) == step.state, sourceLocation: sourceLocation)
            #expect(try JSONDecoder().decode(SessionState.self, from: stored) == step.state, sourceLocation: sourceLocation)
        } catch {
            Issue.record(error, sourceLocation: sourceLocation)
        }
    }
}

private extension Array where Element == Effect {
    var prompt: Prompt? {
        for case .ask(let p) in reversed() { return p }
        return nil
    }
    /// The displayed path of the question asked, if any.
    var asked: String? { prompt?.display }
    var invalid: [String] { compactMap { if case .invalid(let m) = $0 { return m.key } else { return nil } } }
    var invalidMessages: [Message] { compactMap { if case .invalid(let m) = $0 { return m } else { return nil } } }
    var warned: [String] { flatMap { if case .warn(let ms) = $0 { return ms.map(\.key) } else { return [] } } }
    var dropped: [String] { flatMap { if case .dropped(let lines) = $0 { return lines.map(\.path) } else { return [] } } }
    var droppedLines: [AnswerLine] { flatMap { if case .dropped(let lines) = $0 { return lines } else { return [] } } }
    var notices: [Message] { compactMap { if case .notice(let m) = $0 { return m } else { return nil } } }
    var review: Review? {
        for case .review(let r) in reversed() { return r }
        return nil
    }
    var done: Record? {
        for case .done(let r) in reversed() { return r }
        return nil
    }
    var isFinalReview: Bool {
        if case .review(let r)? = last { return r.final }
        return false
    }
}

private extension JSON {
    subscript(index: Int) -> JSON? {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return nil
    }
    var keys: [String] {
        if case .object(let members) = self { return members.map(\.0) }
        return []
    }
}

// MARK: - Answers as people type them

@Suite struct EngineAnswerTests {
    /// The stored answer after typing `text` into question `q`, or the invalid keys.
    private func typed(_ text: String, into kind: QuestionKind, locale: String = "ja",
                       sourceLocation: SourceLocation = #_sourceLocation) -> (Answer?, [String]) {
        var run = Run(Dialogs.one(kind), locale: locale, sourceLocation: sourceLocation)
        let effects = run.answer(text, sourceLocation: sourceLocation)
        if effects.invalid.isEmpty {
            #expect(effects.asked == "after", "\(text)", sourceLocation: sourceLocation)
        } else {
            #expect(effects.asked == "q", "\(text)", sourceLocation: sourceLocation)
        }
        return (run.state.answers[Path("q")]?.answer, effects.invalid)
    }

    @Test func integers() {
        let kind = QuestionKind.integer(min: 0, max: 5)
        for text in ["3", "３", " ３ ", "３人", "三", "3歳", "3さい", "３にん", "3 にん"] {
            #expect(typed(text, into: kind).0 == .value(.int(3)), "\(text)")
        }
        #expect(typed("abc", into: kind) == (nil, ["engine.invalid.integer"]))
        #expect(typed("2.5", into: kind) == (nil, ["engine.invalid.integer"]))
        // A year in 和暦 is a year: here out of range, said as such.
        #expect(typed("平成30年", into: kind) == (nil, ["engine.invalid.range"]))
        #expect(typed("平成30年", into: .integer(min: 1950, max: nil)).0 == .value(.int(2018)))
        #expect(typed("６", into: kind) == (nil, ["engine.invalid.range"]))
        #expect(typed("-1", into: kind) == (nil, ["engine.invalid.range"]))
        var run = Run(Dialogs.one(kind))
        #expect(run.effects.prompt?.min == "0")
        #expect(run.effects.prompt?.max == "5")
        #expect(run.answer("9").invalidMessages == [Message(key: "engine.invalid.range", text: "0から5までで答えてください")])
    }

    @Test func decimals() {
        let kind = QuestionKind.decimal(min: 0, max: 12)
        #expect(typed("５．５", into: kind).0 == .value(.decimal(5.5)))
        #expect(typed("5", into: kind).0 == .value(.decimal(5)))
        #expect(typed("７時間", into: kind).0 == .value(.decimal(7)))
        #expect(typed("13", into: kind) == (nil, ["engine.invalid.range"]))
        #expect(typed("five", into: kind) == (nil, ["engine.invalid.decimal"]))
    }

    @Test func dates() throws {
        let kind = QuestionKind.date(min: CivilDate(iso: "1900-01-01"), max: nil)
        let expected = Answer.value(.date(try #require(CivilDate(iso: "1993-04-01"))))
        for text in ["平成5年4月1日", "H5.4.1", "h05/04/01", "平5.4.1", "1993/4/1", "１９９３－０４－０１", "１９９３年４月１日", "19930401"] {
            #expect(typed(text, into: kind).0 == expected, "\(text)")
        }
        #expect(typed("令和元年5月1日", into: kind).0 == .value(.date(try #require(CivilDate(iso: "2019-05-01")))))
        #expect(typed("平成32年1月1日", into: kind) == (nil, ["engine.invalid.date"]))
        // A day its month does not have is said as such (not "could not read").
        #expect(typed("1993/2/30", into: kind) == (nil, ["engine.invalid.no_such_day"]))
        #expect(typed("令和7年4月31日", into: kind) == (nil, ["engine.invalid.no_such_day"]))
        #expect(typed("1993/13/1", into: kind) == (nil, ["engine.invalid.date"]))
        // 和暦 in hiragana, as typed in やさしい日本語, with or without the word spaces.
        #expect(typed("へいせい 5ねん 4がつ 1にち", into: kind).0 == expected)
        #expect(typed("へいせい5ねん4がつ1にち", into: kind).0 == expected)
        #expect(typed("れいわ がんねん 5がつ 1にち", into: kind).0 == .value(.date(try #require(CivilDate(iso: "2019-05-01")))))
        #expect(typed("へいせい 32ねん 1がつ 1にち", into: kind) == (nil, ["engine.invalid.date"]))
        #expect(typed("1899-12-31", into: kind) == (nil, ["engine.invalid.min"]))
    }

    @Test func yesNo() {
        for (text, value) in [("はい", true), ("ｙｅｓ", true), ("1", true), ("うん", true), ("いいえ", false), ("2", false), ("ない", false), ("No", false)] {
            #expect(typed(text, into: .yesNo).0 == .value(.bool(value)), "\(text)")
        }
        #expect(typed("たぶん", into: .yesNo) == (nil, ["engine.invalid.yesno"]))
        #expect(typed("Yes", into: .yesNo, locale: "en").0 == .value(.bool(true)))
    }

    @Test func singleChoice() {
        let kind = QuestionKind.single(Dialogs.reasons)
        for text in ["2", "２", "2.", "死別", "bereavement", "BEREAVEMENT", "death of partner", "Death of Partner"] {
            #expect(typed(text, into: kind).0 == .value(.choice("bereavement")), "\(text)")
        }
        // In English, the Japanese label works too.
        #expect(typed("死別", into: kind, locale: "en").0 == .value(.choice("bereavement")))
        #expect(typed("5", into: kind) == (nil, ["engine.invalid.choice"]))
        #expect(typed("離", into: kind) == (nil, ["engine.invalid.choice"]))
        // The beginning of one label is that label; a beginning shared by two labels is not an answer.
        #expect(typed("その", into: kind).0 == .value(.choice("other")))
        // The short forms a locale lists for a label (`LABEL.also`) name its choice.
        #expect(typed("離別", into: kind).0 == .value(.choice("divorce")))
        #expect(typed("りこん", into: kind).0 == .value(.choice("divorce")))
        #expect(typed("Death", into: kind, locale: "en").0 == .value(.choice("bereavement")))
        #expect(typed("Ne", into: kind, locale: "en").0 == .value(.choice("unmarried")))
        #expect(typed("D", into: kind, locale: "en") == (nil, ["engine.invalid.choice"]), "one letter is too little")
        var run = Run(Dialogs.one(kind))
        #expect(run.effects.prompt?.choices.map(\.number) == [1, 2, 3, 4])
        #expect(run.effects.prompt?.choices.map(\.label) == ["離婚", "死別", "未婚", "その他"])
        #expect(run.answer("0").invalidMessages.map(\.text) == ["1から4の番号で答えてください"])
    }

    @Test func multipleChoice() {
        let kind = QuestionKind.multi(Dialogs.support, minPicks: nil, maxPicks: 3)
        let hw = Answer.value(.choices(["hellowork", "welfare"]))
        for text in ["1,3", "1、3", "１，３", "3,1", "1 3", "１　３", "ハローワーク、生活保護", "生活保護・ハローワーク", "1,3,1", "Hello Work, 3"] {
            #expect(typed(text, into: kind).0 == hw, "\(text)")
        }
        #expect(typed("4", into: kind).0 == .value(.choices(["nothing"])))
        #expect(typed("ハロー、生活", into: kind).0 == hw, "each pick by the beginning of its label")
        #expect(typed("どれもいらない", into: kind).0 == .value(.choices(["nothing"])))
        #expect(typed("1,2,3", into: kind).0 == .value(.choices(["hellowork", "center", "welfare"])))
        #expect(typed("1,4", into: kind) == (nil, ["engine.invalid.exclusive"]))
        #expect(typed("1,2,3,4", into: kind) == (nil, ["engine.invalid.picks_max"]))
        #expect(typed("1,7", into: kind) == (nil, ["engine.invalid.pick"]))
        let atLeastTwo = QuestionKind.multi(Dialogs.support, minPicks: 2, maxPicks: nil)
        #expect(typed("1", into: atLeastTwo) == (nil, ["engine.invalid.picks_min"]))
    }

    @Test func textLength() {
        let kind = QuestionKind.text(maxLength: 10)
        #expect(typed("  山田 花子  ", into: kind).0 == .value(.text("山田 花子")))
        #expect(typed("あいうえおかきくけこさ", into: kind) == (nil, ["engine.invalid.too_long"]))
        var run = Run(Dialogs.one(kind))
        #expect(run.answer("あいうえおかきくけこさ").invalidMessages.map(\.text) == ["10文字までです（11文字）"])
    }

    @Test func typedValuesFromKioskClients() {
        var run = Run(Dialogs.one(.integer(min: 0, max: 5)))
        #expect(run.send(.value(.text("four"))).invalid == ["engine.invalid.type"])
        #expect(run.send(.value(.int(9))).invalid == ["engine.invalid.range"])
        #expect(run.send(.value(.int(4))).asked == "after")
        #expect(run.answer(at: "q") == .value(.int(4)))

        var choice = Run(Dialogs.one(.single(Dialogs.reasons)))
        #expect(choice.send(.value(.choice("nope"))).invalid == ["engine.invalid.choice"])
        #expect(choice.send(.value(.choice("other"))).asked == "after")
        #expect(choice.answer(at: "q") == .value(.choice("other")))
    }

    @Test func requiredAndOptional() {
        var required = Run(Dialogs.one(.text(maxLength: nil)))
        #expect(required.answer("").invalid == ["engine.invalid.required"])
        #expect(required.answer("　").invalid == ["engine.invalid.required"])
        #expect(required.send(.skip).invalid == ["engine.invalid.required"])
        #expect(required.effects.asked == "q")
        #expect(required.state.answers.isEmpty)

        var optional = Run(Dialogs.one(.text(maxLength: nil), required: false))
        #expect(optional.effects.prompt?.required == false)
        #expect(optional.answer("").asked == "after")
        #expect(optional.answer(at: "q") == .skipped)
        var skipped = Run(Dialogs.one(.integer(min: nil, max: nil), required: false))
        #expect(skipped.send(.skip).asked == "after")
        #expect(skipped.answer(at: "q") == .skipped)
        skipped.answer("x")
        #expect(skipped.record.json["skipped"] == .array([.string("q")]))
        #expect(skipped.record.json["declined"] == .array([]))
        #expect(skipped.record.json["answers"]?["q"] == nil)
        #expect(skipped.effects.review?.lines.first?.answer == "（空欄）")
    }

    @Test func nowLeavesAnOpenEndedMonthOpen() {
        // The end of a job she still has: 現在, いま (as typed, in full width or with spaces) leave it
        // open — skipped, as Enter leaves it — and the session goes on; no month is stored.
        for text in ["現在", "いま", "　いま　", "今", "いまも", "ＮＯＷ"] {
            var run = Run(Dialogs.one(.month, required: false, openEnded: true))
            let effects = run.answer(text)
            #expect(effects.invalid.isEmpty, "\(text)")
            #expect(effects.asked == "after", "\(text)")
            #expect(run.answer(at: "q") == .skipped, "\(text)")
            run.answer("次")
            #expect(run.effects.review?.lines.first?.answer == "（空欄）", "\(text)")
            #expect(run.record.json["answers"]?["q"] == nil, "\(text)")
            #expect(run.record.json["skipped"] == .array([.string("q")]), "\(text)")
        }
        // A month is still a month there.
        var dated = Run(Dialogs.one(.month, required: false, openEnded: true))
        #expect(dated.answer("平成31年4月").asked == "after")
        #expect(dated.answer(at: "q") == .value(.text("2019-04")))
        // Only an open-ended question reads them so: elsewhere 現在 is no month, refused with the example.
        var closed = Run(Dialogs.one(.month, required: false))
        #expect(closed.answer("現在").invalidMessages.map(\.text) == ["年と月を入力してください（例：2019-04）"])
        #expect(closed.effects.asked == "q")
        #expect(closed.state.answers.isEmpty)
    }

    @Test func declineOnlyWhereAllowed() {
        var notAllowed = Run(Dialogs.one(.integer(min: nil, max: nil), required: false))
        #expect(notAllowed.effects.prompt?.declinable == false)
        #expect(notAllowed.send(.decline).invalid == ["engine.decline.not_allowed"])
        #expect(notAllowed.effects.asked == "q")
        // Typed, the words get the same explanation rather than "not a number".
        #expect(notAllowed.answer("答えない").invalid == ["engine.decline.not_allowed"])
        #expect(notAllowed.state.answers.isEmpty)

        for how in [Event.decline, .answer("答えない"), .answer("こたえない"), .answer("ＤＥＣＬＩＮＥ")] {
            var run = Run(Dialogs.one(.integer(min: nil, max: nil), required: true, declinable: true))
            #expect(run.effects.prompt?.declinable == true)
            #expect(run.send(how).asked == "after", "\(how)")
            #expect(run.answer(at: "q") == .declined, "\(how)")
        }

        var run = Run(Dialogs.one(.integer(min: nil, max: nil), required: true, declinable: true))
        run.send(.decline)
        run.answer("x")
        #expect(run.record.json["declined"] == .array([.string("q")]))
        #expect(run.record.json["skipped"] == .array([]))
        #expect(run.effects.review?.lines.first?.answer == "答えない")
    }

    @Test func declinedAndSkippedStayDistinct() {
        var run = Run(Dialogs.one(.integer(min: 0, max: nil), required: false, declinable: true))
        run.answer("")
        #expect(run.answer(at: "q") == .skipped)
        run.send(.edit("q"))
        run.send(.decline)
        #expect(run.answer(at: "q") == .declined)
        #expect(run.changes.map(\.path) == [Path("q")], "declining replaced the skip")
        #expect(run.changes.first?.entry?.answer == .declined)
        run.answer("x")
        #expect(run.record.json["declined"] == .array([.string("q")]))
        #expect(run.record.json["skipped"] == .array([]))
    }

    @Test func hardCheckRejectsWithItsMessage() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田"), .answer("")])
        #expect(run.effects.asked == "birth")
        let effects = run.answer("2030-01-01")
        #expect(effects.invalidMessages == [Message(key: "profile.birth.future", text: "未来の日付です。")])
        #expect(effects.asked == "birth")
        #expect(run.answer(at: "birth") == nil)
        #expect(run.state.pending == nil)
    }

    @Test func softCheckWarnsAndConfirmKeepsIt() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田"), .answer("")])
        let warned = run.answer("2020-01-01")
        let again = try #require(warned.prompt)
        #expect(warned == [.warn([Message(key: "profile.birth.unusual", text: "年齢が範囲の外のようです。")]), .ask(again)])
        #expect(warned.asked == "birth")
        #expect(run.answer(at: "birth") == nil)
        #expect(run.state.pending?.messages == ["profile.birth.unusual"])

        #expect(run.send(.confirm(reason: " 本人に確認済み ")).asked == "reason")
        let date = Value.date(try #require(CivilDate(iso: "2020-01-01")))
        #expect(run.answer(at: "birth") == .value(date))
        #expect(run.state.warnings.map(\.reason) == ["本人に確認済み"])
        let warnings = run.record.json["warnings"]
        #expect(warnings == .array([.object([
            ("question", .string("birth")), ("message", .string("profile.birth.unusual")),
            ("text", .string("年齢が範囲の外のようです。")), ("value", .string("2020-01-01")), ("reason", .string("本人に確認済み")),
        ])]))
        // Nothing is waiting now.
        #expect(run.send(.confirm(reason: nil)).invalid == ["engine.confirm.nothing"])
        #expect(run.effects.asked == "reason")
    }

    @Test func softCheckWithoutReasonAndInsideAGroup() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath().prefix(6).map { $0 })
        #expect(run.effects.asked == "children_count")
        run.answer("1")
        #expect(run.answer("25").warned == ["family.child_age.adult"])
        #expect(run.effects.asked == "children[1].child_age")
        #expect(run.send(.confirm(reason: nil)).asked == "support")
        let w = try #require(run.record.json["warnings"]?[0])
        #expect(w["question"] == .string("children[1].child_age"))
        #expect(w["value"] == .int(25))
        #expect(w["reason"] == nil)
    }

    @Test func aNewAnswerInsteadOfConfirm() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田"), .answer("")])
        #expect(run.answer("2020-01-01").warned == ["profile.birth.unusual"])
        // Still unusual: warned again.
        #expect(run.answer("1900-01-01").warned == ["profile.birth.unusual"])
        #expect(run.answer("1990-01-01").asked == "reason")
        #expect(run.answer(at: "birth") == .value(.date(try #require(CivilDate(iso: "1990-01-01")))))
        #expect(run.state.pending == nil)
        #expect(run.state.warnings.isEmpty)
        #expect(run.record.json["warnings"] == .array([]))
    }

    @Test func replacingAConfirmedAnswerDropsItsWarning() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田"), .answer(""), .answer("2020-01-01"), .confirm(reason: "ok")])
        #expect(run.state.warnings.count == 1)
        run.send(.edit("birth"))
        #expect(run.answer("1990-01-01").asked == "reason")
        #expect(run.state.warnings.isEmpty)
    }
}

// MARK: - Back, edit, review, finish

@Suite struct EngineNavigationTests {
    @Test func backAtTheFirstQuestion() {
        var run = Run(Dialogs.abc())
        let effects = run.send(.back)
        #expect(effects.invalid == ["engine.back.none"])
        #expect(effects.asked == "a")
    }

    @Test func backKeepsTheAnswerAndEnterKeepsIt() {
        var run = Run(Dialogs.abc())
        run.answer("x")
        run.answer("２")
        #expect(run.effects.asked == "c")
        let back = run.send(.back)
        #expect(back.asked == "b")
        #expect(back.prompt?.current == "2")
        #expect(run.answer(at: "b") == .value(.int(2)))
        #expect(run.answer("").asked == "c")
        #expect(run.answer(at: "b") == .value(.int(2)))
        #expect(run.changes.isEmpty, "enter kept the answer as it was")
    }

    @Test func backTwiceThenForwardReasksBothInOrder() {
        var run = Run(Dialogs.abc())
        run.answer("x")
        run.answer("2")
        #expect(run.send(.back).asked == "b")
        let second = run.send(.back)
        #expect(second.asked == "a")
        #expect(second.prompt?.current == "x")
        #expect(run.answer("").asked == "b")
        #expect(run.effects.prompt?.current == "2")
        #expect(run.answer("").asked == "c")
        #expect(run.effects.prompt?.current == nil)
        #expect(run.answer("1").isFinalReview)
        #expect(run.effects.review?.lines.map(\.answer) == ["x", "2", "離婚"])
    }

    @Test func backThenANewAnswerReplacesIt() {
        var run = Run(Dialogs.abc())
        run.answer("x")
        run.answer("2")
        run.send(.back)
        #expect(run.answer("5").asked == "c")
        #expect(run.answer(at: "b") == .value(.int(5)))
        #expect(run.changes.map(\.path) == [Path("b")], "only the answer replaced changed")
        #expect(run.changes.first?.entry?.answer == .value(.int(5)))
    }

    @Test func backFromTheReview() {
        var run = Run(Dialogs.abc())
        run.send([.answer("x"), .answer("2"), .answer("3")])
        #expect(run.effects.isFinalReview)
        let back = run.send(.back)
        #expect(back.asked == "c")
        #expect(back.prompt?.current == "未婚")
        #expect(run.answer("").isFinalReview)
    }

    @Test func editByReviewNumberAndByPath() {
        var run = Run(Dialogs.abc())
        run.send([.answer("x"), .answer("2"), .answer("3")])
        let review = run.effects.review
        #expect(review?.lines.map(\.number) == [1, 2, 3])
        #expect(review?.lines.map(\.path) == ["a", "b", "c"])
        #expect(review?.lines.map(\.question) == ["質問A", "質問B", "質問C"])

        let edit = run.send(.edit("２"))
        #expect(edit.asked == "b")
        #expect(edit.prompt?.current == "2")
        // Only the edited question is asked again.
        let after = run.answer("7")
        #expect(after.isFinalReview)
        #expect(after.review?.lines.map(\.answer) == ["x", "7", "未婚"])

        #expect(run.send(.edit("a")).asked == "a")
        #expect(run.answer("y").isFinalReview)
        #expect(run.answer(at: "a") == .value(.text("y")))

        for bad in ["4", "0", "zzz", "b[1]", ""] {
            let effects = run.send(.edit(bad))
            #expect(effects.invalid == ["engine.edit.unknown"], "\(bad)")
            #expect(effects.isFinalReview)
        }
        #expect(run.send(.edit("zzz")).invalidMessages.map(\.text) == ["「zzz」はありません"])
    }

    @Test func editARepeatInstance() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        #expect(run.effects.isFinalReview)
        let edit = run.send(.edit("children[1]"))
        #expect(edit.asked == "children[1].child_age")
        #expect(edit.prompt?.current == "3")
        let care = run.answer("")
        #expect(care.asked == "children[1].care")
        #expect(care.prompt?.current == "預け先なし")
        #expect(run.answer("保育所").isFinalReview)
        #expect(run.answer(at: "children[1].care") == .value(.choice("daycare")))
        #expect(run.answer(at: "children[2].child_age") == .value(.int(8)))

        #expect(run.send(.edit("children[2].child_age")).asked == "children[2].child_age")
        #expect(run.answer("").isFinalReview)
        #expect(run.send(.edit("children[9]")).invalid == ["engine.edit.unknown"])
    }

    @Test func reviewAndFinish() {
        var run = Run(Dialogs.abc())
        run.answer("x")
        let mid = run.send(.review)
        #expect(mid.review == Review(lines: [AnswerLine(number: 1, path: "a", context: [], question: "質問A", answer: "x")], final: false))
        #expect(mid.asked == "b")
        let early = run.send(.finish)
        #expect(early.invalid == ["engine.finish.not_yet"])
        #expect(early.asked == "b")
        run.send([.answer("2"), .answer("3")])
        #expect(run.effects.isFinalReview)
        #expect(run.state.phase == .reviewing)
        // An answer in the review is not taken for a question.
        #expect(run.answer("hello").invalid == ["engine.review.finish_or_edit"])
        let done = run.send(.finish)
        let record = done.done
        #expect(record?.status == "complete")
        #expect(run.state.phase == .done(status: "complete"))
        #expect(run.state.finished == Moment(epochMillis: Run.start.epochMillis + 7 * 60_000))
        // Finished: nothing more changes.
        let after = run.send(.answer("y"))
        #expect(after.invalid == ["engine.finished"])
        #expect(after.done == record)
        #expect(run.send(.edit("1")).invalid == ["engine.finished"])
        #expect(run.answer(at: "a") == .value(.text("x")))
    }

    @Test func notesAreKeptWithTheQuestion() {
        var run = Run(Dialogs.abc())
        #expect(run.send(.note("  耳が遠い  ")).notices.map(\.key) == ["engine.note.saved"])
        #expect(run.send(.note(" ")).invalid == ["engine.note.empty"])
        #expect(run.effects.asked == "a")
        run.send([.answer("x"), .answer("2"), .answer("3"), .finish])
        let notes = run.record.json["notes"]
        #expect(notes == .array([.object([("question", .string("a")), ("text", .string("耳が遠い")), ("at", .string("2024-04-01T12:01:00+09:00"))])]))
    }

    @Test func localeSwitchKeepsAnswersAndReasks() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田")])
        let before = run.state.answers
        #expect(run.effects.prompt?.text == "ふりがなは？")
        let switched = run.send(.locale("en"))
        #expect(switched.notices == [Message(key: "engine.locale.switched", text: "Switched to English")])
        #expect(switched.asked == "kana")
        #expect(switched.prompt?.text == "Reading of your name?")
        #expect(run.state.answers == before)
        #expect(run.state.locale == "en")
        run.send([.answer(""), .answer("1993-04-01")])
        #expect(run.effects.prompt?.choices.map(\.label) == ["Divorce", "Death of partner", "Never married", "Other reason"])
        run.answer("Death of partner")
        #expect(run.answer(at: "reason") == .value(.choice("bereavement")))
        let review = run.send(.review).review
        #expect(review?.lines.map(\.answer) == ["Yes", "山田", "(skipped)", "1993-04-01", "Death of partner"])
        // And back.
        let ja = run.send(.locale("ja"))
        #expect(ja.notices.map(\.text) == ["日本語にします"])
        #expect(ja.prompt?.text == "お子さんは何人？")
        let unknown = run.send(.locale("fr"))
        #expect(unknown.invalid == ["engine.locale.unknown"])
        #expect(unknown.asked == "children_count")
        #expect(run.state.locale == "ja")
    }

    @Test func startInAnUnknownLocaleFallsBack() {
        let run = Run(Dialogs.abc(), locale: "fr")
        #expect(run.state.locale == "ja")
        #expect(run.effects.prompt?.text == "質問A")
    }
}

// MARK: - Conditions, drops, repeat groups

@Suite struct EngineFlowTests {
    @Test func happyPathAsksInOrder() throws {
        var run = Run(try Dialogs.intake())
        var asked = [run.effects.asked]
        for e in Dialogs.happyPath() { asked.append(run.send(e).asked) }
        #expect(asked == [
            "agree", "name", "kana", "birth", "reason", "divorce_detail", "children_count",
            "children[1].child_age", "children[1].care", "children[2].child_age", "support", "hours", "income", "has_history",
            "jobs[1].employer", "jobs[1].tasks+1", "jobs[1].tasks[1].task", "jobs[1].tasks+2", "jobs+2", nil,
        ])
        #expect(run.effects.isFinalReview)
    }

    @Test func promptsCarryContextAndNumbers() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath().prefix(7).map { $0 })
        let p = try #require(run.effects.prompt)
        #expect(p.path == Path("child_age", [0]))
        #expect(p.display == "children[1].child_age")
        #expect(p.text == "1人目のお子さんは何歳？")
        #expect(p.context == ["家族", "1人目のお子さん"])
        #expect(p.kind == "integer")
        run.send([.answer("3"), .answer("3")])
        let second = try #require(run.effects.prompt)
        #expect(second.display == "children[2].child_age")
        #expect(second.text == "2人目のお子さんは何歳？")
        #expect(second.context == ["家族", "2人目のお子さん"])

        run.send(Dialogs.happyPath()[9...16].map { $0 })
        let more = try #require(run.effects.prompt)
        #expect(more.display == "jobs[1].tasks+2")
        #expect(more.path == Path.morePrompt("tasks", outer: [0], instance: 1))
        #expect(more.kind == "yesno")
        #expect(more.text == "仕事内容を追加しますか？（2つ目）")
        #expect(more.context == ["仕事", "1つ目の仕事", "仕事内容2"])
        #expect(more.choices.map(\.label) == ["はい", "いいえ"])
    }

    @Test func endItemStopsWithItsStatus() throws {
        var run = Run(try Dialogs.intake())
        let effects = run.answer("いいえ")
        #expect(effects.notices == [Message(key: "consent.stop", text: "相談員をお呼びします。")])
        let record = try #require(effects.done)
        #expect(effects.last == .done(record))
        #expect(record.status == "stopped")
        #expect(record.json["status"] == .string("stopped"))
        #expect(record.json["answers"] == .object([("consent", .object([("agree", .bool(false))]))]))
        #expect(run.state.phase == .done(status: "stopped"))
        #expect(run.state.finished != nil)
        #expect(run.send(.back).invalid == ["engine.finished"])
    }

    @Test func counselorOnlyQuestions() throws {
        var kiosk = Run(try Dialogs.intake(), mode: .kiosk)
        var kioskAsked: [String?] = [kiosk.effects.asked]
        for e in Dialogs.happyPath() { kioskAsked.append(kiosk.send(e).asked) }
        #expect(!kioskAsked.contains("benefit_number"))
        #expect(kiosk.effects.isFinalReview)

        var counselor = Run(try Dialogs.intake(), mode: .counselor)
        var counselorAsked: [String?] = [counselor.effects.asked]
        for e in Dialogs.happyPath(counselor: true) { counselorAsked.append(counselor.send(e).asked) }
        #expect(counselorAsked.firstIndex(of: "benefit_number") == 6)
        #expect(counselor.effects.isFinalReview)
        #expect(counselor.answer(at: "benefit_number") == .value(.text("A-12345")))
        #expect(counselor.record.json["answers"]?["profile"]?["benefit_number"] == .string("A-12345"))
        #expect(counselor.record.json["mode"] == .string("counselor"))
    }

    @Test func aConditionOnADeclinedAnswerDoesNotHold() throws {
        for when in ["reason == 'divorce'", "reason != 'divorce'", "not (reason == 'divorce')", "reason in ['divorce', 'other']"] {
            let d = Dialog(id: "w", version: "1", title: "t.title", items: [
                .question(Question(id: "reason", kind: .single(Dialogs.reasons), text: "q.c", declinable: true)),
                .question(Question(id: "a", kind: .text(maxLength: nil), text: "q.a", when: try expr(when))),
                .question(Question(id: "b", kind: .integer(min: nil, max: nil), text: "q.b")),
            ])
            var run = Run(d)
            #expect(run.send(.decline).asked == "b", "\(when)")
        }
    }

    @Test func changingAnAnswerDropsWhatNoLongerApplies() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        let reviewBefore = try #require(run.effects.review)
        #expect(reviewBefore.lines.count == 16)
        #expect(reviewBefore.lines[4].path == "reason")

        #expect(run.send(.edit("5")).asked == "reason")
        let effects = run.answer("死別")
        #expect(effects.droppedLines == [AnswerLine(number: 1, path: "divorce_detail", context: ["あなたのこと"],
                                                    question: "離婚の状況は？", answer: "2023年に離婚")])
        // Nothing else is asked again.
        #expect(effects.count == 2)
        #expect(effects.isFinalReview)
        #expect(run.answer(at: "divorce_detail") == nil)
        #expect(run.changes.contains(AnswerChange(path: Path("divorce_detail"), entry: nil)), "dropped")
        #expect(run.changes.contains { $0.path == Path("reason") && $0.entry?.answer == .value(.choice("bereavement")) })
        #expect(run.record.json["answers"]?["profile"]?["divorce_detail"] == nil)
        #expect(run.record.suggestions == ["childcare", "hellowork", "bereavement"])

        // Changing it back asks the follow-up afresh (the dropped answer is not restored).
        run.send(.edit("reason"))
        #expect(run.answer("離婚").asked == "divorce_detail")
        #expect(run.effects.prompt?.current == nil)
        #expect(run.answer("").isFinalReview)
    }

    /// After a correction, answers whose condition reads a question still to come are kept (not
    /// counted, not asked again, not in a record taken meanwhile) until that question decides
    /// them: they apply again after "yes", and go, shown as dropped, after "no".
    @Test func answersUnderAConditionStillToBeDecidedAreKeptUntilItIsDecided() throws {
        let statuses = [Choice(value: "working", label: "status.working"), Choice(value: "not_working", label: "status.not_working")]
        let d = Dialog(id: "held", version: "1", title: "t.title", items: [
            .question(Question(id: "status", kind: .single(statuses), text: "q.status")),
            .question(Question(id: "current_title", kind: .text(maxLength: nil), text: "q.current_title", when: try expr("status == 'working'"))),
            .question(Question(id: "has_history", kind: .yesNo, text: "q.has_history",
                               derive: try expr("if(status == 'working', true, null)"))),
            .section(Section(id: "history", title: "history.title", when: try expr("has_history"), items: [
                .question(Question(id: "employer", kind: .text(maxLength: nil), text: "q.employer")),
                .question(Question(id: "duties", kind: .text(maxLength: nil), text: "q.duties")),
            ])),
            .question(Question(id: "reference", kind: .text(maxLength: nil), text: "q.reference", when: try expr("has_history"))),
            .question(Question(id: "left_reason", kind: .text(maxLength: nil), text: "q.left_reason",
                               when: try expr("has_history and status == 'not_working'"))),
            .question(Question(id: "after", kind: .text(maxLength: nil), text: "q.after")),
        ])
        for decided in ["yes", "no"] {
            var run = Run(d)
            #expect(run.answer("working").asked == "current_title")
            #expect(run.answer("Line worker").asked == "employer")
            #expect(run.answer("Bento factory").asked == "duties")
            #expect(run.answer("Packing").asked == "reference")
            #expect(run.answer("Ms. Sato").asked == "after")
            #expect(run.answer("x").isFinalReview)

            run.send(.edit("status"))
            let effects = run.answer("not_working")
            // Only the answer whose condition is now false goes; has_history is asked.
            #expect(effects.dropped == ["current_title"])
            #expect(effects.asked == "has_history")
            // Employer and duties are kept, but neither counted as answered nor still to come.
            #expect(run.answer(at: "employer") == .value(.text("Bento factory")))
            #expect(effects.prompt?.answered == 2, "status and after")
            #expect(run.record.json["answers"]?["history"] == nil, "not in a record taken meanwhile")
            #expect(run.record.json["answers"]?["reference"] == nil, "not in a record taken meanwhile")

            let after = run.answer(decided)
            if decided == "yes" {
                #expect(after.dropped == [])
                // Not asked again: only the question for a job that ended is new.
                #expect(after.asked == "left_reason")
                #expect(after.prompt?.answered == 6)
                #expect(run.answer("Contract ended").isFinalReview)
                #expect(run.record.json["answers"]?["history"]?["employer"] == .string("Bento factory"))
                #expect(run.record.json["answers"]?["history"]?["duties"] == .string("Packing"))
                #expect(run.record.json["answers"]?["reference"] == .string("Ms. Sato"))
            } else {
                #expect(after.dropped == ["employer", "duties", "reference"])
                #expect(after.droppedLines.map(\.number) == [1, 2, 3])
                #expect(after.isFinalReview)
                #expect(run.answer(at: "employer") == nil)
                #expect(run.record.json["answers"]?["history"] == nil)
                #expect(run.record.json["answers"]?["reference"] == nil)
            }
        }
    }

    /// A replay renders nothing (`Engine.renders` off) and leaves, after every event, the state the
    /// rendering engine leaves: going back, editing, dropping answers, a locale, a note, the review,
    /// finishing.
    @Test func aReplayRendersNothingAndLeavesTheSameState() throws {
        let dialog = try Dialogs.intake()
        let engine = Engine(dialog: dialog, catalog: TestCatalog.make(for: dialog))
        var quiet = engine
        quiet.renders = false
        let events: [Event] = Dialogs.happyPath() + [
            .back, .back, .answer("はい"), .edit("5"), .answer("死別"), .answer("品出し"), .answer("いいえ"), .answer("いいえ"),
            .locale("en"), .note("電話は午後"),
            .repeatQuestion, .review, .edit("children_count"), .answer("1"), .locale("ja"), .finish, .review,
        ]
        var now = Run.start
        var state = engine.start(locale: "ja", at: now).state
        var replayed = quiet.start(locale: "ja", at: now).state
        #expect(replayed == state)
        var shown = 0
        for (i, e) in events.enumerated() {
            now.epochMillis += 60_000
            let step = engine.handle(e, state, at: now)
            state = step.state
            shown += step.effects.filter { if case .ask = $0 { true } else if case .review = $0 { true } else { false } }.count
            let effects = quiet.apply(e, to: &replayed, at: now)
            #expect(replayed.settled == state.settled, "after event \(i + 1), \(e)")
            #expect(!effects.contains { if case .ask = $0 { true } else if case .review = $0 { true } else if case .done = $0 { true } else { false } },
                    "nothing rendered after event \(i + 1)")
        }
        #expect(shown > events.count / 2, "the rendering engine did show where the session stood")
        #expect(state.phase == .done(status: "complete"))
    }

    @Test func changingAnAnswerAsksNewlyRelevantQuestionsOnly() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        run.send(.edit("children[2].child_age"))
        let effects = run.answer("4")
        #expect(effects.dropped.isEmpty)
        #expect(effects.asked == "children[2].care")
        #expect(run.answer("親族").isFinalReview)
        #expect(run.record.json["computed"]?["young_children"] == .int(2))

        // Cascade: no work history drops every job, task and add-another answer under it.
        run.send(.edit("has_history"))
        let drop = run.answer("いいえ")
        #expect(drop.dropped == ["jobs[1].employer", "jobs[1].tasks[1].task"])
        #expect(drop.isFinalReview)
        #expect(!run.state.answers.keys.contains { $0.isMorePrompt })
        #expect(run.record.json["answers"]?["work"]?["jobs"] == nil)
    }

    @Test func repeatGroupFromACount() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        // Raising the count asks only the new instance.
        run.send(.edit("children_count"))
        #expect(run.effects.prompt?.current == "2")
        #expect(run.answer("3").asked == "children[3].child_age")
        #expect(run.answer("10").isFinalReview)
        // Lowering it drops the last instance.
        run.send(.edit("children_count"))
        let lower = run.answer("2")
        #expect(lower.dropped == ["children[3].child_age"])
        #expect(lower.isFinalReview)
        let children = run.record.json["answers"]?["family"]?["children"]
        #expect(children == .array([.object([("child_age", .int(3)), ("care", .string("none"))]), .object([("child_age", .int(8))])]))
        run.send(.edit("children_count"))
        let none = run.answer("0")
        #expect(none.dropped == ["children[1].child_age", "children[1].care", "children[2].child_age"])
        #expect(run.record.json["answers"]?["family"]?.keys == ["children_count", "support"])
    }

    @Test func addAnotherGroupRespectsMinAndMax() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath().prefix(14).map { $0 })
        // min 1: the first job is asked without a prompt.
        #expect(run.effects.asked == "jobs[1].employer")
        run.send([.answer("スーパー"), .answer("")])  // Enter on "add a task?" means no
        #expect(run.answer(at: "jobs[1].tasks+1") == .value(.bool(false)))
        let more = try #require(run.effects.prompt)
        #expect(more.display == "jobs+2")
        #expect(more.text == "2つ目の仕事を追加しますか？")
        #expect(run.answer("たぶん").invalid == ["engine.invalid.yesno"])
        #expect(run.answer("はい").asked == "jobs[2].employer")
        run.send([.answer("工場"), .answer("いいえ")])
        #expect(run.effects.asked == "jobs+3")
        run.send([.answer("はい"), .answer("店"), .answer("いいえ")])
        // max 3: no fourth prompt.
        #expect(run.effects.isFinalReview)
        #expect(run.send(.add("jobs")).invalid == ["engine.add.max"])
        #expect(run.record.json["computed"]?["job_count"] == .int(3))
    }

    @Test func nestedGroups() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath().prefix(15).map { $0 })
        #expect(run.effects.asked == "jobs[1].tasks+1")
        run.send([.answer("はい"), .answer("レジ"), .answer("はい")])
        #expect(run.effects.asked == "jobs[1].tasks[2].task")
        // max 2 tasks: straight on to the next job's prompt.
        #expect(run.answer("品出し").asked == "jobs+2")
        run.send([.answer("はい"), .answer("工場"), .answer("はい")])
        #expect(run.effects.asked == "jobs[2].tasks[1].task")
        run.send([.answer("検品"), .answer("いいえ"), .answer("いいえ")])
        #expect(run.effects.isFinalReview)
        let jobs = run.record.json["answers"]?["work"]?["jobs"]
        #expect(jobs == .array([
            .object([("employer", .string("スーパー")), ("tasks", .array([.object([("task", .string("レジ"))]), .object([("task", .string("品出し"))])]))]),
            .object([("employer", .string("工場")), ("tasks", .array([.object([("task", .string("検品"))])]))]),
        ]))
        #expect(run.effects.review?.lines.map(\.path).suffix(5) == [
            "jobs[1].employer", "jobs[1].tasks[1].task", "jobs[1].tasks[2].task", "jobs[2].employer", "jobs[2].tasks[1].task",
        ])
        #expect(run.effects.review?.lines.last?.context == ["仕事", "2つ目の仕事", "仕事内容1"])
    }

    @Test func addAnInstanceToACountedGroup() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        let add = run.send(.add("children"))
        #expect(add.asked == "children[3].child_age")
        #expect(run.answer(at: "children_count") == .value(.int(3)))
        run.send([.answer("1"), .answer("親族")])
        #expect(run.effects.isFinalReview)
        #expect(run.send(.add("nosuch")).invalid == ["engine.add.unknown"])
        #expect(run.send(.add("children")).asked == "children[4].child_age")
    }

    @Test func removeAnInstanceShiftsLaterOnesUp() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        run.send([.add("children"), .answer("1"), .answer("親族")])
        let effects = run.send(.remove("children[1]"))
        #expect(effects.droppedLines.map(\.path) == ["children[1].child_age", "children[1].care"])
        #expect(effects.droppedLines.map(\.answer) == ["3", "預け先なし"])
        #expect(effects.isFinalReview)
        #expect(run.answer(at: "children_count") == .value(.int(2)))
        #expect(run.answer(at: "children[1].child_age") == .value(.int(8)))
        #expect(run.answer(at: "children[1].care") == nil)
        #expect(run.answer(at: "children[2].child_age") == .value(.int(1)))
        #expect(run.answer(at: "children[2].care") == .value(.choice("relatives")))
        // The answers shifted up: the last instance's places are left empty, and the first child's
        // care with them (the child now first, aged 8, was never asked about care).
        #expect(Set(run.changes.filter { $0.entry == nil }.map(\.path)) == [Path("child_age", [2]), Path("care", [2]), Path("care", [0])])
        let children = run.record.json["answers"]?["family"]?["children"]
        #expect(children == .array([.object([("child_age", .int(8))]), .object([("child_age", .int(1)), ("care", .string("relatives"))])]))
        #expect(run.record.suggestions == ["hellowork"])

        #expect(run.send(.remove("children[3]")).invalid == ["engine.remove.unknown"])
        #expect(run.send(.remove("nosuch[1]")).invalid == ["engine.remove.unknown"])
        #expect(run.effects.isFinalReview)
    }

    @Test func addAndRemoveInAnAddAnotherGroup() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        #expect(run.send(.remove("jobs[1]")).invalid == ["engine.remove.min"])
        #expect(run.send(.add("jobs")).asked == "jobs[2].employer")
        run.send([.answer("工場"), .answer("はい"), .answer("検品"), .answer("いいえ")])
        #expect(run.effects.asked == "jobs+3")
        #expect(run.answer("いいえ").isFinalReview)
        #expect(run.send(.add("jobs[1].tasks")).asked == "jobs[1].tasks[2].task")
        // Two tasks is the most, and the job prompt was already answered: straight back to the review.
        #expect(run.answer("品出し").isFinalReview)

        let removed = run.send(.remove("jobs[1]"))
        #expect(removed.dropped == ["jobs[1].employer", "jobs[1].tasks[1].task", "jobs[1].tasks[2].task"])
        // The closing "no" stays closing: nothing is asked.
        #expect(removed.isFinalReview)
        #expect(run.answer(at: "jobs[1].employer") == .value(.text("工場")))
        #expect(run.answer(at: "jobs[1].tasks[1].task") == .value(.text("検品")))
        #expect(run.answer(at: "jobs[1].tasks+2") == .value(.bool(false)))
        #expect(run.answer(at: "jobs+2") == .value(.bool(false)))
        #expect(run.record.json["computed"]?["job_count"] == .int(1))

        // A nested instance.
        #expect(run.send(.remove("jobs[1].tasks[1]")).dropped == ["jobs[1].tasks[1].task"])
        #expect(run.effects.isFinalReview)
        #expect(run.record.json["answers"]?["work"]?["jobs"] == .array([.object([("employer", .string("工場"))])]))
    }
}

// MARK: - Record, determinism, saved sessions

@Suite struct EngineRecordTests {
    @Test func recordJSON() throws {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        run.send(.finish)
        let record = try #require(run.effects.done)
        #expect(record.status == "complete")
        #expect(record.suggestions == ["childcare", "hellowork"])
        let json = record.json
        #expect(json.keys == ["dialog", "status", "locale", "mode", "started", "finished", "answers", "computed",
                              "declined", "skipped", "warnings", "suggestions", "notes"])
        #expect(json["dialog"] == .object([("id", .string("intake-test")), ("version", .string("3"))]))
        #expect(json["status"] == .string("complete"))
        #expect(json["locale"] == .string("ja"))
        #expect(json["mode"] == .string("kiosk"))
        #expect(json["started"] == .string("2024-04-01T12:00:00+09:00"))
        #expect(json["finished"] == .string("2024-04-01T12:20:00+09:00"))
        #expect(json["answers"] == .object([
            ("consent", .object([("agree", .bool(true))])),
            ("profile", .object([("name", .string("山田花子")), ("birth", .string("1993-04-01")), ("reason", .string("divorce")),
                                 ("divorce_detail", .string("2023年に離婚"))])),
            ("family", .object([
                ("children_count", .int(2)),
                ("children", .array([.object([("child_age", .int(3)), ("care", .string("none"))]), .object([("child_age", .int(8))])])),
                ("support", .array([.string("hellowork"), .string("welfare")])),
            ])),
            ("work", .object([
                ("hours", .number(5.5)), ("has_history", .bool(true)),
                ("jobs", .array([.object([("employer", .string("スーパー")), ("tasks", .array([.object([("task", .string("レジ"))])]))])])),
            ])),
        ]))
        #expect(json["computed"] == .object([("young_children", .int(1)), ("job_count", .int(1)), ("age_now", .int(31))]))
        #expect(json["declined"] == .array([.string("income")]))
        #expect(json["skipped"] == .array([.string("kana")]))
        #expect(json["warnings"] == .array([]))
        #expect(json["notes"] == .array([]))
        #expect(json["suggestions"] == .array([
            .object([("id", .string("childcare")), ("message", .string("suggest.childcare")), ("text", .string("保育の相談")),
                     // The answers the condition read; the count of children is how many instances there are, not a reason.
                     ("because", .object([("children[1].child_age", .int(3)), ("children[1].care", .string("none"))]))]),
            .object([("id", .string("hellowork")), ("message", .string("suggest.hellowork")), ("text", .string("ハローワークの紹介")),
                     ("because", .object([("support", .array([.string("hellowork"), .string("welfare")])), ("hours", .number(5.5))]))]),
        ]))
        let text = json.rendered()
        #expect(text.hasPrefix("{\"dialog\":{\"id\":\"intake-test\",\"version\":\"3\"},\"status\":\"complete\""))
        #expect(text.contains("\"hours\":5.5"))
        #expect(json.rendered(pretty: true).contains("\n  \"answers\": {\n    \"consent\": {\n      \"agree\": true\n    },"))
        // The review numbers every answer, declined and skipped ones too, in dialog order.
        let review = try #require(run.send(.review).review)
        #expect(review.lines.count == 16)
        #expect(review.lines[3].answer == "平成5年4月1日")
        #expect(review.lines[10].answer == "ハローワーク、生活保護")
        #expect(review.lines[12] == AnswerLine(number: 13, path: "income", context: ["仕事"], question: "収入は？", answer: "答えない"))
    }

    @Test func ageIsAgainstTheSessionsDate() throws {
        // 2024-03-31 15:30 UTC is already 1 April in Japan.
        let moment = Moment(epochMillis: Int64(april1.daysSinceEpoch - 1) * 86_400_000 + 15 * 3_600_000 + 30 * 60_000)
        #expect(moment.localDate == april1)
        var jst = Run(try Dialogs.intake(), at: moment)
        jst.send([.answer("はい"), .answer("山田"), .answer(""), .answer("2006-04-01")])
        #expect(jst.effects.asked == "reason")
        #expect(jst.record.json["computed"]?["age_now"] == .int(18))
        #expect(jst.record.json["started"] == .string("2024-04-01T00:30:00+09:00"))

        var utc = Run(try Dialogs.intake(), at: Moment(epochMillis: moment.epochMillis, utcOffsetMinutes: 0))
        utc.send([.answer("はい"), .answer("山田"), .answer("")])
        #expect(utc.state.today.iso == "2024-03-31")
        #expect(utc.answer("2006-04-01").asked == "reason")
        #expect(utc.record.json["computed"]?["age_now"] == .int(17))

        // A session resumed days later still counts from the day it started.
        let later = jst.engine.handle(.answer("1"), jst.state, at: Moment(epochMillis: moment.epochMillis + 400 * 86_400_000))
        #expect(jst.engine.record(later.state).json["computed"]?["age_now"] == .int(18))
    }

    /// A long session with every kind of navigation.
    private static let script: [Event] = Dialogs.happyPath() + [
        .review, .edit("children[2]"), .answer("4"), .answer("親族"), .add("children"), .answer("25"), .confirm(reason: "祖父母と同居"),
        .remove("children[1]"), .locale("en"), .edit("5"), .answer("Death of partner"), .back, .answer(""),
        .add("jobs"), .answer("工場"), .answer("no"), .answer("no"), .note("確認済み"), .locale("ja"),
        .edit("children_count"), .answer("1"), .finish,
    ]

    @Test func sameEventsGiveTheSameEffectsAndRecord() throws {
        var first = Run(try Dialogs.intake())
        first.send(Self.script)
        var second = Run(try Dialogs.intake())
        second.send(Self.script)
        #expect(first.log == second.log)
        #expect(first.state == second.state)
        let a = try #require(first.effects.done)
        let b = try #require(second.effects.done)
        #expect(a == b)
        #expect(a.json.rendered(pretty: true) == b.json.rendered(pretty: true))
        #expect(a.status == "complete")
        #expect(first.log.allSatisfy { $0.invalid.isEmpty })
    }

    @Test func aRestoredSessionContinuesIdentically() throws {
        var whole = Run(try Dialogs.intake())
        whole.send(Self.script)
        for cut in [3, 9, 20, 24, 26, 29, 32, Self.script.count - 1] {
            var part = Run(try Dialogs.intake())
            part.send(Array(Self.script[..<cut]))
            let data = try JSONEncoder().encode(part.state)
            let restored = try JSONDecoder().decode(SessionState.self, from: data)
            #expect(restored == part.state)
            // A fresh engine over the same dialog picks it up where it was.
            let engine = Engine(dialog: try Dialogs.intake(), catalog: TestCatalog.make(for: try Dialogs.intake()))
            var resumed = Run(engine: engine, state: restored, clock: part.clock)
            #expect(resumed.effects.last == part.effects.last, "cut \(cut)")
            resumed.send(Array(Self.script[cut...]))
            #expect(resumed.log == Array(whole.log[(cut + 1)...]), "cut \(cut)")
            #expect(resumed.state == whole.state, "cut \(cut)")
        }
    }

    @Test func aPendingWarningSurvivesARestore() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田"), .answer(""), .answer("2020-01-01")])
        #expect(run.state.pending != nil)
        let data = try JSONEncoder().encode(run.state)
        let restored = try JSONDecoder().decode(SessionState.self, from: data)
        #expect(restored == run.state)
        var resumed = Run(engine: run.engine, state: restored, clock: run.clock)
        #expect(resumed.send(.confirm(reason: "ok")).asked == "reason")
        #expect(resumed.record.json["warnings"]?[0]?["reason"] == .string("ok"))
    }

    @Test func theTestCatalogCoversEveryKey() throws {
        let d = try Dialogs.intake()
        let catalog = TestCatalog.make(for: d)
        for key in TestCatalog.keys(of: d) + EngineStrings.keys {
            #expect(catalog.has(key, in: "ja") && catalog.has(key, in: "en"), "\(key)")
        }
    }
}

// MARK: - Expression budget inside a session

@Suite struct EngineBudgetTests {
    @Test func aRunawayConditionOnlyHidesItsOwnQuestion() throws {
        // `c8` reads `a` 4^8 times over: beyond the evaluation budget; `c7` is within it.
        var computed = [ComputedValue(id: "c0", expr: try expr("len(a)"))]
        for i in 1...8 {
            computed.append(ComputedValue(id: "c\(i)", expr: try expr(Array(repeating: "c\(i - 1)", count: 4).joined(separator: " + "))))
        }
        let d = Dialog(id: "budget", version: "1", title: "t.title", items: [
            .question(Question(id: "a", kind: .text(maxLength: nil), text: "q.a")),
            .question(Question(id: "b", kind: .integer(min: nil, max: nil), text: "q.b", when: try expr("c8 > 0"))),
            .question(Question(id: "c", kind: .single(Dialogs.reasons), text: "q.c", when: try expr("a == 'x'"))),
        ], computed: computed.reversed())  // the runaway one first: the others must still evaluate
        var run = Run(d)
        #expect(run.answer("x").asked == "c")
        #expect(run.answer("1").isFinalReview)
        let computedValues = run.record.json["computed"]
        #expect(computedValues?["c1"] == .int(4))
        #expect(computedValues?["c7"] == .int(16_384))
        #expect(computedValues?["c8"] == .null)
    }
}

@Suite struct EngineLimitTests {
    @Test func addingBeyondTheCountQuestionsOwnMaximumIsRefused() throws {
        let dialog = Dialog(id: "limits", version: "1", title: "t.title", items: [
            .question(Question(id: "n", kind: .integer(min: 1, max: 2), text: "q.a")),
            .group(RepeatGroup(id: "kids", title: "t.title", count: .from(try expr("n")), max: 5, items: [
                .question(Question(id: "k", kind: .integer(min: 0, max: 30), text: "q.b")),
            ])),
        ])
        var run = Run(dialog)
        run.send([.answer("2"), .answer("3")])
        #expect(run.effects.asked == "kids[2].k")
        #expect(run.send(.add("kids")).invalid == ["engine.add.max"])
        #expect(run.answer(at: "n") == .value(.int(2)))
    }

    @Test func removingAnUnansweredInstanceShowsNoEmptyDroppedList() throws {
        var run = Run(try Dialogs.intake())
        run.send([.answer("はい"), .answer("山田花子"), .answer(""), .answer("平成5年4月1日"), .answer("2"),
                  .answer("2"), .answer("10")])
        #expect(run.effects.asked == "children[1].care" || run.effects.asked == "children[2].child_age")
        let effects = run.send(.remove("children[2]"))
        #expect(!effects.contains { if case .dropped = $0 { return true } else { return false } })
        #expect(run.answer(at: "children_count") == .value(.int(1)))
    }

    @Test func aTextAnswerWithoutALimitStillHasOne() {
        var run = Run(Dialogs.one(.text(maxLength: nil)))
        #expect(run.answer(String(repeating: "あ", count: Question.defaultMaxLength + 1)).invalid == ["engine.invalid.too_long"])
        #expect(run.answer(String(repeating: "あ", count: Question.defaultMaxLength)).invalid == [])
    }

    @Test func theRecordStopsWhereTheDialogEnded() throws {
        var run = Run(try Dialogs.intake())
        run.send(.answer("いいえ"))
        #expect(run.record.status == "stopped")
        #expect(run.record.json["answers"] == .object([("consent", .object([("agree", .bool(false))]))]))
    }
}

@Suite struct SpellingTests {
    @Test(arguments: [("childs", "children"), ("child", "children"), ("agee", "age"), ("max_lenght", "max_length"),
                      ("yesnoo", "yesno")])
    func suggestsTheLikelyWord(_ typo: String, _ meant: String) {
        #expect(Spelling.closest(to: typo, in: ["children", "age", "max_length", "yesno", "name", "care"]) == meant)
    }

    @Test func suggestsNothingForAnUnrelatedWord() {
        #expect(Spelling.closest(to: "xyz", in: ["children", "age"]) == nil)
    }
}

// MARK: - The record as a typed value

@Suite struct IntakeRecordTests {
    /// The small intake answered through, a note made, finished.
    fileprivate static func finished() throws -> Run {
        var run = Run(try Dialogs.intake())
        run.send(Dialogs.happyPath())
        run.send(.note("耳が遠い"))
        run.send(.finish)
        return run
    }

    @Test func aConversationsRecordRoundTripsThroughItsJSON() throws {
        let run = try Self.finished()
        let typed = run.engine.intakeRecord(run.state)
        let stored = run.record.json.rendered()
        // The typed value renders to the record as it has always been stored.
        #expect(typed.json == run.record.json)
        #expect(typed.json.rendered() == stored)
        // Read back from the stored text, it is the same value, and renders to the same bytes.
        let read = try IntakeRecord(json: try JSON(parsing: stored, keepingOrder: true))
        #expect(read == typed)
        #expect(read.json.rendered() == stored)
        #expect(read.json.rendered(pretty: true) == run.record.json.rendered(pretty: true))
        // As the runtime stores it: whose record it is and who took it, after the mode.
        var named = typed
        named.office = "川越"
        named.client = "1024"
        named.counselor = "sato"
        let namedText = named.json.rendered()
        #expect(namedText.contains(#""mode":"kiosk","office":"川越","client":"1024","counselor":"sato","started":"#))
        #expect(try IntakeRecord(json: try JSON(parsing: namedText, keepingOrder: true)) == named)
        // Everything a record holds is there to round-trip.
        #expect(!typed.answers.isEmpty && !typed.computed.isEmpty && !typed.declined.isEmpty && !typed.skipped.isEmpty)
        #expect(!typed.suggestions.isEmpty && !typed.notes.isEmpty && typed.finished != nil)
    }

    @Test func typedFieldsHoldWhatThePersonSaid() throws {
        let run = try Self.finished()
        let typed = run.engine.intakeRecord(run.state)
        #expect(typed.status == "complete")
        #expect(typed.dialog == IntakeRecord.DialogRef(id: "intake-test", version: "3"))
        guard case .section(let family)? = typed.answers["family"], case .group(let children)? = family["children"] else {
            Issue.record("no family.children in \(typed.answers)")
            return
        }
        #expect(children.map { $0["child_age"] } == [.value(.int(3)), .value(.int(8))])
        #expect(children[0]["care"] == .value(.string("none")))
        #expect(family["support"] == .value(.strings(["hellowork", "welfare"])))
        guard case .section(let work)? = typed.answers["work"] else {
            Issue.record("no work section")
            return
        }
        // 5.5 hours as typed (５．５), and a whole decimal equals the whole number it is stored as.
        #expect(work["hours"] == .value(.number(5.5)))
        #expect(RecordValue.number(5) == .int(5) && RecordValue.number(5.5) != .int(5))
        #expect(typed.declined == ["income"])
        #expect(typed.skipped == ["kana"])
        #expect(typed.suggestions.map(\.id) == run.record.suggestions)
        #expect(typed.suggestions.first?.because.map(\.name) == ["children[1].child_age", "children[1].care"])
        #expect(typed.notes.map(\.text) == ["耳が遠い"])
    }

    /// A stored document that is not a record is refused with where and what, never a crash.
    @Test func aDamagedRecordIsAClearError() throws {
        let run = try Self.finished()
        guard case .object(let top) = run.record.json else {
            Issue.record("a record is an object")
            return
        }
        func refused(_ json: JSON) -> IntakeRecord.ParseError? {
            do {
                _ = try IntakeRecord(json: json)
                return nil
            } catch {
                return error
            }
        }
        let noAnswers = refused(.object(top.filter { $0.0 != "answers" }))
        #expect(noAnswers == IntakeRecord.ParseError(at: "answers", expected: "a member"))
        #expect(noAnswers?.description == "not an intake record: at answers, expected a member")
        #expect(refused(.object(top.map { $0.0 == "status" ? ($0.0, .int(1)) : $0 })) == IntakeRecord.ParseError(at: "status", expected: "a string"))
        #expect(refused(.object(top.map { $0.0 == "answers" ? ($0.0, .array([])) : $0 })) == IntakeRecord.ParseError(at: "answers", expected: "an object"))
        let badInstance: JSON = .object([("family", .object([("children", .array([.object([]), .int(3)]))]))])
        #expect(refused(.object(top.map { $0.0 == "answers" ? ($0.0, badInstance) : $0 }))
                == IntakeRecord.ParseError(at: "answers.family.children[1]", expected: "an object"))
        #expect(refused(.object(top.map { $0.0 == "notes" ? ($0.0, .array([.object([("text", .string("x"))])])) : $0 }))
                == IntakeRecord.ParseError(at: "notes[0].question", expected: "a member"))
        #expect(refused(.object(top + [("extra", .null)])) == IntakeRecord.ParseError(at: "extra", expected: "no such member"))
        #expect(refused(.array([.int(1)])) == IntakeRecord.ParseError(at: "", expected: "an object"))
        #expect(refused(.string("山田花子"))?.description.contains("山田花子") == false)
        #expect(refused(.object(top + [("\u{1b}[2J", .null)]))?.description == "not an intake record: at ␛[2J, expected no such member")
    }
}
