import Foundation
import Testing
@testable import IntakeEngine

/// A snapshot's state is read directly (`SessionState.decoding(stored:)`), not through
/// JSONDecoder: it must read every shape a state can take exactly as JSONDecoder does, and leave
/// to JSONDecoder whatever it does not recognise.
@Suite struct StoredStateTests {
    static let t0 = Moment(epochMillis: 1_790_000_000_000, utcOffsetMinutes: 540)

    /// A state with every part filled: each kind of value and answer, repeat paths, a pending
    /// answer, a confirmed warning with and without a reason, notes with and without a
    /// question, a later visit, a finished session that moved versions.
    static func everything() -> SessionState {
        var s = SessionState(dialog: Dialog(id: "d", version: "2", title: "t", items: []), locale: "ja", mode: .counselor, at: t0)
        let values: [(Path, Answer)] = [
            (Path("flag"), .value(.bool(true))),
            (Path("age", [0]), .value(.int(-7))),
            (Path("age", [1]), .value(.int(Int.max))),
            (Path("wage"), .value(.decimal(1150.5))),
            (Path("whole"), .value(.decimal(3))),
            (Path("tiny"), .value(.decimal(0.1))),
            (Path("name"), .value(.text("山田 \"花子\"\n\\ 😀"))),
            (Path("born", [0, 2]), .value(.date(CivilDate(iso: "1994-07-15")!))),
            (Path("status"), .value(.choice("part_time"))),
            (Path("needs"), .value(.choices(["money", "housing"]))),
            (Path("none"), .value(.choices([]))),
            (Path("income"), .declined),
            (Path("phone"), .skipped),
        ]
        for (i, (p, a)) in values.enumerated() { s.setAnswer(AnswerEntry(a, at: t0.epochMillis + Int64(i)), at: p) }
        s.trail = values.map(\.0)
        s.reopened = [Path("age", [1]), Path("wage")]
        s.current = Path("age", [1])
        s.answersAfterCurrent = 4
        s.pending = PendingAnswer(path: Path("wage"), value: .decimal(99999.25), messages: ["engine.warn.high", "x"])
        s.warnings = [ConfirmedWarning(path: Path("age", [0]), message: "m", value: .int(-7), at: 5, reason: "本人確認済み"),
                      ConfirmedWarning(path: Path("wage"), message: "m2", value: .decimal(2), at: 6, reason: nil)]
        s.notes = [Note(path: Path("name"), text: "メモ", at: 9), Note(path: nil, text: "全体", at: 10)]
        s.revisit = Revisit(previous: "s-1", previousDate: "2026-11-01",
                            prior: [Path("status"): .value(.choice("none")), Path("income"): .declined, Path("age", [0]): .skipped],
                            sections: ["work", "family"])
        s.earlierVersions = ["1"]
        s.finished = Moment(epochMillis: t0.epochMillis + 99, utcOffsetMinutes: -300)
        s.phase = .done(status: "complete")
        return s
    }

    @Test func everyPartOfAStateReadsBackAsJSONDecoderReadsIt() throws {
        var states = [Self.everything()]
        var asking = Self.everything()
        asking.phase = .asking
        asking.finished = nil
        asking.revisit = nil
        asking.earlierVersions = nil
        asking.pending = nil
        asking.current = nil
        asking.answersAfterCurrent = nil
        asking.mode = .kiosk
        states.append(asking)
        var reviewing = asking
        reviewing.phase = .reviewing
        states.append(reviewing)
        states.append(SessionState(dialog: Dialog(id: "e", version: "1", title: "t", items: []), locale: "en", mode: .kiosk, at: Self.t0))
        for state in states {
            let data = try JSONEncoder().encode(state)
            let direct = try #require(SessionState.decodedDirectly(data), "recognised")
            #expect(direct == state)
            #expect(direct == (try JSONDecoder().decode(SessionState.self, from: data)))
            #expect(try SessionState.decoding(stored: data) == state)
        }
    }

    /// A snapshot is written directly (`storedData`), not through JSONEncoder: every shape a state
    /// can take reads back the same, directly and through JSONDecoder; numbers keep their value to
    /// the last bit; a number JSON cannot hold is refused, as JSONEncoder refuses it.
    @Test func aStateWrittenDirectlyReadsBackBothWays() throws {
        var states = [Self.everything()]
        var asking = Self.everything()
        asking.phase = .asking
        asking.finished = nil
        asking.revisit?.previousDate = nil
        asking.earlierVersions = nil
        asking.pending = nil
        asking.current = nil
        asking.answersAfterCurrent = nil
        asking.notes = []
        states.append(asking)
        var reviewing = asking
        reviewing.phase = .reviewing
        reviewing.revisit = nil
        states.append(reviewing)
        var numbers = SessionState(dialog: Dialog(id: "n", version: "1", title: "t", items: []), locale: "ja", mode: .kiosk, at: Self.t0)
        for (i, d) in [1e-7, 5e20, 1e15, 123456789.123456789, -0.5, 2.0 / 3.0, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 3.0, -0.0, 1e20, 9007199254740993.0].enumerated() {
            numbers.setAnswer(AnswerEntry(.value(.decimal(d)), at: Int64(i)), at: Path("d\(i)"))
        }
        numbers.setAnswer(AnswerEntry(.value(.int(Int.min)), at: 9), at: Path("min"))
        numbers.setAnswer(AnswerEntry(.value(.text("\u{0}\u{1b}[2J\u{7f}\u{2028}\"\\")), at: 10), at: Path("controls"))
        states.append(numbers)
        for state in states {
            let data = try state.storedData()
            #expect(SessionState.decodedDirectly(data) == state)
            #expect(try JSONDecoder().decode(SessionState.self, from: data) == state)
        }
        var infinite = numbers
        infinite.setAnswer(AnswerEntry(.value(.decimal(.infinity)), at: 11), at: Path("inf"))
        #expect(throws: SessionState.NotStorable.self) { try infinite.storedData() }
        #expect(throws: (any Error).self) { try JSONEncoder().encode(infinite) }
    }

    /// A state stored while it still kept every replaced or dropped answer (its `history`, which
    /// the session's log holds as well): both readings pass that member over and read the rest.
    @Test func aStateStoredWithItsHistoryReadsAsTheSameStateWithout() throws {
        let state = Self.everything()
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        let history = #""history":[{"path":{"id":"name","indices":[]},"entry":{"answer":{"value":{"text":"前"}},"at":1},"why":"replaced","at":2}],"#
        let older = text.replacingOccurrences(of: #""notes":["#, with: history + #""notes":["#)
        #expect(older.contains(#""why":"replaced""#))
        #expect(SessionState.decodedDirectly(Data(older.utf8)) == state)
        #expect(try JSONDecoder().decode(SessionState.self, from: Data(older.utf8)) == state)
        #expect(!text.contains("history"), "a state no longer stores one")
    }

    /// An older shape (Swift's synthesized answer, `{"value":{"_0":V}}`), unknown tags, wrong
    /// types: not recognised directly, so JSONDecoder reads it (or refuses it) as it always did.
    @Test func whatItDoesNotRecogniseGoesToJSONDecoder() throws {
        let state = Self.everything()
        let text = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        let older = text.replacingOccurrences(of: #"{"value":{"choice":"part_time"}}"#, with: #"{"value":{"_0":{"choice":"part_time"}}}"#)
        #expect(older != text)
        #expect(SessionState.decodedDirectly(Data(older.utf8)) == nil)
        #expect(try SessionState.decoding(stored: Data(older.utf8)) == state)

        for broken in [text.replacingOccurrences(of: #""mode":"counselor""#, with: #""mode":"robot""#),
                       text.replacingOccurrences(of: #"{"choice":"part_time"}"#, with: #"{"choice":7}"#),
                       text.replacingOccurrences(of: #""dialogID":"d""#, with: #""dialogID":null"#),
                       "{}", "not json", ""] {
            #expect(SessionState.decodedDirectly(Data(broken.utf8)) == nil, "\(broken.prefix(40))")
            #expect(throws: (any Error).self) { try SessionState.decoding(stored: Data(broken.utf8)) }
        }
    }
}
