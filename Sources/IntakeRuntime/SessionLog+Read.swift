import Foundation
import IntakeEngine

/// Reading stored log entries back. Format 2 (`SessionLog+Format.swift`) is read from the project's
/// own JSON parser into the event directly: through `JSONDecoder` (a keyed container per event, per
/// value) it was as much of a resume after a killed process as replaying the entries (IntakeBench).
/// Whatever the direct reading does not expect (format 1, a shape from a newer build, damage) it
/// refuses, and the text is read with `JSONDecoder` as before, so it never accepts less or reads
/// anything differently; StoredLogFormatTests reads every case both ways and compares.
extension LogEvent {
    /// The event `text` holds: read directly, or through `JSONDecoder` when the direct reading does
    /// not recognise it. Throws what `JSONDecoder` throws.
    public static func decoding(stored text: String) throws -> LogEvent {
        if let event = try? direct(text) { return event }
        return try JSONDecoder().decode(LogEvent.self, from: Data(text.utf8))
    }

    /// The direct reading alone (nil: not recognised). For tests.
    public static func decodedDirectly(_ text: String) -> LogEvent? {
        try? direct(text)
    }

    private static func direct(_ text: String) throws -> LogEvent {
        typealias R = StoredReader
        let j = try JSON(parsing: text, keepingOrder: true)
        guard case .object = j, try R.int(j["v"]) == storedFormat else { throw R.Unrecognised() }
        func maybe(_ k: String) throws -> String? { try R.optional(j[k]).map { try R.string($0) } }
        func mode(_ k: String) throws -> SessionState.Mode? {
            try maybe(k).map { m in
                guard let mode = SessionState.Mode(rawValue: m) else { throw R.Unrecognised() }
                return mode
            }
        }
        switch try R.string(j["type"]) {
        case "start":
            guard let m = try mode("mode") else { throw R.Unrecognised() }
            return .start(dialog: try R.string(j["dialog"]), version: try R.string(j["version"]), locale: try R.string(j["locale"]),
                          mode: m, previous: try maybe("previous"), previousDate: try maybe("previousDate"))
        case "input": return .input(try Event(stored: j["event"]))
        case "suspend": return .suspend
        case "resume": return .resume(mode: try mode("mode"))
        case "migrate": return .migrate(from: try R.string(j["from"]), to: try R.string(j["to"]), mode: try mode("mode"))
        default: throw R.Unrecognised()
        }
    }
}

extension Event {
    /// A person's event in format 2 (`LogEvent.StoredInput`), read strictly.
    fileprivate init(stored j: JSON?) throws {
        typealias R = StoredReader
        guard let j, case .object = j else { throw R.Unrecognised() }
        func text(_ k: String) throws -> String { try R.string(j[k]) }
        switch try text("type") {
        case "answer": self = .answer(try text("text"))
        case "value": self = .value(try R.value(j["value"]))
        case "decline": self = .decline
        case "skip": self = .skip
        case "back": self = .back
        case "edit": self = .edit(try text("target"))
        case "add": self = .add(try text("group"))
        case "remove": self = .remove(try text("instance"))
        case "review": self = .review
        case "locale": self = .locale(try text("locale"))
        case "confirm": self = .confirm(reason: try R.optional(j["reason"]).map { try R.string($0) })
        case "finish": self = .finish
        case "note": self = .note(try text("text"))
        case "repeat": self = .repeatQuestion
        default: throw R.Unrecognised()
        }
    }
}

extension AnswerChange {
    /// The changes `text` holds (`[{"path":…,"entry":…}]`): read directly, or through
    /// `JSONDecoder` when the direct reading does not recognise it (an older shape of an answer).
    public static func decoding(stored text: String) throws -> [AnswerChange] {
        if let changes = decodedDirectly(text) { return changes }
        return try JSONDecoder().decode([AnswerChange].self, from: Data(text.utf8))
    }

    /// The direct reading alone (nil: not recognised). For tests.
    public static func decodedDirectly(_ text: String) -> [AnswerChange]? {
        typealias R = StoredReader
        return try? R.array(try JSON(parsing: text, keepingOrder: true)).map { c in
            guard case .object = c else { throw R.Unrecognised() }
            return AnswerChange(path: try R.path(c["path"]), entry: try R.optional(c["entry"]).map(R.answerEntry))
        }
    }
}
