import Foundation
import IntakeEngine
import IntakeRuntime
import Testing

/// Log entries are written by hand (`storedJSON`) in format 2, the form `LogEvent`'s explicit
/// `Codable` gives through `JSONEncoder`, which replay reads directly (`LogEvent.decoding(stored:)`)
/// and `JSONDecoder` reads the same: all checked for every case; and format 1 (Swift's synthesized
/// shape, in every older log) still reads.
@Suite struct StoredLogFormatTests {
    /// Strings that need escaping, or that JSONEncoder writes differently (`/` as `\/`).
    static let strings = ["", "はい", "a\"b", "back\\slash", "a/b", "改行\nと\tタブ\r", "\u{01}\u{1F}\u{7F}", "😀 e\u{301}", "{\"op\":1}"]

    static let values: [Value] = [
        .bool(true), .bool(false), .int(0), .int(-4), .int(Int.max), .int(Int.min), .decimal(2.5), .decimal(-0.0),
        .decimal(1e-7), .decimal(1e20), .decimal(0.1), .decimal(123456.789), .date(CivilDate(year: 2026, month: 11, day: 1)!),
        .choices([]), .choices(["a", "b/c"]),
    ] + strings.flatMap { [Value.text($0), .choice($0)] }

    static var events: [LogEvent] {
        var events: [LogEvent] = [
            .start(dialog: "intake", version: "3", locale: "ja", mode: .kiosk),
            .start(dialog: "followup", version: "1.2", locale: "en", mode: .counselor, previous: "s-1", previousDate: "2026-10-01"),
            .start(dialog: "x", version: "1", locale: "ja-easy", mode: .kiosk, previous: nil, previousDate: "2026-10-01"),
            .suspend, .resume(), .resume(mode: .kiosk), .resume(mode: .counselor), .migrate(from: "1", to: "2"),
            .migrate(from: "1", to: "2", mode: .kiosk),
        ]
        let inputs: [Event] = [.decline, .skip, .back, .review, .finish, .repeatQuestion, .confirm(reason: nil)]
            + values.map { .value($0) }
            + strings.flatMap { s in [Event.answer(s), .edit(s), .add(s), .remove(s), .locale(s), .confirm(reason: s), .note(s)] }
        events += inputs.map { .input($0) }
        return events
    }

    static var changes: [[AnswerChange]] {
        var lists: [[AnswerChange]] = [[]]
        lists.append([AnswerChange(path: Path("q"), entry: nil)])
        lists.append([AnswerChange(path: Path("children.age", [1]), entry: AnswerEntry(.declined, at: 1_795_000_000_000)),
                      AnswerChange(path: Path("jobs.tasks.name", [2, 3]), entry: AnswerEntry(.skipped, at: -1))])
        lists.append(values.enumerated().map { i, v in
            AnswerChange(path: Path(strings[i % strings.count], [i]), entry: AnswerEntry(.value(v), at: Int64(i)))
        })
        return lists
    }

    @Test func eventsAreWrittenAsJSONEncoderWroteThem() throws {
        for event in Self.events {
            let mine = try event.storedJSON()
            let theirs = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
            #expect(try Self.same(JSON(parsing: mine), JSON(parsing: theirs)), "\(mine) vs \(theirs)")
            #expect(try JSONDecoder().decode(LogEvent.self, from: Data(mine.utf8)) == event, "\(mine)")
            // Read back directly, as replay reads it, to the same event.
            #expect(LogEvent.decodedDirectly(mine) == event, "\(mine)")
            #expect(LogEvent.decodedDirectly(theirs) == event, "\(theirs)")
        }
    }

    @Test func answerChangesAreWrittenAsJSONEncoderWroteThem() throws {
        for list in Self.changes {
            let mine = try AnswerChange.storedJSON(list)
            let theirs = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
            #expect(try Self.same(JSON(parsing: mine), JSON(parsing: theirs)), "\(mine) vs \(theirs)")
            #expect(try JSONDecoder().decode([AnswerChange].self, from: Data(mine.utf8)) == list, "\(mine)")
            #expect(AnswerChange.decodedDirectly(mine) == list, "\(mine)")
            #expect(AnswerChange.decodedDirectly(theirs) == list, "\(theirs)")
        }
    }

    /// Logs written before a resumption recorded its channel's mode still read: as no change of mode.
    @Test func oldResumeAndMigrateEntriesStillRead() throws {
        #expect(try JSONDecoder().decode(LogEvent.self, from: Data(#"{"resume":{}}"#.utf8)) == .resume(mode: nil))
        #expect(try JSONDecoder().decode(LogEvent.self, from: Data(#"{"migrate":{"from":"1","to":"2"}}"#.utf8))
            == .migrate(from: "1", to: "2", mode: nil))
        #expect(try LogEvent.resume(mode: .kiosk).storedJSON() == #"{"v":2,"type":"resume","mode":"kiosk"}"#)
    }

    /// Every log written before format 2 holds Swift's synthesized shape: each case of it, as it
    /// was stored, reads as the same event and answer (and is written in format 2 from then on).
    @Test func formatOneEntriesReadAsTheSameEvents() throws {
        let formatOne: [(String, LogEvent)] = [
            (#"{"start":{"dialog":"intake","version":"1.0.0","locale":"ja","mode":"kiosk"}}"#,
             .start(dialog: "intake", version: "1.0.0", locale: "ja", mode: .kiosk)),
            (#"{"start":{"dialog":"followup","version":"1","locale":"en","mode":"counselor","previous":"s-1","previousDate":"2026-10-01"}}"#,
             .start(dialog: "followup", version: "1", locale: "en", mode: .counselor, previous: "s-1", previousDate: "2026-10-01")),
            (#"{"suspend":{}}"#, .suspend),
            (#"{"resume":{"mode":"counselor"}}"#, .resume(mode: .counselor)),
            (#"{"migrate":{"from":"1","to":"2","mode":"kiosk"}}"#, .migrate(from: "1", to: "2", mode: .kiosk)),
            (#"{"input":{"_0":{"answer":{"_0":"はい"}}}}"#, .input(.answer("はい"))),
            (#"{"input":{"_0":{"value":{"_0":{"choices":["a","b"]}}}}}"#, .input(.value(.choices(["a", "b"])))),
            (#"{"input":{"_0":{"value":{"_0":{"date":"2026-11-01"}}}}}"#, .input(.value(.date(CivilDate(year: 2026, month: 11, day: 1)!)))),
            (#"{"input":{"_0":{"decline":{}}}}"#, .input(.decline)),
            (#"{"input":{"_0":{"skip":{}}}}"#, .input(.skip)),
            (#"{"input":{"_0":{"back":{}}}}"#, .input(.back)),
            (#"{"input":{"_0":{"edit":{"_0":"children[2].age"}}}}"#, .input(.edit("children[2].age"))),
            (#"{"input":{"_0":{"add":{"_0":"children"}}}}"#, .input(.add("children"))),
            (#"{"input":{"_0":{"remove":{"_0":"children[2]"}}}}"#, .input(.remove("children[2]"))),
            (#"{"input":{"_0":{"review":{}}}}"#, .input(.review)),
            (#"{"input":{"_0":{"locale":{"_0":"en"}}}}"#, .input(.locale("en"))),
            (#"{"input":{"_0":{"confirm":{}}}}"#, .input(.confirm(reason: nil))),
            (#"{"input":{"_0":{"confirm":{"reason":"本人確認済み"}}}}"#, .input(.confirm(reason: "本人確認済み"))),
            (#"{"input":{"_0":{"finish":{}}}}"#, .input(.finish)),
            (#"{"input":{"_0":{"note":{"_0":"メモ"}}}}"#, .input(.note("メモ"))),
            (#"{"input":{"_0":{"repeatQuestion":{}}}}"#, .input(.repeatQuestion)),
        ]
        for (text, event) in formatOne {
            #expect(try JSONDecoder().decode(LogEvent.self, from: Data(text.utf8)) == event, "\(text)")
            // Not format 2: the direct reading passes it to JSONDecoder, which reads it as ever.
            #expect(LogEvent.decodedDirectly(text) == nil, "\(text)")
            #expect(try LogEvent.decoding(stored: text) == event, "\(text)")
            #expect(try event.storedJSON().hasPrefix(#"{"v":2,"type":"#))
        }
        let changes = #"[{"path":{"id":"age","indices":[0]},"entry":{"answer":{"value":{"_0":{"int":4}}},"at":5}},"#
            + #"{"path":{"id":"income","indices":[]},"entry":{"answer":{"declined":{}},"at":6}},"#
            + #"{"path":{"id":"memo","indices":[]},"entry":{"answer":{"skipped":{}},"at":7}},{"path":{"id":"gone","indices":[]}}]"#
        let formatOneChanges = [
            AnswerChange(path: Path("age", [0]), entry: AnswerEntry(.value(.int(4)), at: 5)),
            AnswerChange(path: Path("income"), entry: AnswerEntry(.declined, at: 6)),
            AnswerChange(path: Path("memo"), entry: AnswerEntry(.skipped, at: 7)),
            AnswerChange(path: Path("gone"), entry: nil),
        ]
        #expect(try JSONDecoder().decode([AnswerChange].self, from: Data(changes.utf8)) == formatOneChanges)
        #expect(AnswerChange.decodedDirectly(changes) == nil)
        #expect(try AnswerChange.decoding(stored: changes) == formatOneChanges)
    }

    /// A log written by a newer intake (a format this build does not know) is refused, not guessed
    /// at; so is an entry of the right format with a member of the wrong kind, or not JSON at all.
    @Test func aNewerFormatIsRefused() {
        let refused = [
            #"{"v":3,"type":"input","event":{"type":"answer","text":"x"}}"#, #"{"v":2,"type":"teleport"}"#,
            #"{"v":2,"type":"input","event":{"type":"shout"}}"#, #"{"v":2,"type":"input","event":{"type":"answer","text":4}}"#,
            #"{"v":2,"type":"start","dialog":"intake","version":"1","locale":"ja","mode":"robot"}"#,
            #"{"v":2,"type":"input","event":{"type":"value","value":{"date":"2026-02-30"}}}"#, #"{"v":2,"type":"suspend""#, "",
        ]
        for text in refused {
            #expect(throws: (any Error).self, "\(text)") { try JSONDecoder().decode(LogEvent.self, from: Data(text.utf8)) }
            #expect(throws: (any Error).self, "\(text)") { try LogEvent.decoding(stored: text) }
        }
        #expect(throws: (any Error).self) { try AnswerChange.decoding(stored: #"[{"path":{"id":"q","indices":["x"]}}]"#) }
        #expect(throws: (any Error).self) { try AnswerChange.decoding(stored: #"{"path":{"id":"q","indices":[]}}"#) }
    }

    @Test func aNumberJSONCannotHoldIsRefusedAsJSONEncoderRefusesIt() {
        #expect(throws: (any Error).self) { try LogEvent.input(.value(.decimal(.infinity))).storedJSON() }
        #expect(throws: (any Error).self) { try JSONEncoder().encode(LogEvent.input(.value(.decimal(.nan)))) }
        #expect(throws: (any Error).self) {
            try AnswerChange.storedJSON([AnswerChange(path: Path("q"), entry: AnswerEntry(.value(.decimal(.nan)), at: 0))])
        }
    }

    /// The same document, numbers by value (`2.0` and `2` are the same number).
    static func same(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case let (.int(x), .number(y)), let (.number(y), .int(x)): return Double(x) == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && same($0.1, $1.1) }
        default: return a == b
        }
    }
}
