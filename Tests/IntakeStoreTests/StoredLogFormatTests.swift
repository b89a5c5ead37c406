import Foundation
import IntakeEngine
import IntakeRuntime
import Testing

/// Log entries are written by hand (`storedJSON`) in the form `JSONEncoder` gave them, which is what
/// every stored log holds and what replay reads with `JSONDecoder`: both checked for every case.
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
        }
    }

    @Test func answerChangesAreWrittenAsJSONEncoderWroteThem() throws {
        for list in Self.changes {
            let mine = try AnswerChange.storedJSON(list)
            let theirs = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
            #expect(try Self.same(JSON(parsing: mine), JSON(parsing: theirs)), "\(mine) vs \(theirs)")
            #expect(try JSONDecoder().decode([AnswerChange].self, from: Data(mine.utf8)) == list, "\(mine)")
        }
    }

    /// Logs written before a resumption recorded its channel's mode still read: as no change of mode.
    @Test func oldResumeAndMigrateEntriesStillRead() throws {
        #expect(try JSONDecoder().decode(LogEvent.self, from: Data(#"{"resume":{}}"#.utf8)) == .resume(mode: nil))
        #expect(try JSONDecoder().decode(LogEvent.self, from: Data(#"{"migrate":{"from":"1","to":"2"}}"#.utf8))
            == .migrate(from: "1", to: "2", mode: nil))
        #expect(try LogEvent.resume(mode: .kiosk).storedJSON() == #"{"resume":{"mode":"kiosk"}}"#)
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
