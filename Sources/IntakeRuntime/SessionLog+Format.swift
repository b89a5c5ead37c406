import IntakeEngine

/// The stored shape of a log event, written out by hand so that renaming a Swift case never
/// changes what is stored (or breaks what was). Format 2, written since intake 1.1:
///
///     {"v":2,"type":"start","dialog":D,"version":V,"locale":L,"mode":M[,"previous":S][,"previousDate":DATE]}
///     {"v":2,"type":"input","event":E}
///     {"v":2,"type":"suspend"}
///     {"v":2,"type":"resume"[,"mode":M]}
///     {"v":2,"type":"migrate","from":V,"to":V[,"mode":M]}
///
/// E: {"type":"answer","text":T}, {"type":"value","value":VALUE}, {"type":"decline"}, {"type":"skip"},
/// {"type":"back"}, {"type":"edit","target":T}, {"type":"add","group":T}, {"type":"remove","instance":T},
/// {"type":"review"}, {"type":"locale","locale":L}, {"type":"confirm"[,"reason":T]}, {"type":"finish"},
/// {"type":"note","text":T}, {"type":"repeat"}. VALUE is the value's own tagged form ({"int":4}).
///
/// Format 1 (no "v"): the shape Swift's synthesized coding gave, `{"input":{"_0":{"answer":{"_0":T}}}}`
/// and so on; every log written before format 2 holds it, and it is read as ever. A format newer
/// than this build knows is refused with a clear error, never guessed at.
extension LogEvent: Codable {
    /// The format this build writes.
    public static let storedFormat = 2

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func text(_ k: String) throws -> String { try c.decode(String.self, forKey: Key(k)) }
        func maybe(_ k: String) throws -> String? { try c.decodeIfPresent(String.self, forKey: Key(k)) }
        func mode(_ k: String) throws -> SessionState.Mode? { try c.decodeIfPresent(SessionState.Mode.self, forKey: Key(k)) }
        guard let version = try c.decodeIfPresent(Int.self, forKey: Key("v")) else {
            self = try Self.formatOne(c, decoder)
            return
        }
        guard version == 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "stored event format \(version) is newer than this intake reads (2)"))
        }
        switch try text("type") {
        case "start":
            guard let m = try mode("mode") else { throw Self.missing("mode", decoder) }
            self = .start(dialog: try text("dialog"), version: try text("version"), locale: try text("locale"), mode: m,
                          previous: try maybe("previous"), previousDate: try maybe("previousDate"))
        case "input": self = .input(try c.decode(StoredInput.self, forKey: Key("event")).event)
        case "suspend": self = .suspend
        case "resume": self = .resume(mode: try mode("mode"))
        case "migrate": self = .migrate(from: try text("from"), to: try text("to"), mode: try mode("mode"))
        case let other:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown stored event '\(other)'"))
        }
    }

    /// Format 1: one key naming the case, its fields inside (`_0` for an unnamed one).
    private static func formatOne(_ c: KeyedDecodingContainer<Key>, _ decoder: any Decoder) throws -> LogEvent {
        guard c.allKeys.count == 1, let key = c.allKeys.first else { throw missing("event", decoder) }
        let inner = try c.nestedContainer(keyedBy: Key.self, forKey: key)
        func text(_ k: String) throws -> String { try inner.decode(String.self, forKey: Key(k)) }
        func maybe(_ k: String) throws -> String? { try inner.decodeIfPresent(String.self, forKey: Key(k)) }
        func mode(_ k: String) throws -> SessionState.Mode? { try inner.decodeIfPresent(SessionState.Mode.self, forKey: Key(k)) }
        switch key.stringValue {
        case "start":
            guard let m = try mode("mode") else { throw missing("mode", decoder) }
            return .start(dialog: try text("dialog"), version: try text("version"), locale: try text("locale"), mode: m,
                          previous: try maybe("previous"), previousDate: try maybe("previousDate"))
        case "input": return .input(try inner.decode(FormatOneInput.self, forKey: Key("_0")).event)
        case "suspend": return .suspend
        case "resume": return .resume(mode: try mode("mode"))
        case "migrate": return .migrate(from: try text("from"), to: try text("to"), mode: try mode("mode"))
        case let other:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown stored event '\(other)'"))
        }
    }

    private static func missing(_ what: String, _ decoder: any Decoder) -> DecodingError {
        .dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "stored event without its \(what)"))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(Self.storedFormat, forKey: Key("v"))
        func put(_ k: String, _ v: String?) throws { if let v { try c.encode(v, forKey: Key(k)) } }
        switch self {
        case .start(let dialog, let version, let locale, let mode, let previous, let previousDate):
            try put("type", "start")
            try put("dialog", dialog)
            try put("version", version)
            try put("locale", locale)
            try put("mode", mode.rawValue)
            try put("previous", previous)
            try put("previousDate", previousDate)
        case .input(let event):
            try put("type", "input")
            try c.encode(StoredInput(event), forKey: Key("event"))
        case .suspend: try put("type", "suspend")
        case .resume(let mode):
            try put("type", "resume")
            try put("mode", mode?.rawValue)
        case .migrate(let from, let to, let mode):
            try put("type", "migrate")
            try put("from", from)
            try put("to", to)
            try put("mode", mode?.rawValue)
        }
    }

    /// A person's event in format 2: `{"type":…}` with its named field.
    struct StoredInput: Codable {
        var event: Event

        init(_ event: Event) { self.event = event }

        /// The type word and the field name of an event with text, in format 2.
        static func tag(_ e: Event) -> (type: String, field: String?, text: String?) {
            switch e {
            case .answer(let t): return ("answer", "text", t)
            case .value: return ("value", nil, nil)
            case .decline: return ("decline", nil, nil)
            case .skip: return ("skip", nil, nil)
            case .back: return ("back", nil, nil)
            case .edit(let t): return ("edit", "target", t)
            case .add(let t): return ("add", "group", t)
            case .remove(let t): return ("remove", "instance", t)
            case .review: return ("review", nil, nil)
            case .locale(let t): return ("locale", "locale", t)
            case .confirm(let reason): return ("confirm", "reason", reason)
            case .finish: return ("finish", nil, nil)
            case .note(let t): return ("note", "text", t)
            case .repeatQuestion: return ("repeat", nil, nil)
            }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            func text(_ k: String) throws -> String { try c.decode(String.self, forKey: Key(k)) }
            switch try text("type") {
            case "answer": event = .answer(try text("text"))
            case "value": event = .value(try c.decode(Value.self, forKey: Key("value")))
            case "decline": event = .decline
            case "skip": event = .skip
            case "back": event = .back
            case "edit": event = .edit(try text("target"))
            case "add": event = .add(try text("group"))
            case "remove": event = .remove(try text("instance"))
            case "review": event = .review
            case "locale": event = .locale(try text("locale"))
            case "confirm": event = .confirm(reason: try c.decodeIfPresent(String.self, forKey: Key("reason")))
            case "finish": event = .finish
            case "note": event = .note(try text("text"))
            case "repeat": event = .repeatQuestion
            case let other:
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown stored input '\(other)'"))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            let (type, field, text) = Self.tag(event)
            try c.encode(type, forKey: Key("type"))
            if case .value(let v) = event { try c.encode(v, forKey: Key("value")) }
            if let field, let text { try c.encode(text, forKey: Key(field)) }
        }
    }

    /// A person's event in format 1: `{"answer":{"_0":T}}`, `{"decline":{}}`, `{"confirm":{"reason":T}}`…
    struct FormatOneInput: Decodable {
        var event: Event

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            guard c.allKeys.count == 1, let key = c.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "stored input without its kind"))
            }
            let inner = try c.nestedContainer(keyedBy: Key.self, forKey: key)
            func text() throws -> String { try inner.decode(String.self, forKey: Key("_0")) }
            switch key.stringValue {
            case "answer": event = .answer(try text())
            case "value": event = .value(try inner.decode(Value.self, forKey: Key("_0")))
            case "decline": event = .decline
            case "skip": event = .skip
            case "back": event = .back
            case "edit": event = .edit(try text())
            case "add": event = .add(try text())
            case "remove": event = .remove(try text())
            case "review": event = .review
            case "locale": event = .locale(try text())
            case "confirm": event = .confirm(reason: try inner.decodeIfPresent(String.self, forKey: Key("reason")))
            case "finish": event = .finish
            case "note": event = .note(try text())
            case "repeatQuestion": event = .repeatQuestion
            case let other:
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown stored input '\(other)'"))
            }
        }
    }
}
