import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeServer
import IntakeTesting
import NIOCore

/// Every parser that takes outside input, as a function of raw bytes that must never crash, hang
/// or blow up memory: driven by libFuzzer (`Fuzz/run`), and replayed over the seed corpus and every
/// crash found (`Fuzz/corpus`, `Fuzz/regressions`) by `swift test`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A dialog file through the whole loader (YAML, dialog builder, expressions, lint).
    case dialog
    /// An expression through the parser and the type checker, and evaluated.
    case expression
    /// Typed answers: numbers (full-width, 万円, kanji), dates (和暦), yes/no, and an engine step
    /// of every kind of question.
    case answers
    /// A line at the REPL or kiosk: the command parser.
    case line
    /// A test conversation file.
    case conversation
    /// Bytes from a kiosk connection: the line framing (in chunks as they might arrive), then each
    /// line as a JSON-lines request.
    case kiosk
    /// One JSON document through the kiosk's request parser (`JSON(parsing:)`), checked against
    /// Foundation's `JSONDecoder`: whatever it accepts, Foundation accepts too, with the same value.
    case json
    /// What one connection sends to a live kiosk server (started once per process): the whole
    /// connection state machine, sessions, the store. Replies must be UTF-8 lines, JSON messages in
    /// JSON-lines mode.
    case session

    /// Whether the target can run here (`session` needs its in-process server up).
    public var isReady: Bool { self == .session ? SessionTarget.started : true }

    public func run(_ data: Data) {
        switch self {
        case .dialog: FuzzTarget.dialog(data)
        case .expression: FuzzTarget.expression(data)
        case .answers: FuzzTarget.answers(data)
        case .line: _ = LineInput.parse(String(decoding: data, as: UTF8.self))
        case .conversation: FuzzTarget.conversation(data)
        case .kiosk: FuzzTarget.kiosk(data)
        case .json: FuzzTarget.json(data)
        case .session: SessionTarget.run(data)
        }
    }

    /// A scratch folder with a minimal locale, made once per process.
    static let scratch: String = {
        let dir = NSTemporaryDirectory() + "intake-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir + "/Locales", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: dir + "/Dialogs", withIntermediateDirectories: true)
        try? "engine:\n  \"yes\": はい\n".write(toFile: dir + "/Locales/ja.yaml", atomically: true, encoding: .utf8)
        return dir
    }()

    static func dialog(_ data: Data) {
        let file = scratch + "/Dialogs/fuzz.yaml"
        guard FileManager.default.createFile(atPath: file, contents: data) else { return }
        let project = Project.load(paths: [scratch + "/Dialogs"], localesDirectory: scratch + "/Locales")
        // A dialog that loads is also run: start it and answer its first question.
        for dialog in project.dialogs.values {
            let engine = Engine(dialog: dialog, catalog: project.catalog)
            let start = engine.start(locale: "ja", mode: .counselor, at: Moment(epochMillis: 1_795_000_000_000))
            _ = engine.handle(.answer("1"), start.state, at: Moment(epochMillis: 1_795_000_060_000))
        }
    }

    /// A small dialog for expressions and answers to refer to.
    static let dialogForExpressions: Dialog = {
        let children = RepeatGroup(id: "children", title: "children", count: .from(Expr(.name("child_count"), at: 0)), max: 10, items: [
            .question(Question(id: "age", kind: .integer(min: 0, max: 30), text: "age")),
        ])
        return Dialog(id: "fuzz", version: "1", title: "fuzz", items: [
            .question(Question(id: "child_count", kind: .integer(min: 0, max: 10), text: "n")),
            .group(children),
            .question(Question(id: "birth", kind: .date(min: nil, max: nil), text: "b")),
            .question(Question(id: "pick", kind: .single([Choice(value: "a", label: "a"), Choice(value: "b", label: "b")]), text: "p")),
            .question(Question(id: "many", kind: .multi([Choice(value: "x", label: "x"), Choice(value: "y", label: "y")], minPicks: nil, maxPicks: nil), text: "m")),
            .question(Question(id: "pay", kind: .decimal(min: 0, max: nil), text: "pay")),
            .question(Question(id: "when", kind: .month, text: "w")),
            .question(Question(id: "ok", kind: .yesNo, text: "ok")),
            .question(Question(id: "note", kind: .text(maxLength: 200), text: "t")),
        ], settings: ["limit": .int(6)])
    }()

    static func expression(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        guard case .success(let expr) = ExprParser.parse(text) else { return }
        var checker = TypeChecker(index: dialogForExpressions.index, settings: dialogForExpressions.settings)
        _ = checker.check(expr)
        // Evaluated as a computed value and as a condition, over answers that include a declined one.
        let base = dialogForExpressions
        let dialog = Dialog(id: base.id, version: base.version, title: base.title,
                            items: base.items + [.question(Question(id: "fuzzed", kind: .yesNo, text: "f", when: expr))],
                            computed: [ComputedValue(id: "fuzz", expr: expr)],
                            suggestions: [SuggestionRule(id: "s", when: expr, message: "s")], settings: base.settings)
        let engine = Engine(dialog: dialog, catalog: catalog)
        var state = engine.start(locale: "ja", mode: .counselor, at: Moment(epochMillis: 1_795_000_000_000)).state
        for (i, answer) in ["2", "4", "答えない", "2020-01-01", "1", "1,2", "1000", "2019-04", "はい", "x"].enumerated() {
            state = engine.handle(.answer(answer), state, at: Moment(epochMillis: 1_795_000_000_000 + Int64(i) * 1000)).state
        }
        _ = engine.record(state)
    }

    static let catalog = Catalog(["ja": ["engine.yes": "はい", "engine.no": "いいえ"]], fallback: "ja")

    static func answers(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        _ = NumberParser.parseInteger(text)
        _ = NumberParser.parseDecimal(text)
        _ = DateParser.parse(text)
        _ = DateParser.parseYearMonth(text)
        _ = YesNoParser.parse(text)
        _ = TextFolding.fold(text)
        // The same text as the answer to every question of the small dialog.
        let engine = Engine(dialog: dialogForExpressions, catalog: catalog)
        var state = engine.start(locale: "ja", mode: .counselor, at: Moment(epochMillis: 1_795_000_000_000)).state
        for i in 0..<12 {
            let step = engine.handle(.answer(text), state, at: Moment(epochMillis: 1_795_000_000_000 + Int64(i) * 1000))
            state = step.state
            // Move on past a question the text does not answer.
            if step.effects.contains(where: { if case .invalid = $0 { true } else { false } }) {
                state = engine.handle(.answer(i % 2 == 0 ? "1" : "2026-04-01"), state, at: Moment(epochMillis: 1_795_000_000_500 + Int64(i) * 1000)).state
            }
        }
        _ = engine.record(state).json.rendered()
    }

    static func kiosk(_ data: Data) {
        guard let first = data.first else { return }
        // The first byte picks how the rest arrives (in chunks of 1 to 64 bytes) and the line limit
        // (the server's 8 KiB, or 256 bytes to reach the overlong-line paths often).
        let chunk = Int(first % 64) + 1
        var decoder = KioskLineDecoder(maximumLength: first & 0x80 != 0 ? 8192 : 256)
        var buffer = ByteBuffer()
        var lines: [ByteBuffer] = []
        var rest = data.dropFirst()
        while !rest.isEmpty {
            buffer.writeBytes(rest.prefix(chunk))
            rest = rest.dropFirst(chunk)
            while let frame = try? decoder.decode(buffer: &buffer) {
                if case .line(let line) = frame { lines.append(line) }
            }
        }
        if case .line(let line)? = try? decoder.decodeLast(buffer: &buffer, seenEOF: true) { lines.append(line) }
        for line in lines {
            let bytes = Array(line.readableBytesView)
            guard let text = String(validating: bytes, as: UTF8.self) else { continue }
            guard let message = try? JSON(parsing: text) else { continue }
            _ = message["op"]
            _ = message["value"].map { $0.rendered() }
        }
    }

    static func json(_ data: Data) {
        guard let text = String(validating: data, as: UTF8.self), let mine = try? JSON(parsing: text) else { return }
        guard let theirs = try? JSONDecoder().decode(JSON.self, from: data) else {
            preconditionFailure("JSON(parsing:) accepted a document JSONDecoder refuses")
        }
        precondition(sameValue(mine, theirs), "JSON(parsing:) read a different value than JSONDecoder")
    }

    /// Equal documents, numbers compared by value (`2.0` may be read as an Int by one and a Double by
    /// the other). Past 2^53 a Double cannot tell neighbouring whole numbers apart, and `JSONDecoder`
    /// reads a number with a fraction there as the Int of its digits (`13456789000004005.789` as
    /// 13456789000004005) where `JSON(parsing:)` keeps the nearest Double: the same value to a Double's
    /// precision, which is all either can promise.
    static func sameValue(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case let (.int(x), .number(y)), let (.number(y), .int(x)):
            return Double(x) == y || (abs(y) >= 9_007_199_254_740_992 && abs(Double(x) - y) <= y.ulp)
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && sameValue($0.1, $1.1) }
        default: return a == b
        }
    }

    static func conversation(_ data: Data) {
        let file = scratch + "/conversation.yaml"
        guard FileManager.default.createFile(atPath: file, contents: data) else { return }
        _ = ConversationParser.parse(file: file)
    }
}
