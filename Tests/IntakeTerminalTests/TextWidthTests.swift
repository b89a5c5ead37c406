import IntakeTerminal
import Testing

@Suite struct TextWidthTests {
    @Test func fullWidthCharactersCountTwo() {
        #expect(TextWidth.of("abc") == 3)
        #expect(TextWidth.of("はい") == 4)
        #expect(TextWidth.of("ＡＢ１") == 6)
        #expect(TextWidth.of("ｱｲｳ") == 3)  // half-width katakana
        #expect(TextWidth.of("が") == 2)
        #expect(TextWidth.of("か\u{3099}") == 2)  // combining voiced mark adds nothing
    }

    @Test func japaneseWrapsBetweenCharactersAndKeepsClosingMarksOnTheLine() {
        let lines = TextWidth.wrap("この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？", width: 20)
        #expect(lines == ["この相談の内容を記録", "して、あなたのお仕事", "探しの支援に使っても", "よいですか？"])
        // 、 never begins a line: the character before it goes down with it.
        #expect(TextWidth.wrap("あいうえおかきくけこ、さ", width: 20) == ["あいうえおかきくけ", "こ、さ"])
    }

    @Test func latinWrapsAtSpacesWithAHangingIndent() {
        let lines = TextWidth.wrap("  1. Care worker initial training (介護職員初任者研修)", width: 30, hanging: "     ")
        #expect(lines == ["  1. Care worker initial", "     training (介護職員初任者", "     研修)"])
        for l in lines { #expect(TextWidth.of(l) <= 30) }
    }

    @Test func aWordLongerThanTheLineIsCut() {
        #expect(TextWidth.wrap(String(repeating: "x", count: 25), width: 10) == ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"])
    }
}

@Suite struct WrapRegressionTests {
    @Test func aClosingBracketAfterAFullLineTakesTheCharacterBeforeIt() {
        let text = "  このままの答えで確定するには、理由を入力してください（Enter だけなら答え直し）。"
        let lines = TextWidth.wrap(text, width: 80)
        for l in lines { #expect(TextWidth.of(l) <= 80) }
        #expect(lines.count == 2)
        #expect(lines.last?.first != "）", "\(lines)")
    }
}

/// Issue 14: a kiosk's plain text is wrapped with this too, and a client's number, date or resume
/// number before a closing mark (、。）…) must not be cut to keep the mark off a line's start.
@Suite struct WrapKeepsWordsWholeTests {
    @Test func aNumberBeforeAClosingMarkGoesDownWhole() {
        let lines = TextWidth.wrap("あいうえお1990-04-01。かきく", width: 20)
        #expect(lines == ["あいうえお", "1990-04-01。かきく"])
    }

    @Test func aResumeNumberAndItsBracketGoDownTogether() {
        let lines = TextWidth.wrap("再開番号は（7K2M-0F4R-XXXX）です", width: 27)
        #expect(lines == ["再開番号は（", "7K2M-0F4R-XXXX）です"])
    }

    @Test func aWordThatFillsTheLineStaysWholeAndTheMarkBeginsTheNext() {
        #expect(TextWidth.wrap("abcdefghij。", width: 10) == ["abcdefghij", "。"])
    }
}
