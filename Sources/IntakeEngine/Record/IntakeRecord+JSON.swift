/// The record's JSON: the tree it is stored as (hash-chained: these keys, in this order, are the
/// stored bytes), and the reading of a stored tree back into the typed value.
extension IntakeRecord {
    public var json: JSON {
        var d: [(String, JSON)] = [("id", .string(dialog.id)), ("version", .string(dialog.version))]
        if let e = dialog.earlierVersions { d.append(("earlier_versions", .array(e.map { .string($0) }))) }
        var top: [(String, JSON)] = [
            ("dialog", .object(d)),
            ("status", .string(status)),
            ("locale", .string(locale)),
            ("mode", .string(mode)),
        ]
        if let office { top.append(("office", .string(office))) }
        if let client { top.append(("client", .string(client))) }
        if let counselor { top.append(("counselor", .string(counselor))) }
        top.append(("started", .string(started)))
        if let f = finished { top.append(("finished", .string(f))) }
        top += [
            ("answers", answers.json),
            ("computed", .object(computed.map { ($0.name, $0.value.json) })),
            ("declined", .array(declined.map { .string($0) })),
            ("skipped", .array(skipped.map { .string($0) })),
            ("warnings", .array(warnings.map(\.json))),
            ("suggestions", .array(suggestions.map(\.json))),
            ("notes", .array(notes.map(\.json))),
        ]
        if let visit { top.append(("visit", visit.json)) }
        return .object(top)
    }

    /// Why a JSON document is not a record: where (`answers.family`), and what was expected there.
    /// Only keys and the record's own structure, never a value (it may be a client's answer).
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var at: String
        public var expected: String

        public init(at: String, expected: String) {
            self.at = at
            self.expected = expected
        }

        /// The place named inertly: a key of a foreign document may hold control codes.
        public var description: String {
            "not an intake record: at \(at.isEmpty ? "the top" : ControlCharacters.visible(at)), expected \(expected)"
        }
    }

    /// Reads a record from its JSON (a stored record: read with `JSON(parsing:keepingOrder: true)`,
    /// so that its answers keep their order and render to the stored bytes again). Throws on a
    /// document that is not a record: a member missing or of the wrong type.
    public init(json: JSON) throws(ParseError) {
        let r = RecordReader()
        let top = try r.object(json, "")
        let d = try r.object(try r.member(top, "dialog", ""), "dialog")
        dialog = DialogRef(id: try r.string(try r.member(d, "id", "dialog"), "dialog.id"),
                           version: try r.string(try r.member(d, "version", "dialog"), "dialog.version"),
                           earlierVersions: try r.optional(d, "earlier_versions", "dialog") { v, at throws(ParseError) in try r.strings(v, at) })
        status = try r.string(try r.member(top, "status", ""), "status")
        locale = try r.string(try r.member(top, "locale", ""), "locale")
        mode = try r.string(try r.member(top, "mode", ""), "mode")
        office = try r.optional(top, "office", "") { v, at throws(ParseError) in try r.string(v, at) }
        client = try r.optional(top, "client", "") { v, at throws(ParseError) in try r.string(v, at) }
        counselor = try r.optional(top, "counselor", "") { v, at throws(ParseError) in try r.string(v, at) }
        started = try r.string(try r.member(top, "started", ""), "started")
        finished = try r.optional(top, "finished", "") { v, at throws(ParseError) in try r.string(v, at) }
        answers = try r.answers(try r.member(top, "answers", ""), "answers")
        computed = try r.object(try r.member(top, "computed", ""), "computed").map { k, v throws(ParseError) in
            RecordField(k, try r.value(v, "computed." + k))
        }
        declined = try r.strings(try r.member(top, "declined", ""), "declined")
        skipped = try r.strings(try r.member(top, "skipped", ""), "skipped")
        warnings = try r.array(try r.member(top, "warnings", ""), "warnings") { w, at throws(ParseError) in
            let o = try r.object(w, at)
            return Warning(question: try r.string(try r.member(o, "question", at), at + ".question"),
                           message: try r.string(try r.member(o, "message", at), at + ".message"),
                           text: try r.string(try r.member(o, "text", at), at + ".text"),
                           value: try r.value(try r.member(o, "value", at), at + ".value"),
                           reason: try r.optional(o, "reason", at) { v, at throws(ParseError) in try r.string(v, at) })
        }
        suggestions = try r.array(try r.member(top, "suggestions", ""), "suggestions") { s, at throws(ParseError) in
            let o = try r.object(s, at)
            let because = try r.object(try r.member(o, "because", at), at + ".because").map { k, v throws(ParseError) in
                RecordField(k, try r.value(v, at + ".because." + k))
            }
            return Suggestion(id: try r.string(try r.member(o, "id", at), at + ".id"),
                              message: try r.string(try r.member(o, "message", at), at + ".message"),
                              text: try r.string(try r.member(o, "text", at), at + ".text"), because: because)
        }
        notes = try r.array(try r.member(top, "notes", ""), "notes") { n, at throws(ParseError) in
            let o = try r.object(n, at)
            let q = try r.member(o, "question", at)
            return Note(question: q == .null ? nil : try r.string(q, at + ".question"),
                        text: try r.string(try r.member(o, "text", at), at + ".text"),
                        at: try r.string(try r.member(o, "at", at), at + ".at"))
        }
        visit = try r.optional(top, "visit", "") { v, at throws(ParseError) in try r.visit(v, at) }
        // A key the record does not have: a foreign document, or one a newer engine wrote.
        let known: Set<String> = ["dialog", "status", "locale", "mode", "office", "client", "counselor", "started", "finished", "answers", "computed",
                                  "declined", "skipped", "warnings", "suggestions", "notes", "visit"]
        if let other = top.first(where: { !known.contains($0.0) }) {
            throw ParseError(at: other.0, expected: "no such member")
        }
    }
}

extension IntakeRecord.Warning {
    var json: JSON {
        var o: [(String, JSON)] = [("question", .string(question)), ("message", .string(message)), ("text", .string(text)), ("value", value.json)]
        if let reason { o.append(("reason", .string(reason))) }
        return .object(o)
    }
}

extension IntakeRecord.Suggestion {
    var json: JSON {
        .object([("id", .string(id)), ("message", .string(message)), ("text", .string(text)),
                 ("because", .object(because.map { ($0.name, $0.value.json) }))])
    }
}

extension IntakeRecord.Note {
    var json: JSON {
        .object([("question", question.map { .string($0) } ?? .null), ("text", .string(text)), ("at", .string(at))])
    }
}

extension IntakeRecord.Visit.Answer {
    /// As the record writes it: the value (null: none), or `{"declined": true}`.
    public var json: JSON {
        switch self {
        case .value(let v): return v.json
        case .declined: return .object([("declined", .bool(true))])
        }
    }
}

extension IntakeRecord.Visit {
    var json: JSON {
        var out: [(String, JSON)] = [("previous", .string(previous))]
        if let previousDate { out.append(("previous_date", .string(previousDate))) }
        out += [("sections", .object(sections.map { ($0.id, .string($0.status)) })),
                ("changes", .array(changes.map { .object([("question", .string($0.question)), ("before", $0.before.json), ("after", $0.after.json)]) }))]
        return .object(out)
    }
}

extension RecordAnswers {
    public var json: JSON {
        .object(members.map { m in
            switch m.node {
            case .value(let v): return (m.id, v.json)
            case .section(let s): return (m.id, s.json)
            case .group(let instances): return (m.id, .array(instances.map(\.json)))
            }
        })
    }
}

/// Reads the parts of a record, each failure naming where.
private struct RecordReader {
    typealias ParseError = IntakeRecord.ParseError

    func fail(_ at: String, _ expected: String) -> ParseError { ParseError(at: at, expected: expected) }

    func object(_ json: JSON, _ at: String) throws(ParseError) -> [(String, JSON)] {
        guard case .object(let members) = json else { throw fail(at, "an object") }
        return members
    }

    func member(_ object: [(String, JSON)], _ key: String, _ at: String) throws(ParseError) -> JSON {
        guard let v = object.first(where: { $0.0 == key })?.1 else { throw fail(at.isEmpty ? key : at + "." + key, "a member") }
        return v
    }

    func optional<T>(_ object: [(String, JSON)], _ key: String, _ at: String,
                     _ read: (JSON, String) throws(ParseError) -> T) throws(ParseError) -> T? {
        guard let v = object.first(where: { $0.0 == key })?.1 else { return nil }
        return try read(v, at.isEmpty ? key : at + "." + key)
    }

    func string(_ json: JSON, _ at: String) throws(ParseError) -> String {
        guard case .string(let s) = json else { throw fail(at, "a string") }
        return s
    }

    func array<T>(_ json: JSON, _ at: String, _ read: (JSON, String) throws(ParseError) -> T) throws(ParseError) -> [T] {
        guard case .array(let items) = json else { throw fail(at, "an array") }
        var out: [T] = []
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { out.append(try read(item, "\(at)[\(i)]")) }
        return out
    }

    func strings(_ json: JSON, _ at: String) throws(ParseError) -> [String] {
        try array(json, at) { v, at throws(ParseError) in try string(v, at) }
    }

    func value(_ json: JSON, _ at: String) throws(ParseError) -> RecordValue {
        switch json {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .array: return .strings(try strings(json, at))
        case .object: throw fail(at, "a value")
        }
    }

    /// Answers: an object whose members are values, sections (objects) or groups (arrays of
    /// objects). An empty array is an empty multiple choice (a group with no instances is left out).
    func answers(_ json: JSON, _ at: String) throws(ParseError) -> RecordAnswers {
        var out: [RecordMember] = []
        for (k, v) in try object(json, at) {
            let here = at + "." + k
            switch v {
            case .object: out.append(RecordMember(k, .section(try answers(v, here))))
            case .array(let items):
                if case .object? = items.first {
                    out.append(RecordMember(k, .group(try array(v, here) { i, at throws(ParseError) in try answers(i, at) })))
                } else {
                    out.append(RecordMember(k, .value(.strings(try strings(v, here)))))
                }
            default: out.append(RecordMember(k, .value(try value(v, here))))
            }
        }
        return RecordAnswers(out)
    }

    func visit(_ json: JSON, _ at: String) throws(ParseError) -> IntakeRecord.Visit {
        let o = try object(json, at)
        func answer(_ v: JSON, _ at: String) throws(ParseError) -> IntakeRecord.Visit.Answer {
            if case .object = v {
                guard try member(try object(v, at), "declined", at) == .bool(true) else { throw fail(at + ".declined", "true") }
                return .declined
            }
            return .value(try value(v, at))
        }
        let sections = try object(try member(o, "sections", at), at + ".sections").map { k, v throws(ParseError) in
            IntakeRecord.Visit.Section(id: k, status: try string(v, at + ".sections." + k))
        }
        let changes = try array(try member(o, "changes", at), at + ".changes") { c, at throws(ParseError) in
            let co = try object(c, at)
            return IntakeRecord.Visit.Change(question: try string(try member(co, "question", at), at + ".question"),
                                             before: try answer(try member(co, "before", at), at + ".before"),
                                             after: try answer(try member(co, "after", at), at + ".after"))
        }
        return IntakeRecord.Visit(previous: try string(try member(o, "previous", at), at + ".previous"),
                                  previousDate: try optional(o, "previous_date", at) { v, at throws(ParseError) in try string(v, at) },
                                  sections: sections, changes: changes)
    }
}
