import IntakeEngine

/// The stored text of log entries, written by hand: the same JSON that `LogEvent`'s explicit
/// `Codable` (format 2, SessionLog+Format.swift) gives through Foundation's `JSONEncoder`, and what
/// `JSONDecoder` reads back on replay, without `JSONEncoder`'s cost — it was a tenth of a kiosk
/// turn's CPU, more than the engine step (BENCHMARKS.md). A test checks both against each other for
/// every case; the switches are exhaustive, so a new case does not compile until it is written here.
extension LogEvent {
    /// Throws for a number JSON cannot hold (as `JSONEncoder` does).
    public func storedJSON() throws -> String {
        var out = ""
        out.reserveCapacity(96)
        func field(_ name: String, _ value: String?) {
            guard let value else { return }
            out += ",\"" + name + "\":"
            JSON.quote(value, into: &out)
        }
        out += #"{"v":2,"type":"#
        switch self {
        case .start(let dialog, let version, let locale, let mode, let previous, let previousDate):
            out += #""start""#
            field("dialog", dialog)
            field("version", version)
            field("locale", locale)
            field("mode", mode.rawValue)
            field("previous", previous)
            field("previousDate", previousDate)
        case .input(let event):
            out += #""input","event":"#
            try event.writeStored(into: &out)
        case .suspend: out += #""suspend""#
        case .resume(let mode):
            out += #""resume""#
            field("mode", mode?.rawValue)
        case .migrate(let from, let to, let mode):
            out += #""migrate""#
            field("from", from)
            field("to", to)
            field("mode", mode?.rawValue)
        }
        out += "}"
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
            out += #"{"path":"#
            c.path.writeStored(into: &out)
            if let entry = c.entry {
                out += #","entry":"#
                try entry.writeStored(into: &out)
            }
            out += "}"
        }
        out += "]"
        return out
    }
}

extension Event {
    /// Format 2 (`LogEvent.StoredInput`): `{"type":…}` and the event's named field.
    func writeStored(into out: inout String) throws {
        let (type, field, text) = LogEvent.StoredInput.tag(self)
        out += #"{"type":"#
        JSON.quote(type, into: &out)
        if case .value(let v) = self {
            out += #","value":"#
            try v.writeStored(into: &out)
        }
        if let field, let text {
            out += ",\"" + field + "\":"
            JSON.quote(text, into: &out)
        }
        out += "}"
    }
}
