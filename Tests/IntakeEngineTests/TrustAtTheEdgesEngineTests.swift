@testable import IntakeEngine
import Testing

/// Issue 13 at the engine: what a kiosk may see of a session a counselor worked on, and text that
/// would act on a screen refused at input and made visible on output.
@Suite struct TrustAtTheEdgesEngineTests {
    static func e(_ text: String) throws -> Expr { try ExprParser.parse(text).get() }

    /// works → (counselor-only) employer_id when works → city; a repeat group with a counselor-only question.
    static func dialog() throws -> Dialog {
        Dialog(id: "t", version: "1", title: "t", items: [
            .section(Section(id: "s", title: "s.title", items: [
                .question(Question(id: "works", kind: .yesNo, text: "q.works")),
                .question(Question(id: "employer_id", kind: .text(maxLength: nil), text: "q.employer_id", required: false,
                                   audience: .counselor, when: try e("works"))),
                .question(Question(id: "city", kind: .text(maxLength: nil), text: "q.city")),
            ], carry: true)),
        ])
    }

    static let catalog: Catalog = {
        var c = Catalog()
        for k in EngineStrings.keys { c.set(k, k, in: "ja") }
        for (k, v) in ["t": "t", "s.title": "S", "q.works": "働いていますか", "q.employer_id": "事業所番号（相談員のみ）", "q.city": "市",
                       "engine.yes": "はい", "engine.no": "いいえ"] {
            c.set(k, v, in: "ja")
        }
        return c
    }()

    static let secret = "EMP-SECRET-9"
    static var t0: Moment { Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0)) }

    /// Every string an effect shows a person.
    static func texts(_ effects: [Effect]) -> [String] {
        effects.flatMap { effect -> [String] in
            switch effect {
            case .ask(let p): return [p.display, p.text, p.current ?? ""] + p.previous.flatMap { [$0.path, $0.question, $0.answer] }
            case .review(let r): return r.lines.flatMap { [$0.path, $0.question, $0.answer] }
            case .dropped(let lines): return lines.flatMap { [$0.path, $0.question, $0.answer] }
            case .invalid(let m), .notice(let m): return [m.text]
            case .warn(let ms): return ms.map(\.text)
            case .done: return []
            }
        }
    }

    @Test func atAKioskNoCounselorOnlyAnswerIsShownOrReached() throws {
        let engine = Engine(dialog: try Self.dialog(), catalog: Self.catalog)
        var now = Self.t0
        func step(_ event: Event, _ state: SessionState) -> Engine.Step {
            now.epochMillis += 1000
            return engine.handle(event, state, at: now)
        }
        var state = engine.start(locale: "ja", mode: .counselor, at: now).state
        for a in ["はい", Self.secret] { state = step(.answer(a), state).state }
        // The counselor leaves at `city`; the client goes on at a kiosk.
        now.epochMillis += 1000
        let resumed = engine.continuing(in: .kiosk, state, at: now)
        state = resumed.state
        #expect(state.mode == .kiosk)
        // Her count of answers leaves the counselor's out: two were given, one of them is hers to
        // see, and the count must not tell that another is hidden.
        guard case .ask(let atCity)? = resumed.effects.last else { Issue.record("no question"); return }
        #expect(atCity.path == Path("city"))
        #expect(atCity.answered == 1)
        #expect(atCity.answered == engine.review(state).lines.count)
        var shown = Self.texts(resumed.effects)
        for event in [Event.review, .back, .edit("employer_id"), .edit("2"), .repeatQuestion] {
            let s = step(event, state)
            shown += Self.texts(s.effects)
            state = s.state
        }
        // Back and edit reach only `works`: the counselor's answer stays where it was.
        #expect(state.current == Path("works"))
        #expect(state.answers[Path("employer_id")]?.answer == .value(.text(Self.secret)))
        // Changing `works` drops the counselor's answer without naming it at the kiosk.
        let dropped = step(.answer("いいえ"), state)
        shown += Self.texts(dropped.effects)
        #expect(dropped.state.answers[Path("employer_id")] == nil)
        #expect(dropped.changes.contains(AnswerChange(path: Path("employer_id"), entry: nil)), "the step says it dropped it")
        for text in shown {
            for hidden in [Self.secret, "employer_id", "事業所番号（相談員のみ）"] { #expect(!text.contains(hidden), "\(text)") }
        }
        // The same state in counselor mode shows it all.
        let counselor = engine.continuing(in: .counselor, state, at: now).state
        #expect(engine.review(counselor).lines.contains { $0.answer == Self.secret })
    }

    @Test func atAKioskTheCountOfAnswersLeavesTheCounselorsOut() throws {
        let counts = Self.answeredCounts(Engine(dialog: try Self.dialog(), catalog: Self.catalog), after: ["はい", Self.secret])
        #expect(counts.counselor == 2)
        #expect(counts.kiosk == 1)
    }

    /// A counselor answers `answers`; then the count of answers shown where the session stands,
    /// went on at her terminal and at a kiosk.
    static func answeredCounts(_ engine: Engine, after answers: [String]) -> (counselor: Int?, kiosk: Int?) {
        var now = t0
        var state = engine.start(locale: "ja", mode: .counselor, at: now).state
        for a in answers {
            now.epochMillis += 1000
            state = engine.handle(.answer(a), state, at: now).state
        }
        func answered(_ mode: SessionState.Mode) -> Int? {
            guard case .ask(let p)? = engine.continuing(in: mode, state, at: now).effects.last else { return nil }
            return p.answered
        }
        return (answered(.counselor), answered(.kiosk))
    }

    /// The same inside a repeat group: each instance's counselor-only answer is left out.
    @Test func atAKioskTheCountLeavesOutTheCounselorsAnswersInEveryInstance() throws {
        let dialog = Dialog(id: "t", version: "1", title: "t", items: [
            .question(Question(id: "n", kind: .integer(min: 1, max: 3), text: "q.n")),
            .group(RepeatGroup(id: "kids", title: "g.kids", count: .from(try Self.e("n")), max: 3, items: [
                .question(Question(id: "kid_age", kind: .integer(min: 0, max: 20), text: "q.kid_age")),
                .question(Question(id: "kid_note", kind: .text(maxLength: nil), text: "q.kid_note", required: false, audience: .counselor)),
            ])),
            .question(Question(id: "city", kind: .text(maxLength: nil), text: "q.city")),
        ])
        // Two children, each with an age and a counselor's note; standing at `city`.
        let counts = Self.answeredCounts(Engine(dialog: dialog, catalog: Self.catalog), after: ["2", "4", "メモ1", "7", "メモ2"])
        #expect(counts.counselor == 5)
        #expect(counts.kiosk == 3)
    }

    @Test func aLaterVisitAtAKioskDoesNotShowTheCounselorsAnswersOfTheLastRecord() throws {
        let engine = Engine(dialog: try Self.dialog(), catalog: Self.catalog)
        let carried = Carried(previous: "s-1", previousDate: "2026-10-01",
                              answers: [Path("works"): .value(.bool(true)), Path("employer_id"): .value(.text(Self.secret)),
                                        Path("city"): .value(.text("川越市"))])
        let kiosk = engine.start(locale: "ja", mode: .kiosk, carrying: carried, at: Self.t0)
        guard case .ask(let p)? = kiosk.effects.last else { Issue.record("no question"); return }
        #expect(p.previous.map(\.answer) == ["はい", "川越市"])
        let counselor = engine.start(locale: "ja", mode: .counselor, carrying: carried, at: Self.t0)
        guard case .ask(let q)? = counselor.effects.last else { Issue.record("no question"); return }
        #expect(q.previous.map(\.answer) == ["はい", Self.secret, "川越市"])
    }

    /// A move to a new version of the dialog names the answers it sets aside; at a kiosk only the
    /// client's own (a vanished question's owner is known only from who gave its answer).
    @Test func aMoveToANewVersionNamesAtAKioskOnlyTheClientsOwnSetAsideAnswers() throws {
        let engine = Engine(dialog: try Self.dialog(), catalog: Self.catalog)
        let answers: [Path: AnswerEntry] = [
            Path("works"): AnswerEntry(.value(.bool(true)), at: 0),
            Path("old_counselor_field"): AnswerEntry(.value(.text(Self.secret)), at: 0),
            Path("old_client_field"): AnswerEntry(.value(.text("自分の答え")), at: 0),
            // No longer fits its question (now text), which is counselor-only.
            Path("employer_id"): AnswerEntry(.value(.int(31)), at: 0),
        ]
        let given: Set<Path> = [Path("works"), Path("old_client_field")]
        func setAside(_ mode: SessionState.Mode) -> [String] {
            var base = engine.start(locale: "ja", mode: mode, at: Self.t0).state
            base.dialogVersion = "0"
            let step = engine.migrate(answers: answers, from: base, at: Self.t0, clientGiven: given)
            var names: [String] = []
            for case .dropped(let lines) in step.effects { names += lines.map(\.question) }
            return names
        }
        #expect(setAside(.kiosk) == ["old_client_field"])
        #expect(setAside(.counselor) == ["employer_id", "old_client_field", "old_counselor_field"])
    }

    @Test func textHoldingControlOrBidiCharactersIsRefusedAndNothingChanges() throws {
        let engine = Engine(dialog: try Self.dialog(), catalog: Self.catalog)
        var state = engine.start(locale: "ja", mode: .counselor, at: Self.t0).state
        state = engine.handle(.answer("はい"), state, at: Self.t0).state
        for hostile in ["\u{1B}[2J", "a\u{0}b", "a\u{7F}", "\u{9B}1m", "\u{202E}abc", "\u{2067}x\u{2069}", "a\rb", "a\nb", "a\tb", "a\u{2029}b",
                        // The interlinear annotation characters carry furigana to the kiosk page: a client's text may not.
                        "\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}", "a\u{FFFA}b", "x\u{FFFB}"] {
            for event in [Event.answer(hostile), .value(.text(hostile)), .note(hostile), .confirm(reason: hostile)] {
                let s = engine.handle(event, state, at: Self.t0)
                #expect(s.state == state, "\(event)")
                guard case .invalid(let m)? = s.effects.first else { Issue.record("not refused: \(event)"); continue }
                #expect(m.key == "text_safety.control_characters")
                #expect(engine.refusal(event, state) != nil)
            }
        }
        // Surrounding spaces and line ends are trimmed as before; marks that reorder nothing pass.
        for fine in ["  川越\u{200F}市 \r", "佐藤\u{200D}", "→ ※ …", "（株）サンライズ？！＃", "\u{FFF8}\u{FFFC}\u{FFFD}"] {
            #expect(engine.refusal(.answer(fine), state) == nil, "\(fine.unicodeScalars.map(\.value))")
        }
        // A log written before the check replays as it was taken.
        let replayed = engine.replaying(.answer("\u{1B}[2J"), state, at: Self.t0).state
        #expect(replayed.answers[Path("employer_id")]?.answer == .value(.text("\u{1B}[2J")))
    }

    /// The byte-level scan (no decoding on the kiosk's hot path) finds exactly what the scalar
    /// test names: every scalar from U+0000 to U+FFFF and a few beyond, alone and inside Japanese text.
    @Test func theByteScanAgreesWithTheScalarTest() {
        var checked = 0
        var disagreeing: [String] = []
        for v in Array(0...0xFFFF) + [0x1F600, 0x20000, 0x10FFFF] {
            guard let u = Unicode.Scalar(v) else { continue }
            var s = "（仕事）"
            s.unicodeScalars.append(u)
            s += "？"
            if ControlCharacters.contains(in: s) != ControlCharacters.isUnsafe(u) { disagreeing.append("U+" + String(v, radix: 16)) }
            checked += 1
        }
        #expect(disagreeing == [])
        #expect(checked > 63_000)
        #expect(ControlCharacters.isUnsafe("\u{FFF9}") && ControlCharacters.isUnsafe("\u{FFFA}") && ControlCharacters.isUnsafe("\u{FFFB}"))
        #expect(!ControlCharacters.isUnsafe("\u{FFF8}") && !ControlCharacters.isUnsafe("\u{FFFC}") && !ControlCharacters.isUnsafe("（"))
    }

    @Test func controlCharactersAreShownNotActedOn() throws {
        #expect(ControlCharacters.visible("a\u{1B}[2J\u{07}\u{0}\u{7F}b") == "a␛[2J␇␀␡b")
        #expect(ControlCharacters.visible("\u{9B}x\u{202E}y\u{2066}\u{2028}") == "⟨U+009B⟩x⟨U+202E⟩y⟨U+2066⟩⟨U+2028⟩")
        #expect(ControlCharacters.visible("1行目\n2行目\r", keepingLineFeeds: true) == "1行目\n2行目␍")
        #expect(ControlCharacters.visible("1行目\n2行目") == "1行目␊2行目")
        let plain = "山田 花子 → ※… 😀 e\u{301} \u{200F}"
        #expect(ControlCharacters.visible(plain) == plain)
        // JSON: the same string, with escapes a terminal does not act on.
        let text = "a\u{7F}\u{85}\u{202E}\u{2029}b\u{1B}"
        let json = JSON.string(text).rendered()
        #expect(json == #""a\u007f\u0085\u202e\u2029b\u001b""#)
        #expect(try JSON(parsing: json) == .string(text))
        #expect(ControlCharacters.visible("\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}") == "⟨U+FFF9⟩仕事⟨U+FFFA⟩しごと⟨U+FFFB⟩")
        #expect(JSON.string("\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}（）").rendered() == #""\ufff9仕事\ufffaしごと\ufffb（）""#)
        #expect(JSON.string("（株）？").rendered() == "\"（株）？\"")
        let raw = "{\"a\":\"x\u{202E}\u{9B}\"}"
        #expect(ControlCharacters.escapingInJSON(raw) == #"{"a":"x\u202e\u009b"}"#)
        #expect(try JSON(parsing: ControlCharacters.escapingInJSON(raw)) == JSON(parsing: raw))
    }
}
