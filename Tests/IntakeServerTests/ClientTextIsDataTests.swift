import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore
import Testing

/// Issue 13, item 2: text from a client is data. Control and bidi characters are refused at
/// input; whatever a database holds anyway is shown inert by every renderer (kiosk, terminal,
/// sheet, CSV, `records`); CSV cells never start a formula.
@Suite(.serialized) struct ClientTextIsDataTests {
    /// Strings that would act on a terminal or reorder what a reader sees.
    static let controls = [
        "\u{1B}[2J", "\u{1B}]0;title\u{07}", "\u{9B}31m赤", "a\u{0}b", "a\u{7F}b", "\u{202E}gpj.exe", "\u{2066}x\u{2069}",
        "a\rb", "a\nb", "a\tb", "a\u{85}b", "a\u{2028}b", "\u{FFF9}仕事\u{FFFA}しごと\u{FFFB}",
    ]
    /// Strings a spreadsheet would read as a formula (data at a kiosk: accepted).
    static let formulas = ["=HYPERLINK(\"http://example.invalid\",\"x\")", "+1", "-2+3", "@SUM(A1:A2)"]

    /// The text questions the formulas answer, in the persona's order.
    /// (Not ふりがな: it takes kana only, and refuses a formula as it refuses any other non-kana.)
    static let formulaQuestions = ["name", "city", "address", "divorce_situation"]

    static func unsafe(_ s: String) -> [String] {
        s.unicodeScalars.filter { ControlCharacters.isUnsafe($0) && $0 != "\n" }.map { String(format: "U+%04X", $0.value) }
    }

    /// Reads a reply: the first line (waiting), then every line that came with it.
    static func reply(_ c: LineClient) async -> [String] {
        var lines: [String] = []
        guard case .line(let first) = await c.next() else { return lines }
        lines.append(first)
        while case .line(let l) = await c.next(timeout: .milliseconds(400)) { lines.append(l) }
        return lines
    }

    /// `intake ARGS` as a user runs it (stdin given), in the package root; stdout and stderr.
    static func intake(_ args: [String], stdin: String = "") throws -> (status: Int32, out: String, err: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-w1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let inFile = dir.appendingPathComponent("in"), outFile = dir.appendingPathComponent("out"), errFile = dir.appendingPathComponent("err")
        try Data(stdin.utf8).write(to: inFile)
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        let p = Process()
        p.executableURL = ServeCommandTests.binary
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        p.standardInput = try FileHandle(forReadingFrom: inFile)
        p.standardOutput = try FileHandle(forWritingTo: outFile)
        p.standardError = try FileHandle(forWritingTo: errFile)
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: try Data(contentsOf: outFile), as: UTF8.self),
                String(decoding: try Data(contentsOf: errFile), as: UTF8.self))
    }

    /// CSV as Python's csv module (as pandas and LibreOffice) reads it.
    static func parseCSV(_ csv: String) throws -> [[String]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("w1-\(UUID().uuidString).csv")
        try Data(csv.utf8).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))))", file.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readToEndOfFile()
        p.waitUntilExit()
        return try JSONDecoder().decode([[String]].self, from: data)
    }

    /// No cell a spreadsheet would run: none starts with = + - @ TAB CR (full-width too).
    static func checkNoFormula(_ rows: [[String]]) {
        for row in rows.dropFirst() {
            for cell in row {
                guard let f = cell.unicodeScalars.first else { continue }
                // A number is data: `-2` alone is a negative number, not a formula.
                if Double(cell) != nil { continue }
                #expect(!["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"].contains(f), "a formula cell: \(cell)")
            }
        }
    }

    @Test func aCorpusOfHostileTextThroughTheKioskIsRefusedOrKeptInert() async throws {
        let database = tempDatabase()
        let server = try await TestServer.start(database: database)
        var seen: [String] = []

        // JSON lines: the whole persona, the control strings tried at the first text question.
        let c = try await server.connect()
        try await c.send(json: [("op", .string("start")), ("dialog", .string("intake")), ("locale", .string("ja"))])
        var lines = await TrustAtTheEdgesTests.standing(c)
        seen += lines
        let session = try #require(lines.compactMap { try? JSONDecoder().decode(JSON.self, from: Data($0.utf8)) }
            .first { $0["type"] == .string("session") }?["session"]?.string)
        func send(_ members: [(String, JSON)]) async throws -> [JSON] {
            try await c.send(json: members)
            lines = await TrustAtTheEdgesTests.standing(c)
            seen += lines
            return lines.compactMap { try? JSONDecoder().decode(JSON.self, from: Data($0.utf8)) }
        }
        var formulas = Self.formulas[...]
        var triedControls = false
        for (q, line) in personaSteps {
            guard let q else {
                let done = try await send([("op", .string("finish"))])
                #expect(done.contains { $0["type"] == .string("done") })
                break
            }
            if q == "phone" {
                triedControls = true
                for hostile in Self.controls {
                    for form in [("text", JSON.string(hostile)), ("value", JSON.string(hostile))] {
                        let refused = try await send([("op", .string("answer")), ("question", .string(q)), form])
                        #expect(refused.first?["type"] == .string("invalid"), "\(Self.unsafe(hostile))")
                        #expect(refused.first?["key"] == .string("text_safety.control_characters"), "\(Self.unsafe(hostile))")
                        #expect(refused.last?["question"] == .string("phone"))
                    }
                }
            }
            if Self.formulaQuestions.contains(q), let formula = formulas.popFirst() {
                let r = try await send([("op", .string("answer")), ("question", .string(q)), ("text", .string(formula))])
                #expect(!r.contains { $0["type"] == .string("invalid") }, "\(q): \(formula)")
                continue
            }
            _ = try await send([("op", .string("answer")), ("question", .string(q)), ("text", .string(line))])
        }
        #expect(triedControls)
        #expect(formulas.isEmpty)

        // Plain text: the same strings typed as answers, a reason and a command.
        let p = try await server.connect()
        try await p.send("ja")
        seen += await Self.reply(p)
        let refusal = project.catalog.text("text_safety.control_characters", "ja")
        for hostile in Self.controls where !hostile.contains("\n") && !hostile.contains("\r") {
            for typed in [hostile, ":confirm " + hostile, ":edit " + hostile, ":" + hostile] {
                try await p.send(typed)
                let r = await Self.reply(p)
                seen += r
                if typed == hostile {
                    let shown = r.prefix(1).map(afterPrompt) + r.dropFirst()
                    let expected = plainLines("! " + refusal, hanging: "  ")
                    #expect(Array(shown.prefix(expected.count)) == expected, "\(Self.unsafe(hostile))")
                }
            }
        }
        try await p.send(":suspend")
        seen += await Self.reply(p)
        try await server.stop()

        // No kiosk line held a raw control or bidi character.
        for line in seen { #expect(Self.unsafe(line).isEmpty, "a kiosk line: \(Self.unsafe(line))") }

        // The stored record holds the formulas as data; no renderer acts on them or on anything else.
        let shown = try Self.intake(["records", "show", session, "--db", database])
        #expect(shown.status == 0)
        let record = try JSONDecoder().decode(JSON.self, from: Data(shown.out.utf8))
        #expect(record["answers"]?["family"]?["name"] == .string(Self.formulas[0]))
        let sheet = try Self.intake(["records", "sheet", session, "--kind", "record", "--db", database])
        #expect(sheet.status == 0)
        #expect(sheet.out.contains("+1"))
        let csv = try Self.intake(["records", "export", "--format", "csv", "--db", database])
        let rows = try Self.parseCSV(csv.out)
        #expect(rows.count == 2)
        Self.checkNoFormula(rows)
        let name = try #require(rows[0].firstIndex(of: "name"))
        #expect(rows[1][name] == "'" + Self.formulas[0])
        let city = try #require(rows[0].firstIndex(of: "city"))
        #expect(rows[1][city] == "'+1")
        // (CSV rows end with CRLF, as RFC 4180 says.)
        for out in [shown.out, sheet.out, csv.out.replacingOccurrences(of: "\r\n", with: "\n")] { #expect(Self.unsafe(out).isEmpty) }
    }

    /// A database written before the input check (or damaged) holds control characters in an
    /// answer and a note: the kiosk, the counselor's terminal, sheets, `records` and CSV all show
    /// them inert (␛, ⟨U+202E⟩), and the data itself is kept.
    @Test func controlCharactersAlreadyInTheDatabaseAreShownNotActedOn() async throws {
        let database = tempDatabase()
        let hostile = "\u{1B}[2J\u{1B}]0;pwned\u{07}\u{9B}31m\u{202E}gpj.exe\u{2066}x\u{2069}a\rb\u{7F}\u{0}"
        let dialog = try #require(project.dialogs["intake"])
        let store = try IntakeDatabase.open(path: database)
        let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: store.store)
        let (token, id) = ResumeToken.forNewSession()
        var now = Moment.noon(of: try #require(CivilDate(iso: "2026-11-23")))
        var (session, _) = try await runner.start(id: id, token: token, locale: "ja", mode: .kiosk, actor: .client, at: now)
        var rest = personaSteps[...]
        while let step = rest.first, let q = step.question, q != "name" {
            rest = rest.dropFirst()
            now.epochMillis += 1000
            _ = try await runner.handle(.answer(step.line), in: &session, actor: .client, at: now)
        }
        // Written straight into the log, as an older version of intake accepted it.
        let log = try store.log(of: id)
        let before = try runner.replay(log)
        now.epochMillis += 1000
        let answering = runner.engine.replaying(.answer(hostile), before, at: now)
        let answered = answering.state
        let noted = runner.engine.replaying(.note(hostile), answered, at: now).state
        try await store.store.append([
            LogEntry(seq: (log.last?.seq ?? 0) + 1, at: now, actor: .client, event: .input(.answer(hostile)),
                     answers: LogEntry.changes(answering)),
            LogEntry(seq: (log.last?.seq ?? 0) + 2, at: now, actor: .counselor("佐藤"), event: .input(.note(hostile))),
        ], to: id, status: .suspended, locale: "ja", record: nil, at: now.epochMillis)
        #expect(noted.answers[Path("name")]?.answer == .value(.text(hostile)))
        // The client goes on at the kiosk (through the runner) to the final review.
        var (kiosk, _) = try await runner.resume(token: token, mode: .kiosk, actor: .client, at: now)
        #expect(kiosk.state.answers[Path("name")]?.answer == .value(.text(hostile)))
        for (q, line) in rest.dropFirst() {
            guard q != nil else { break }
            now.epochMillis += 1000
            _ = try await runner.handle(.answer(line), in: &kiosk, actor: .client, at: now)
        }
        #expect(kiosk.state.phase == .reviewing)
        try await runner.suspend(&kiosk, actor: .client, at: now)

        // The kiosk: plain text, then JSON lines.
        let server = try await TestServer.start(database: database)
        let p = try await server.connect()
        var plain: [String] = []
        for line in ["resume " + token.description, ":review", ":edit name", ":suspend"] {
            try await p.send(line)
            plain += await Self.reply(p)
        }
        let j = try await server.connect()
        try await j.send(json: [("op", .string("resume")), ("token", .string(token.description))])
        var json = await Self.reply(j)
        try await j.send(json: [("op", .string("review"))])
        json += await Self.reply(j)
        try await j.send(json: [("op", .string("suspend"))])
        _ = await Self.reply(j)
        try await server.stop()
        for line in plain + json { #expect(Self.unsafe(line).isEmpty, "a kiosk line: \(Self.unsafe(line))") }
        #expect(plain.contains { $0.contains("␛[2J") && $0.contains("⟨U+202E⟩") })
        // JSON carries the data itself, escaped: a kiosk app reads back exactly what is stored.
        let review = json.compactMap { try? JSONDecoder().decode(JSON.self, from: Data($0.utf8)) }.first { $0["type"] == .string("review") }
        guard case .array(let answers)? = review?["answers"] else { Issue.record("no review"); return }
        #expect(answers.contains { $0["answer"] == .string(hostile) })

        // The counselor's terminal (the REPL, line mode): the handover review, the review, a sheet, the list.
        let repl = try Self.intake(["--db", database, "--resume-session", id, "--counselor", "佐藤"], stdin: ":review\n:sheet\n:records\n:quit\n")
        #expect(repl.status == 0, "\(repl.err)")
        #expect(Self.unsafe(repl.out).isEmpty, "the REPL printed \(Self.unsafe(repl.out))")
        #expect(repl.out.contains("␛[2J"))

        // Finished by a counselor: the record, its sheet, CSV, JSON exports, the list.
        var (last, _) = try await runner.resume(token: token, mode: .counselor, actor: .counselor("佐藤"), at: now)
        // Enter on each question left: keeps an answer reopened, skips an optional one.
        for _ in 0..<20 where last.state.phase == .asking {
            now.epochMillis += 1000
            _ = try await runner.handle(.answer(""), in: &last, actor: .counselor("佐藤"), at: now)
        }
        _ = try await runner.handle(.finish, in: &last, actor: .counselor("佐藤"), at: now)
        #expect(try store.session(id)?.status == .complete)
        var outputs: [String: String] = [:]
        for (name, args) in [("show", ["records", "show", id]), ("sheet", ["records", "sheet", id, "--kind", "record"]),
                             ("csv", ["records", "export", "--format", "csv"]), ("ndjson", ["records", "export", "--format", "ndjson"]),
                             ("json", ["records", "export", "--format", "json"]), ("list", ["records", "list"])] {
            let r = try Self.intake(args + ["--db", database])
            #expect(r.status == 0, "\(name): \(r.err)")
            // (CSV rows end with CRLF, as RFC 4180 says.)
            // (`records list` separates its columns with TAB.)
            let out = name == "csv" ? r.out.replacingOccurrences(of: "\r\n", with: "\n")
                : name == "list" ? r.out.replacingOccurrences(of: "\t", with: " ") : r.out
            #expect(Self.unsafe(out).isEmpty, "\(name) printed \(Self.unsafe(out))")
            outputs[name] = r.out
        }
        // (The sheet is Markdown: the `[` is escaped there, SheetRowsTests.markdownInAClientsAnswersIsWrittenAsText.)
        #expect(outputs["sheet"]?.contains(#"␛\[2J"#) == true)
        // The JSON is the same data, only written with escapes.
        let record = try JSONDecoder().decode(JSON.self, from: Data((outputs["show"] ?? "").utf8))
        #expect(record["answers"]?["family"]?["name"] == .string(hostile))
        guard case .array(let notes)? = record["notes"] else { Issue.record("no notes"); return }
        #expect(notes.first?["text"] == .string(hostile))
        let rows = try Self.parseCSV(outputs["csv"] ?? "")
        Self.checkNoFormula(rows)
        let name = try #require(rows.first?.firstIndex(of: "name"))
        #expect(rows.last?[name] == ControlCharacters.visible(hostile))
    }
}
