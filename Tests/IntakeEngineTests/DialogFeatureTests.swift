@testable import IntakeEngine
import Testing

/// `each:` groups, month answers and placeholders in texts.
@Suite struct DialogFeatureTests {
    static func e(_ text: String) throws -> Expr { try ExprParser.parse(text).get() }

    static func dialog() throws -> Dialog {
        Dialog(id: "f", version: "1", title: "t", items: [
            .question(Question(id: "n", kind: .integer(min: 1, max: 5), text: "q.n")),
            .group(RepeatGroup(id: "children", title: "g.children", count: .from(try e("n")), max: 5, items: [
                .question(Question(id: "age", kind: .integer(min: 0, max: 20), text: "q.age")),
            ])),
            .group(RepeatGroup(id: "care", title: "g.care", count: .each("children"), max: 5, items: [
                .question(Question(id: "where", kind: .text(maxLength: nil), text: "q.where", when: try e("age <= 5"))),
            ])),
            .question(Question(id: "since", kind: .month, text: "q.since")),
            .question(Question(id: "plan", kind: .text(maxLength: nil), text: "q.plan")),
        ], computed: [ComputedValue(id: "school_year", expr: try e("year(today) + 6 - min(children, age)"))],
        settings: ["resource": .text("川越市トワイライトステイ")])
    }

    static let catalog: Catalog = {
        var c = Catalog()
        for k in EngineStrings.keys { c.set(k, k, in: "ja") }
        for (k, v) in ["t": "t", "q.n": "人数", "g.children": "{n}人目", "g.care": "{n}人目（保育）", "q.age": "{n}人目の年齢",
                       "q.where": "{n}人目の預け先", "q.since": "いつから", "q.plan": "末っ子の入学は{computed.school_year}年。{settings.resource}も。",
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
            engine = Engine(dialog: dialog, catalog: DialogFeatureTests.catalog)
            let step = engine.start(locale: "ja", at: now)
            state = step.state
            effects = step.effects
        }

        mutating func send(_ e: Event) {
            now.epochMillis += 1000
            let step = engine.handle(e, state, at: now)
            state = step.state
            effects = step.effects
        }

        var asked: String? { if case .ask(let p)? = effects.last { return p.display } else { return nil } }
        var prompt: Prompt? { if case .ask(let p)? = effects.last { return p } else { return nil } }
    }

    @Test func eachGroupFollowsTheOtherGroupsInstancesAndSeesTheirAnswers() throws {
        var run = Run(try Self.dialog())
        for a in ["2", "4", "9"] { run.send(.answer(a)) }
        #expect(run.asked == "care[1].where", "the first child is 4: asked")
        #expect(run.prompt?.text == "1人目の預け先")
        #expect(run.prompt?.context == ["1人目（保育）"])
        run.send(.answer("保育所"))
        #expect(run.asked == "since", "the second child is 9: no childcare question")
    }

    @Test func removingAChildRemovesItsChildcareToo() throws {
        var run = Run(try Self.dialog())
        for a in ["2", "9", "3", "祖母"] { run.send(.answer(a)) }
        #expect(run.state.answers[Path("where", [1])]?.answer == .value(.text("祖母")))
        run.send(.remove("children[1]"))
        #expect(run.state.answers[Path("age", [0])]?.answer == .value(.int(3)), "the second child moved up")
        #expect(run.state.answers[Path("where", [0])]?.answer == .value(.text("祖母")), "and its childcare with it")
        #expect(run.state.answers[Path("where", [1])] == nil)
        #expect(run.state.answers[Path("n")]?.answer == .value(.int(1)))
    }

    @Test func eachGroupsCannotBeAddedToOrRemovedFromDirectly() throws {
        var run = Run(try Self.dialog())
        for a in ["1", "2"] { run.send(.answer(a)) }
        run.send(.add("care"))
        #expect(run.effects.contains(.invalid(Message(key: "engine.add.not_possible", text: "engine.add.not_possible"))))
        run.send(.remove("care[1]"))
        #expect(run.effects.contains(.invalid(Message(key: "engine.remove.not_possible", text: "engine.remove.not_possible"))))
    }

    @Test(arguments: [("2019-04", "2019-04"), ("平成31年4月", "2019-04"), ("R1.5", "2019-05"), ("２０２０/１", "2020-01")])
    func monthAnswersAreKeptAsYearMonth(_ typed: String, _ kept: String) throws {
        var run = Run(try Self.dialog())
        for a in ["1", "10"] { run.send(.answer(a)) }
        #expect(run.asked == "since")
        run.send(.answer(typed))
        #expect(run.state.answers[Path("since")]?.answer == .value(.text(kept)))
    }

    @Test func aMonthThatIsNotOneIsExplained() throws {
        var run = Run(try Self.dialog())
        for a in ["1", "10", "13月"] { run.send(.answer(a)) }
        #expect(run.effects.first == .invalid(Message(key: "engine.invalid.month", text: "engine.invalid.month")))
    }

    @Test func textsShowComputedValuesAndSettings() throws {
        var run = Run(try Self.dialog())
        for a in ["2", "4", "1", "保育所", "祖母", "2020-04"] { run.send(.answer(a)) }
        #expect(run.asked == "plan")
        #expect(run.prompt?.text == "末っ子の入学は2031年。川越市トワイライトステイも。")
    }
}

@Suite struct MultiChoiceLabelTests {
    @Test(arguments: [("パート・アルバイト", ["part"]), ("パート・アルバイト、派遣", ["part", "dispatch"]),
                      ("1・3", ["regular", "dispatch"]), ("1 3", ["regular", "dispatch"]), ("正社員,パート・アルバイト", ["regular", "part"])])
    func labelsThatHoldASeparatorCanBeTyped(_ typed: String, _ picked: [String]) throws {
        let dialog = Dialog(id: "m", version: "1", title: "t", items: [
            .question(Question(id: "types", kind: .multi([Choice(value: "regular", label: "c.regular"), Choice(value: "part", label: "c.part"),
                                                          Choice(value: "dispatch", label: "c.dispatch")], minPicks: nil, maxPicks: nil), text: "t")),
        ])
        var catalog = DialogFeatureTests.catalog
        catalog.set("c.regular", "正社員", in: "ja")
        catalog.set("c.part", "パート・アルバイト", in: "ja")
        catalog.set("c.dispatch", "派遣", in: "ja")
        let engine = Engine(dialog: dialog, catalog: catalog)
        let now = Moment(epochMillis: 0)
        let step = engine.handle(.answer(typed), engine.start(locale: "ja", at: now).state, at: now)
        #expect(step.state.answers[Path("types")]?.answer == .value(.choices(picked)))
    }
}

/// A text setting written per language (a local resource's name) is shown in the session's
/// language, its readings in the screen's furigana style; a language without one shows the
/// fallback's, and expressions read the fallback's.
@Suite struct SettingTextsTests {
    static func engine(furigana: FuriganaStyle = .brackets) throws -> Engine {
        var dialog = Dialog(id: "s", version: "1", title: "t", items: [
            .question(Question(id: "q", kind: .text(maxLength: nil), text: "q.text",
                               when: try DialogFeatureTests.e("settings.resource == '市の窓口'"))),
            .question(Question(id: "after", kind: .text(maxLength: nil), text: "q.after")),
        ], settings: ["resource": .text("市の窓口")])
        dialog.settingTexts["resource"] = ["ja": "市の窓口", "en": "the city's desk", "ja-easy": "{市|し}の {窓口|まどぐち}"]
        var c = Catalog()
        for locale in ["ja", "en", "ja-easy", "fr"] {
            for k in EngineStrings.keys { c.set(k, k, in: locale) }
            c.set("t", "t", in: locale)
            c.set("q.after", "after", in: locale)
        }
        c.set("q.text", "{settings.resource}で相談できます。", in: "ja")
        c.set("q.text", "Ask at {settings.resource}.", in: "en")
        c.set("q.text", "{settings.resource}で そうだん できます。", in: "ja-easy")
        c.set("q.text", "Demandez à {settings.resource}.", in: "fr")
        c.furigana = furigana
        return Engine(dialog: dialog, catalog: c)
    }

    static func asked(_ engine: Engine, _ locale: String) -> String? {
        let step = engine.start(locale: locale, at: Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0)))
        for case .ask(let p) in step.effects.reversed() { return p.text }
        return nil
    }

    @Test func eachLanguageShowsItsOwnForm() throws {
        let engine = try Self.engine()
        // The condition read the fallback's form: the question is asked in every language.
        #expect(Self.asked(engine, "ja") == "市の窓口で相談できます。")
        #expect(Self.asked(engine, "en") == "Ask at the city's desk.")
        #expect(Self.asked(engine, "ja-easy") == "市（し）の 窓口（まどぐち）で そうだん できます。")
        #expect(Self.asked(engine, "fr") == "Demandez à 市の窓口.")
        #expect(Self.asked(try Self.engine(furigana: .reading), "ja-easy") == "しの まどぐちで そうだん できます。")
    }
}

/// A snapshot names the engine it was taken under. An upgrade after which steps go differently
/// raises `Engine.stepsVersion`, which makes every older snapshot another engine's: a resume then
/// replays the session's log under the new engine instead of trusting a state the old one reached.
@Suite struct EngineFingerprintTests {
    @Test func theVersionOfHowAStepGoesIsPartOfTheFingerprint() throws {
        let engine = Engine(dialog: try DialogFeatureTests.dialog(), catalog: DialogFeatureTests.catalog)
        #expect(engine.fingerprint == Engine.fingerprint(of: engine.dialog, engine.catalog, steps: Engine.stepsVersion))
        #expect(engine.fingerprint != Engine.fingerprint(of: engine.dialog, engine.catalog, steps: Engine.stepsVersion - 1))
        // Raised for answers held while their condition waits on an answer still to come.
        #expect(Engine.stepsVersion >= 2)
    }
}
