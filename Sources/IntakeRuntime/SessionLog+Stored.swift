import IntakeEngine

/// The stored text of log entries, written by hand: the same JSON that Swift's synthesized
/// `Codable` gives through Foundation's `JSONEncoder` (the format every stored log already has, and
/// what `JSONDecoder` reads back on replay), without `JSONEncoder`'s cost — it was a tenth of a kiosk
/// turn's CPU, more than the engine step (BENCHMARKS.md). A test checks both against each other for
/// every case; the switches are exhaustive, so a new case does not compile until it is written here.
extension LogEvent {
    /// Throws for a number JSON cannot hold (as `JSONEncoder` does).
    public func storedJSON() throws -> String {
        var out = ""
        out.reserveCapacity(96)
        switch self {
        case .start(let dialog, let version, let locale, let mode, let previous, let previousDate):
            out += #"{"start":{"dialog":"#
            JSON.quote(dialog, into: &out)
            out += #","version":"#
            JSON.quote(version, into: &out)
            out += #","locale":"#
            JSON.quote(locale, into: &out)
            out += #","mode":"#
            JSON.quote(mode.rawValue, into: &out)
            if let previous {
                out += #","previous":"#
                JSON.quote(previous, into: &out)
            }
            if let previousDate {
                out += #","previousDate":"#
                JSON.quote(previousDate, into: &out)
            }
            out += "}}"
        case .input(let event):
            out += #"{"input":{"_0":"#
            try event.writeStored(into: &out)
            out += "}}"
        case .suspend: out += #"{"suspend":{}}"#
        case .resume(let mode):
            if let mode {
                out += #"{"resume":{"mode":"#
                JSON.quote(mode.rawValue, into: &out)
                out += "}}"
            } else {
                out += #"{"resume":{}}"#
            }
        case .migrate(let from, let to, let mode):
            out += #"{"migrate":{"from":"#
            JSON.quote(from, into: &out)
            out += #","to":"#
            JSON.quote(to, into: &out)
            if let mode {
                out += #","mode":"#
                JSON.quote(mode.rawValue, into: &out)
            }
            out += "}}"
        }
        return out
    }
}

extension AnswerChange {
    /// A list of changes as stored (`[{"path":…,"entry":…}]`); throws for a number JSON cannot hold.
    public static func storedJSON(_ changes: [AnswerChange]) throws -> String {
        var out = "["
        out.reserveCapacity(64 * changes.count + 2)
        for (i, c) in changes.enumerated() {
            if i > 0 { out += "," }
            out += #"{"path":{"id":"#
            JSON.quote(c.path.id, into: &out)
            out += #","indices":["#
            for (j, n) in c.path.indices.enumerated() {
                if j > 0 { out += "," }
                out += String(n)
            }
            out += "]}"
            if let entry = c.entry {
                out += #","entry":{"answer":"#
                switch entry.answer {
                case .value(let v):
                    out += #"{"value":{"_0":"#
                    try v.writeStored(into: &out)
                    out += "}}"
                case .declined: out += #"{"declined":{}}"#
                case .skipped: out += #"{"skipped":{}}"#
                }
                out += #","at":"#
                out += String(entry.at)
                out += "}"
            }
            out += "}"
        }
        out += "]"
        return out
    }
}

/// A number JSON cannot hold (infinite or NaN), as `JSONEncoder` refuses it.
public struct StoredJSONError: Error, CustomStringConvertible {
    public var description: String { "a number that JSON cannot hold" }
}

extension Event {
    func writeStored(into out: inout String) throws {
        func tagged(_ tag: String, _ text: String) {
            out += "{\"" + tag + "\":{\"_0\":"
            JSON.quote(text, into: &out)
            out += "}}"
        }
        switch self {
        case .answer(let s): tagged("answer", s)
        case .value(let v):
            out += #"{"value":{"_0":"#
            try v.writeStored(into: &out)
            out += "}}"
        case .decline: out += #"{"decline":{}}"#
        case .skip: out += #"{"skip":{}}"#
        case .back: out += #"{"back":{}}"#
        case .edit(let s): tagged("edit", s)
        case .add(let s): tagged("add", s)
        case .remove(let s): tagged("remove", s)
        case .review: out += #"{"review":{}}"#
        case .locale(let s): tagged("locale", s)
        case .confirm(let reason):
            if let reason {
                out += #"{"confirm":{"reason":"#
                JSON.quote(reason, into: &out)
                out += "}}"
            } else {
                out += #"{"confirm":{}}"#
            }
        case .finish: out += #"{"finish":{}}"#
        case .note(let s): tagged("note", s)
        case .repeatQuestion: out += #"{"repeatQuestion":{}}"#
        }
    }
}

extension Value {
    func writeStored(into out: inout String) throws {
        switch self {
        case .bool(let b): out += b ? #"{"bool":true}"# : #"{"bool":false}"#
        case .int(let i): out += #"{"int":"# + String(i) + "}"
        case .decimal(let d):
            guard d.isFinite else { throw StoredJSONError() }
            out += #"{"decimal":"# + "\(d)" + "}"
        case .text(let s):
            out += #"{"text":"#
            JSON.quote(s, into: &out)
            out += "}"
        case .date(let d): out += #"{"date":""# + d.iso + #""}"#
        case .choice(let s):
            out += #"{"choice":"#
            JSON.quote(s, into: &out)
            out += "}"
        case .choices(let list):
            out += #"{"choices":["#
            for (i, s) in list.enumerated() {
                if i > 0 { out += "," }
                JSON.quote(s, into: &out)
            }
            out += "]}"
        }
    }
}
