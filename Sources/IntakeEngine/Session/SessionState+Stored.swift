import Foundation

/// Reading a stored session state (a snapshot) back. The state is stored in the shape its
/// `Codable` conformance gives (written directly, `storedData()` below; older snapshots by
/// `JSONEncoder`); reading it back with `JSONDecoder` was most of a resume (a keyed container per
/// answer, per path: about 6 MB/s, IntakeBench).
/// This reads the same shape from the project's own JSON parser into the values directly. Whatever
/// it does not expect (a shape from another version, a hand-edited state) it refuses, and
/// `decoding(stored:)` then reads it with `JSONDecoder` as before, so it never accepts less or
/// reads anything differently; intake's test suite decodes every state of every conversation in
/// Dialogs/tests both ways and compares (`ConversationRunner.checksStateReadings`).
extension SessionState {
    /// The state `data` (as `JSONEncoder` wrote it) holds: read directly, or through
    /// `JSONDecoder` when the direct reading does not recognise it. Throws what `JSONDecoder` throws.
    public static func decoding(stored data: Data) throws -> SessionState {
        if let state = try? direct(data) { return state }
        return try JSONDecoder().decode(SessionState.self, from: data)
    }

    /// The direct reading alone (nil: not recognised). For tests and the benchmark.
    public static func decodedDirectly(_ data: Data) -> SessionState? {
        try? direct(data)
    }

    private static func direct(_ data: Data) throws -> SessionState {
        // Members in the order written: nothing here depends on their order, and not sorting
        // them is a third of the reading.
        let json = try JSON(parsing: String(decoding: data, as: UTF8.self), keepingOrder: true)
        return try SessionState(stored: json)
    }

    private init(stored j: JSON) throws {
        typealias R = StoredReader
        dialogID = try R.string(j["dialogID"])
        dialogVersion = try R.string(j["dialogVersion"])
        earlierVersions = try R.optional(j["earlierVersions"]).map { try R.array($0).map { try R.string($0) } }
        locale = try R.string(j["locale"])
        guard let mode = Mode(rawValue: try R.string(j["mode"])) else { throw R.Unrecognised() }
        self.mode = mode
        started = try R.moment(j["started"])
        updated = try R.moment(j["updated"])
        finished = try R.optional(j["finished"]).map(R.moment)
        phase = try R.phase(j["phase"])
        answers = try R.pathMap(j["answers"], R.answerEntry)
        trail = try R.array(j["trail"]).map(R.path)
        reopened = Set(try R.array(j["reopened"]).map(R.path))
        current = try R.optional(j["current"]).map(R.path)
        answersAfterCurrent = try R.optional(j["answersAfterCurrent"]).map(R.int)
        pending = try R.optional(j["pending"]).map { p in
            PendingAnswer(path: try R.path(p["path"]), value: try R.value(p["value"]),
                          messages: try R.array(p["messages"]).map { try R.string($0) })
        }
        warnings = try R.array(j["warnings"]).map { w in
            ConfirmedWarning(path: try R.path(w["path"]), message: try R.string(w["message"]), value: try R.value(w["value"]),
                             at: try R.int64(w["at"]), reason: try R.optional(w["reason"]).map { try R.string($0) })
        }
        notes = try R.array(j["notes"]).map { n in
            Note(path: try R.optional(n["path"]).map(R.path), text: try R.string(n["text"]), at: try R.int64(n["at"]))
        }
        revisit = try R.optional(j["revisit"]).map { r in
            Revisit(previous: try R.string(r["previous"]), previousDate: try R.optional(r["previousDate"]).map { try R.string($0) },
                    prior: try R.pathMap(r["prior"], R.answer), sections: try R.array(r["sections"]).map { try R.string($0) })
        }
    }
}

/// Writing a state for a snapshot: the shape its `Codable` conformance gives (so that both
/// `decoding(stored:)` and `JSONDecoder` read it), written straight into its text: not through
/// `JSONEncoder`, which took a suspension about as long as a dozen engine steps (a keyed container
/// per answer, per path), nor through a tree of the project's `JSON` (an allocation per member; 0.4 ms
/// for an intake's state, BENCHMARKS.md). Members that are nil are left out, as `JSONEncoder` leaves
/// them. Values, paths and answers are written by the same code as the log's entries.
extension SessionState {
    /// A number that JSON cannot hold (a decimal that is not finite), as `JSONEncoder` refuses one.
    public typealias NotStorable = StoredJSONError

    /// The state as a snapshot stores it. Throws `NotStorable` where `JSONEncoder` would throw.
    public func storedData() throws -> Data {
        var out = ""
        out.reserveCapacity(256 + 96 * answers.count + 32 * trail.count)
        try writeStored(into: &out)
        return Data(out.utf8)
    }

    private func writeStored(into out: inout String) throws {
        func key(_ name: String) { out += ",\"" + name + "\":" }
        func string(_ name: String, _ s: String) {
            key(name)
            JSON.quote(s, into: &out)
        }
        func strings(_ list: [String]) {
            out += "["
            for (i, s) in list.enumerated() {
                if i > 0 { out += "," }
                JSON.quote(s, into: &out)
            }
            out += "]"
        }
        func paths<S: Sequence<Path>>(_ name: String, _ list: S) {
            key(name)
            out += "["
            for (i, p) in list.enumerated() {
                if i > 0 { out += "," }
                p.writeStored(into: &out)
            }
            out += "]"
        }
        out += #"{"dialogID":"#
        JSON.quote(dialogID, into: &out)
        string("dialogVersion", dialogVersion)
        if let earlierVersions {
            key("earlierVersions")
            strings(earlierVersions)
        }
        string("locale", locale)
        string("mode", mode.rawValue)
        key("started")
        started.writeStored(into: &out)
        key("updated")
        updated.writeStored(into: &out)
        if let finished {
            key("finished")
            finished.writeStored(into: &out)
        }
        key("phase")
        switch phase {
        case .asking: out += #"{"asking":{}}"#
        case .reviewing: out += #"{"reviewing":{}}"#
        case .done(let status):
            out += #"{"done":{"status":"#
            JSON.quote(status, into: &out)
            out += "}}"
        }
        key("answers")
        try Self.writePathMap(answers, into: &out) { try $0.writeStored(into: &$1) }
        paths("trail", trail)
        paths("reopened", reopened)
        if let current {
            key("current")
            current.writeStored(into: &out)
        }
        if let answersAfterCurrent {
            key("answersAfterCurrent")
            out += String(answersAfterCurrent)
        }
        if let pending {
            key("pending")
            out += #"{"path":"#
            pending.path.writeStored(into: &out)
            out += #","value":"#
            try pending.value.writeStored(into: &out)
            out += #","messages":"#
            strings(pending.messages)
            out += "}"
        }
        key("warnings")
        out += "["
        for (i, w) in warnings.enumerated() {
            if i > 0 { out += "," }
            out += #"{"path":"#
            w.path.writeStored(into: &out)
            string("message", w.message)
            out += #","value":"#
            try w.value.writeStored(into: &out)
            out += #","at":"# + String(w.at)
            if let r = w.reason { string("reason", r) }
            out += "}"
        }
        out += "]"
        key("notes")
        out += "["
        for (i, n) in notes.enumerated() {
            if i > 0 { out += "," }
            out += "{"
            if let p = n.path {
                out += #""path":"#
                p.writeStored(into: &out)
                out += ","
            }
            out += #""text":"#
            JSON.quote(n.text, into: &out)
            out += #","at":"# + String(n.at) + "}"
        }
        out += "]"
        if let revisit {
            key("revisit")
            out += #"{"previous":"#
            JSON.quote(revisit.previous, into: &out)
            if let d = revisit.previousDate { string("previousDate", d) }
            key("prior")
            try Self.writePathMap(revisit.prior, into: &out) { try $0.writeStored(into: &$1) }
            key("sections")
            strings(revisit.sections)
            out += "}"
        }
        out += "}"
    }

    /// A dictionary keyed by paths, as `JSONEncoder` writes one whose keys are not strings: an
    /// array of key, value, key, value.
    private static func writePathMap<V>(_ map: [Path: V], into out: inout String,
                                        _ write: (V, inout String) throws -> Void) throws {
        out += "["
        var first = true
        for (k, v) in map {
            if !first { out += "," }
            first = false
            k.writeStored(into: &out)
            out += ","
            try write(v, &out)
        }
        out += "]"
    }
}

/// A number JSON cannot hold (infinite or NaN), as `JSONEncoder` refuses it.
public struct StoredJSONError: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "a number that JSON cannot hold" }
}

/// The pieces of a stored state and of a stored log entry, written in the shapes `StoredReader`
/// reads (and `JSONDecoder` reads through their `Codable` conformances).
extension Moment {
    package func writeStored(into out: inout String) {
        out += #"{"epochMillis":"# + String(epochMillis) + #","utcOffsetMinutes":"# + String(utcOffsetMinutes) + "}"
    }
}

extension Path {
    /// `{"id":…,"indices":[…]}`.
    package func writeStored(into out: inout String) {
        out += #"{"id":"#
        JSON.quote(id, into: &out)
        out += #","indices":["#
        for (j, n) in indices.enumerated() {
            if j > 0 { out += "," }
            out += String(n)
        }
        out += "]}"
    }
}

extension AnswerEntry {
    /// `{"answer":…,"at":…}`; throws for a number JSON cannot hold.
    package func writeStored(into out: inout String) throws {
        out += #"{"answer":"#
        try answer.writeStored(into: &out)
        out += #","at":"# + String(at) + "}"
    }
}

extension Answer {
    /// `{"value":…}`, `"declined"` or `"skipped"`; throws for a number JSON cannot hold.
    package func writeStored(into out: inout String) throws {
        switch self {
        case .value(let v):
            out += #"{"value":"#
            try v.writeStored(into: &out)
            out += "}"
        case .declined: out += #""declined""#
        case .skipped: out += #""skipped""#
        }
    }
}

extension Value {
    /// A value's tagged form: `{"text":"…"}`, `{"int":3}`, `{"date":"2024-04-01"}`, …; throws
    /// `StoredJSONError` for a decimal that is not finite.
    package func writeStored(into out: inout String) throws {
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

/// The pieces of a stored state (and of a stored log entry), each read strictly: anything else is
/// `Unrecognised`, and the caller reads the whole text with `JSONDecoder` instead.
package enum StoredReader {
    package struct Unrecognised: Error {
        package init() {}
    }

    /// nil for a missing member or null (as `decodeIfPresent` reads an optional).
    package static func optional(_ j: JSON?) -> JSON? {
        if case .null? = j { return nil }
        return j
    }

    package static func string(_ j: JSON?) throws -> String {
        guard case .string(let s)? = j else { throw Unrecognised() }
        return s
    }

    package static func int(_ j: JSON?) throws -> Int {
        guard case .int(let i)? = j else { throw Unrecognised() }
        return i
    }

    package static func int64(_ j: JSON?) throws -> Int64 { Int64(try int(j)) }

    package static func array(_ j: JSON?) throws -> [JSON] {
        guard case .array(let a)? = j else { throw Unrecognised() }
        return a
    }

    /// An object's only member (an enum case as Swift codes it, a tagged value).
    package static func only(_ j: JSON?) throws -> (String, JSON) {
        guard case .object(let members)? = j, members.count == 1 else { throw Unrecognised() }
        return members[0]
    }

    package static func moment(_ j: JSON?) throws -> Moment {
        Moment(epochMillis: try int64(j?["epochMillis"]), utcOffsetMinutes: try int(j?["utcOffsetMinutes"]))
    }

    package static func path(_ j: JSON?) throws -> Path {
        guard case .object? = j else { throw Unrecognised() }
        return Path(try string(j?["id"]), try array(j?["indices"]).map { try int($0) })
    }

    /// A dictionary keyed by paths, as `JSONEncoder` writes one whose keys are not strings: an
    /// array of key, value, key, value.
    package static func pathMap<V>(_ j: JSON?, _ read: (JSON?) throws -> V) throws -> [Path: V] {
        let items = try array(j)
        guard items.count % 2 == 0 else { throw Unrecognised() }
        var out: [Path: V] = [:]
        out.reserveCapacity(items.count / 2)
        var i = 0
        while i < items.count {
            let key = try path(items[i])
            guard out.updateValue(try read(items[i + 1]), forKey: key) == nil else { throw Unrecognised() }
            i += 2
        }
        return out
    }

    package static func phase(_ j: JSON?) throws -> SessionState.Phase {
        let (tag, body) = try only(j)
        guard case .object(let members) = body else { throw Unrecognised() }
        switch tag {
        case "asking" where members.isEmpty: return .asking
        case "reviewing" where members.isEmpty: return .reviewing
        case "done": return .done(status: try string(body["status"]))
        default: throw Unrecognised()
        }
    }

    package static func answerEntry(_ j: JSON?) throws -> AnswerEntry {
        AnswerEntry(try answer(j?["answer"]), at: try int64(j?["at"]))
    }

    /// `{"value": V}`, `"declined"`, `"skipped"` (what `Answer` writes); the older synthesized
    /// shapes go to `JSONDecoder`.
    package static func answer(_ j: JSON?) throws -> Answer {
        switch j {
        case .string("declined")?: return .declined
        case .string("skipped")?: return .skipped
        case .object(let members)? where members.count == 1 && members[0].0 == "value":
            return .value(try value(members[0].1))
        default: throw Unrecognised()
        }
    }

    /// A value's tagged form: `{"text": "…"}`, `{"int": 3}`, `{"date": "2024-04-01"}`, ….
    package static func value(_ j: JSON?) throws -> Value {
        let (tag, v) = try only(j)
        switch (tag, v) {
        case ("bool", .bool(let b)): return .bool(b)
        case ("int", .int(let i)): return .int(i)
        case ("decimal", .number(let d)): return .decimal(d)
        // A whole decimal is written without a fraction; integers past 2^53 are left to JSONDecoder.
        case ("decimal", .int(let i)) where abs(i) <= 1 << 53: return .decimal(Double(i))
        case ("text", .string(let s)): return .text(s)
        case ("choice", .string(let s)): return .choice(s)
        case ("choices", .array(let a)): return .choices(try a.map { try string($0) })
        case ("date", .string(let s)):
            guard let d = CivilDate(iso: s) else { throw Unrecognised() }
            return .date(d)
        default: throw Unrecognised()
        }
    }
}
