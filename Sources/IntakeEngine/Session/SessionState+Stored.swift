import Foundation

/// Reading a stored session state (a snapshot) back. The state is written with `JSONEncoder`, in
/// the shape its `Codable` conformance gives; reading it back with `JSONDecoder` was most of a
/// resume (a keyed container per answer, per path: about 6 MB/s, IntakeBench).
/// This reads the same shape from the project's own JSON parser into the values directly. Whatever
/// it does not expect (a shape from another version, a hand-edited state) it refuses, and
/// `decoding(stored:)` then reads it with `JSONDecoder` as before, so it never accepts less or
/// reads anything differently; the conversation tests decode every state both ways and compare.
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
/// `decoding(stored:)` and `JSONDecoder` read it), built as the project's JSON and rendered, not
/// through `JSONEncoder`, which took a suspension about as long as a dozen engine steps (a keyed
/// container per answer, per path). Members that are nil are left out, as `JSONEncoder` leaves them.
extension SessionState {
    /// A number that JSON cannot hold (a decimal that is not finite), as `JSONEncoder` refuses one.
    public struct NotStorable: Error {}

    /// The state as a snapshot stores it. Throws `NotStorable` where `JSONEncoder` would throw.
    public func storedData() throws -> Data {
        Data(try storedJSON().rendered().utf8)
    }

    func storedJSON() throws -> JSON {
        typealias W = StoredWriter
        var o: [(String, JSON)] = [("dialogID", .string(dialogID)), ("dialogVersion", .string(dialogVersion))]
        o.reserveCapacity(18)
        if let earlierVersions { o.append(("earlierVersions", .array(earlierVersions.map(JSON.string)))) }
        o.append(("locale", .string(locale)))
        o.append(("mode", .string(mode.rawValue)))
        o.append(("started", W.moment(started)))
        o.append(("updated", W.moment(updated)))
        if let finished { o.append(("finished", W.moment(finished))) }
        o.append(("phase", W.phase(phase)))
        o.append(("answers", try W.pathMap(answers, W.answerEntry)))
        o.append(("trail", .array(trail.map(W.path))))
        o.append(("reopened", .array(reopened.map(W.path))))
        if let current { o.append(("current", W.path(current))) }
        if let answersAfterCurrent { o.append(("answersAfterCurrent", .int(answersAfterCurrent))) }
        if let pending {
            o.append(("pending", .object([("path", W.path(pending.path)), ("value", try W.value(pending.value)),
                                          ("messages", .array(pending.messages.map(JSON.string)))])))
        }
        o.append(("warnings", .array(try warnings.map { w in
            var m: [(String, JSON)] = [("path", W.path(w.path)), ("message", .string(w.message)), ("value", try W.value(w.value)),
                                       ("at", .int(Int(w.at)))]
            if let r = w.reason { m.append(("reason", .string(r))) }
            return .object(m)
        })))
        o.append(("notes", .array(notes.map { n in
            var m: [(String, JSON)] = []
            if let p = n.path { m.append(("path", W.path(p))) }
            m += [("text", .string(n.text)), ("at", .int(Int(n.at)))]
            return .object(m)
        })))
        if let revisit {
            var m: [(String, JSON)] = [("previous", .string(revisit.previous))]
            if let d = revisit.previousDate { m.append(("previousDate", .string(d))) }
            m += [("prior", try W.pathMap(revisit.prior, W.answer)), ("sections", .array(revisit.sections.map(JSON.string)))]
            o.append(("revisit", .object(m)))
        }
        return .object(o)
    }
}

/// The pieces of a stored state, written in the shapes `StoredReader` reads.
private enum StoredWriter {
    static func moment(_ m: Moment) -> JSON {
        .object([("epochMillis", .int(Int(m.epochMillis))), ("utcOffsetMinutes", .int(m.utcOffsetMinutes))])
    }

    static func path(_ p: Path) -> JSON {
        .object([("id", .string(p.id)), ("indices", .array(p.indices.map(JSON.int)))])
    }

    static func pathMap<V>(_ map: [Path: V], _ write: (V) throws -> JSON) throws -> JSON {
        var items: [JSON] = []
        items.reserveCapacity(map.count * 2)
        for (k, v) in map {
            items.append(path(k))
            items.append(try write(v))
        }
        return .array(items)
    }

    static func phase(_ p: SessionState.Phase) -> JSON {
        switch p {
        case .asking: return .object([("asking", .object([]))])
        case .reviewing: return .object([("reviewing", .object([]))])
        case .done(let status): return .object([("done", .object([("status", .string(status))]))])
        }
    }

    static func answerEntry(_ e: AnswerEntry) throws -> JSON {
        .object([("answer", try answer(e.answer)), ("at", .int(Int(e.at)))])
    }

    static func answer(_ a: Answer) throws -> JSON {
        switch a {
        case .value(let v): return .object([("value", try value(v))])
        case .declined: return .string("declined")
        case .skipped: return .string("skipped")
        }
    }

    static func value(_ v: Value) throws -> JSON {
        switch v {
        case .bool(let b): return .object([("bool", .bool(b))])
        case .int(let i): return .object([("int", .int(i))])
        case .decimal(let d):
            guard d.isFinite else { throw SessionState.NotStorable() }
            return .object([("decimal", .number(d))])
        case .text(let s): return .object([("text", .string(s))])
        case .choice(let s): return .object([("choice", .string(s))])
        case .choices(let a): return .object([("choices", .array(a.map(JSON.string)))])
        case .date(let d): return .object([("date", .string(d.iso))])
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
