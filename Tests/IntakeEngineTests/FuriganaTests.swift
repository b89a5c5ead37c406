@testable import IntakeEngine
import Testing

/// Readings over kanji in locale text (`{仕事|しごと}`, issue 14): the three ways a reader gets
/// them, text from a client never read as markup, and labels typed back in any of their forms.
@Suite struct FuriganaTests {
    static func catalog(_ style: FuriganaStyle = .brackets) -> Catalog {
        var c = Catalog()
        for k in EngineStrings.keys { c.set(k, k, in: "ja-easy") }
        for (k, v) in ["t": "t", "q.text": "どれですか？", "q.after": "あと",
                       "job": "{仕事|しごと}を さがす {子|こ}どもの お{母|かあ}さん",
                       "hello": "{名前|なまえ}：{name}（{n}にんめ）",
                       "c.work": "{仕事|しごと}の {給料|きゅうりょう}", "c.allowance": "{児童扶養手当|じどうふようてあて}",
                       "c.other": "そのほか（ねんきん など）",
                       "engine.yes": "はい", "engine.no": "いいえ"] {
            c.set(k, v, in: "ja-easy")
        }
        c.furigana = style
        return c
    }

    @Test func theThreeStyles() {
        #expect(Self.catalog().furigana == .brackets)  // the default
        #expect(Self.catalog(.brackets).text("job", "ja-easy") == "仕事（しごと）を さがす 子（こ）どもの お母（かあ）さん")
        #expect(Self.catalog(.reading).text("job", "ja-easy") == "しごとを さがす こどもの おかあさん")
        #expect(Self.catalog(.annotations).text("job", "ja-easy")
            == "\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}を さがす \u{FFF9}子\u{FFFA}こ\u{FFFB}どもの お\u{FFF9}母\u{FFFA}かあ\u{FFFB}さん")
        #expect(Self.catalog(.reading).optionalText("job", "ja-easy") == "しごとを さがす こどもの おかあさん")
        var c = Self.catalog()
        c.furigana = .annotations
        #expect(c.text("c.allowance", "ja-easy") == "\u{FFF9}児童扶養手当\u{FFFA}じどうふようてあて\u{FFFB}")
    }

    @Test func textWithoutReadingsIsLeftAsWritten() {
        for style in [FuriganaStyle.brackets, .reading, .annotations] {
            for plain in ["すうじで いれてください", "{name}さん", ":lang ja|en|ja-easy", "a|b", "{x|}", "{|x}", "{a|b|c}",
                          "{仕事|しごと", "}{", "", "{settings.city}の {仕事|しごと}"] {
                let expected = plain == "{settings.city}の {仕事|しごと}"
                    ? ["brackets": "{settings.city}の 仕事（しごと）", "reading": "{settings.city}の しごと",
                       "annotations": "{settings.city}の \u{FFF9}仕事\u{FFFA}しごと\u{FFFB}"][style.rawValue]
                    : plain
                #expect(Furigana.render(plain, style) == expected, "\(plain) \(style)")
            }
        }
    }

    /// What a client typed reaches a template through an argument, after the template's own
    /// readings are written: never read as markup.
    @Test func argumentsAreNeverReadAsMarkup() {
        for style in [FuriganaStyle.brackets, .reading, .annotations] {
            let c = Self.catalog(style)
            let typed = "{仕事|しごと}"
            let shown = c.text("hello", "ja-easy", ["name": typed, "n": "2"])
            #expect(shown.hasSuffix("：{仕事|しごと}（2にんめ）"), "\(style): \(shown)")
            #expect(!shown.hasSuffix("仕事（しごと）（2にんめ）"))
        }
        #expect(Self.catalog(.reading).text("hello", "ja-easy", ["name": "{仕事|しごと}"]) == "なまえ：{仕事|しごと}（{n}にんめ）")
    }

    /// A label with readings is typed back as its reading, its kanji, or both as shown on a
    /// terminal, whatever style the engine's catalog writes; the value is the same.
    @Test func aLabelWithReadingsIsTypedBackInEachOfItsForms() {
        let choices = [Choice(value: "work", label: "c.work"), Choice(value: "allowance", label: "c.allowance"),
                       Choice(value: "other", label: "c.other")]
        let dialog = Dialog(id: "f", version: "1", title: "t", items: [
            .question(Question(id: "q", kind: .single(choices), text: "q.text")),
            .question(Question(id: "after", kind: .text(maxLength: nil), text: "q.after")),
        ])
        let now = Moment.noon(of: CivilDate(year: 2026, month: 4, day: 1) ?? CivilDate(daysSinceEpoch: 0))
        for style in [FuriganaStyle.brackets, .reading, .annotations] {
            let engine = Engine(dialog: dialog, catalog: Self.catalog(style))
            let start = engine.start(locale: "ja-easy", at: now).state
            for (typed, value) in [("しごとの きゅうりょう", "work"), ("仕事の 給料", "work"), ("仕事（しごと）の 給料（きゅうりょう）", "work"),
                                   ("じどうふようてあて", "allowance"), ("児童扶養手当", "allowance"),
                                   ("児童扶養手当（じどうふようてあて）", "allowance"), ("そのほか", "other"), ("3", "other")] {
                let s = engine.handle(.answer(typed), start, at: now).state
                #expect(s.answers[Path("q")]?.answer == .value(.choice(value)), "\(style): \(typed)")
            }
        }
    }

    /// The record keeps its texts (a suggestion, a kept warning) with readings in brackets,
    /// whatever the screen shows: the same answers give the same record on the kiosk page and at
    /// a terminal, and exports hold no annotation characters.
    @Test func theRecordIsTheSameWhateverTheScreenShows() throws {
        let dialog = Dialog(id: "f", version: "1", title: "t", items: [
            .question(Question(id: "q", kind: .integer(min: nil, max: nil), text: "q.text",
                               checks: [Check(expect: try ExprParser.parse("value < 10").get(), soft: true, message: "job")])),
            .question(Question(id: "after", kind: .text(maxLength: nil), text: "q.after")),
        ], suggestions: [SuggestionRule(id: "s", when: try ExprParser.parse("q > 5").get(), message: "c.work")])
        let now = Moment.noon(of: CivilDate(year: 2026, month: 4, day: 1) ?? CivilDate(daysSinceEpoch: 0))
        func record(_ style: FuriganaStyle) -> (Record, [String]) {
            let engine = Engine(dialog: dialog, catalog: Self.catalog(style))
            var state = engine.start(locale: "ja-easy", at: now).state
            var shown: [String] = []
            for event in [Event.answer("12"), .confirm(reason: nil), .answer("x")] {
                let step = engine.handle(event, state, at: now)
                for case .warn(let ms) in step.effects { shown += ms.map(\.text) }
                state = step.state
            }
            return (engine.record(state), shown)
        }
        let (brackets, shownInBrackets) = record(.brackets)
        let (annotated, shownAnnotated) = record(.annotations)
        #expect(annotated == brackets)
        #expect(!annotated.json.rendered().contains("\\ufff9") && !annotated.json.rendered().contains("\u{FFF9}"))
        #expect(annotated.json.rendered().contains("仕事（しごと）の 給料（きゅうりょう）"))
        #expect(annotated.json.rendered().contains("仕事（しごと）を さがす"))
        // The screen itself shows the warning in its own style.
        #expect(shownInBrackets == ["仕事（しごと）を さがす 子（こ）どもの お母（かあ）さん"])
        #expect(shownAnnotated.first?.hasPrefix("\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}") == true)
        // So does the end: the suggestions `done` shows come in the screen's style (the record's stay in brackets).
        #expect(brackets.shown == ["仕事（しごと）の 給料（きゅうりょう）"])
        #expect(annotated.shown == ["\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}の \u{FFF9}給料\u{FFFA}きゅうりょう\u{FFFB}"])
    }

    /// What lint reads: malformed groups, a base that is not kanji, a reading that is not kana,
    /// bare kanji in ja-easy, and readings where they do not belong — each at its character.
    @Test func checkFindsEachProblemAtItsCharacter() {
        func issues(_ s: String, easy: Bool = true) -> [String] {
            Furigana.check(s, easy: easy).map { "\($0.kind.rawValue)@\($0.offset):\($0.text)" }
        }
        #expect(issues("{仕事|しごと}を {名前|なまえ}：{name}、お{金|かね}、{時々|ときどき}、ノート") == [])
        #expect(issues("ばんごう {仕事|しごと") == ["furigana-unclosed@5:{仕事|しごと"])
        #expect(issues("{|しごと}") == ["furigana-malformed@0:{|しごと}"])
        #expect(issues("あ{仕事|}") == ["furigana-malformed@1:{仕事|}"])
        #expect(issues("{仕事|し|ごと}") == ["furigana-malformed@0:{仕事|し|ごと}"])
        #expect(issues("{しごと|しごと}") == ["furigana-base-not-kanji@0:{しごと|しごと}"])
        #expect(issues("{お金|おかね}") == ["furigana-base-not-kanji@0:{お金|おかね}"])
        #expect(issues("{仕事|shigoto}") == ["furigana-reading-not-kana@0:{仕事|shigoto}"])
        #expect(issues("{仕事|し ごと}") == ["furigana-reading-not-kana@0:{仕事|し ごと}"])
        #expect(issues("すきな 仕事を {子|こ}どもと 探す") == ["furigana-bare-kanji@4:仕事", "furigana-bare-kanji@17:探"])
        #expect(issues("すきな 仕事を", easy: false) == [])
        #expect(issues("{仕事|しごと}を", easy: false) == ["furigana-not-here@0:{仕事|しごと}"])
        #expect(issues("{name} of {count}", easy: false) == [])
        #expect(issues("{name of", easy: false) == ["furigana-unclosed@0:{name of"])
        #expect(issues("{仕事|し|ごと}と 探す {子|こ}") == ["furigana-malformed@0:{仕事|し|ごと}", "furigana-bare-kanji@11:探"])
    }

    @Test func formsAreReadingKanjiAndBrackets() {
        #expect(Furigana.forms("{仕事|しごと}の {給料|きゅうりょう}") == ["しごとの きゅうりょう", "仕事の 給料", "仕事（しごと）の 給料（きゅうりょう）"])
        #expect(Furigana.forms("はい") == ["はい"])
        #expect(Furigana.hasGroups("{仕事|しごと}"))
        #expect(!Furigana.hasGroups("{name}|x"))
    }
}
