import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore
import IntakeTesting
import Testing

/// Issue 13, items 1 and 2: the mode belongs to the channel (a kiosk never sees what is only for
/// the counselor), and a client's text is data (it never acts on a terminal, a sheet or a spreadsheet).
@Suite(.serialized) struct TrustAtTheEdgesTests {
    static let secretNumber = "BN-7731-SECRET"
    static let secretRemarks = "面談メモ秘密：DV加害者の所在を確認中"
    static let secretNote = "ノート秘密：窓口名を出さない"

    /// The counselor's full interview of Dialogs/tests/edges.yaml, run by a counselor through a
    /// `SessionRunner` on `database` (as the REPL does), with secrets as the counselor-only answers
    /// and the note; stopped at the final review and suspended. Returns the token and session id.
    static func counselorSession(database: String) async throws -> (ResumeToken, String) {
        let (conversations, _) = ConversationParser.parse(file: packageRoot.appendingPathComponent("Dialogs/tests/edges.yaml").path)
        let interview = try #require(conversations.first { $0.mode == .counselor && $0.previous == nil })
        let dialog = try #require(project.dialogs["intake"])
        let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: try IntakeDatabase.open(path: database).store)
        let (token, id) = ResumeToken.forNewSession()
        var now = Moment.noon(of: interview.today)
        let counselor = Actor.counselor("佐藤")
        var (session, _) = try await runner.start(id: id, token: token, locale: interview.locale, mode: .counselor, actor: counselor, at: now)
        var sawNote = false
        steps: for step in interview.steps {
            let event: Event
            switch step {
            case .answer("benefit_number", _, _): event = .answer(secretNumber)
            case .answer("counselor_remarks", _, _): event = .answer(secretRemarks)
            case .answer(_, .event(let e), _): event = e
            case .command(.event(.finish), _): break steps
            case .command(.event(.note), _):
                event = .note(secretNote)
                sawNote = true
            case .command(.event(let e), _): event = e
            default: continue
            }
            now.epochMillis += 1000
            _ = try await runner.handle(event, in: &session, actor: counselor, at: now)
        }
        #expect(sawNote)
        #expect(session.state.phase == .reviewing)
        #expect(session.state.answers[Path("benefit_number")]?.answer == .value(.text(secretNumber)))
        #expect(session.state.answers[Path("counselor_remarks")]?.answer == .value(.text(secretRemarks)))
        try await runner.suspend(&session, actor: counselor, at: now)
        return (token, id)
    }

    /// What must never reach a kiosk of that session: the counselor-only answers, the note, and
    /// the counselor-only questions' ids and texts.
    static var counselorOnly: [String] {
        var out = [secretNumber, secretRemarks, secretNote, "benefit_number", "counselor_remarks"]
        for id in ["benefit_number", "counselor_remarks"] {
            if let q = project.dialogs["intake"]?.index.question(id) {
                for locale in ["ja", "en", "ja-easy"] { out.append(project.catalog.text(q.text, locale)) }
            }
        }
        return out
    }

    /// The refusal of `edit benefit_number` names what the client herself typed, and nothing more.
    static func echoesEditTarget(_ line: String) -> Bool {
        ["benefit_number", "counselor_remarks"].contains { target in
            let refusal = project.catalog.text("engine.edit.unknown", "ja", ["target": target])
            // Plain text: the refusal, wrapped at 72 columns, after the prompt.
            return plainLines("! " + refusal, hanging: "  ").contains(afterPrompt(line))
                || (line.contains(#""key":"engine.edit.unknown""#) && line.contains(refusal))
        }
    }

    /// Reads JSON lines up to where the session stands (a question, the final review, done), or an error or bye.
    static func standing(_ c: LineClient) async -> [String] {
        var lines: [String] = []
        while case .line(let l) = await c.next() {
            lines.append(l)
            guard let m = try? JSONDecoder().decode(JSON.self, from: Data(l.utf8)) else { continue }
            switch m["type"]?.string {
            case "question", "done", "error", "bye": return lines
            case "review" where m["final"] == .bool(true): return lines
            default: continue
            }
        }
        return lines
    }

    /// Reads a reply: the first line (waiting), then every line that came with it.
    static func reply(_ c: LineClient) async -> [String] {
        var lines: [String] = []
        guard case .line(let first) = await c.next() else { return lines }
        lines.append(first)
        while case .line(let l) = await c.next(timeout: .milliseconds(400)) { lines.append(l) }
        return lines
    }

    @Test func aKioskResumingACounselorsSessionSeesAndReachesNothingCounselorOnly() async throws {
        let database = tempDatabase()
        let (token, id) = try await Self.counselorSession(database: database)
        let server = try await TestServer.start(database: database)

        // JSON lines.
        let c = try await server.connect()
        var seen: [String] = []
        func send(_ members: [(String, JSON)]) async throws -> [JSON] {
            try await c.send(json: members)
            let lines = await Self.standing(c)
            seen += lines
            return lines.compactMap { try? JSONDecoder().decode(JSON.self, from: Data($0.utf8)) }
        }
        let resumed = try await send([("op", .string("resume")), ("token", .string(token.description))])
        #expect(resumed.first?["type"] == .string("session"))
        // Everything was answered: the kiosk stands at the final review, without the counselor's answers.
        let review = try #require(resumed.first { $0["type"] == .string("review") })
        #expect(review["final"] == .bool(true))
        guard case .array(let lines)? = review["answers"] else { Issue.record("no answers"); return }
        #expect(lines.count > 50)
        _ = try await send([("op", .string("review"))])
        // Nothing counselor-only can be edited, answered or declined.
        for target in ["benefit_number", "counselor_remarks"] {
            let edited = try await send([("op", .string("edit")), ("target", .string(target))])
            #expect(edited.first?["type"] == .string("invalid"))
            #expect(edited.first?["key"] == .string("engine.edit.unknown"))
            for op in ["answer", "decline", "skip"] {
                var m: [(String, JSON)] = [("op", .string(op)), ("question", .string(target))]
                if op == "answer" { m.append(("text", .string("上書き"))) }
                let refused = try await send(m)
                #expect(refused.first?["type"] == .string("error"), "\(op) \(target)")
                #expect(refused.first?["code"] == .string("wrong_question"), "\(op) \(target)")
            }
        }
        // Going back lands on the client's own last answer (the counselor's remarks were last).
        let back = try await send([("op", .string("back"))])
        let question = try #require(back.first { $0["type"] == .string("question") })
        #expect(question["current"] != nil)
        // Every answer of the review can be opened: each shows the client's own answer.
        for n in 1...lines.count {
            let opened = try await send([("op", .string("edit")), ("target", .string(String(n)))])
            #expect(opened.contains { $0["type"] == .string("question") }, "edit \(n)")
        }
        _ = try await send([("op", .string("suspend"))])
        for line in seen where !Self.echoesEditTarget(line) {
            for secret in Self.counselorOnly { #expect(!line.contains(secret), "a kiosk message shows \(secret): \(line)") }
        }

        // Plain text.
        let p = try await server.connect()
        var plain: [String] = []
        for line in ["resume " + token.description, ":review", ":edit benefit_number", ":edit counselor_remarks", ":back", ":repeat",
                     ":note 見せて", ":suspend"] {
            try await p.send(line)
            plain += await Self.reply(p)
        }
        #expect(plain.count > 50)
        for line in plain where !Self.echoesEditTarget(line) {
            for secret in Self.counselorOnly { #expect(!line.contains(secret), "a kiosk line shows \(secret): \(line)") }
        }
        try await server.stop()

        // The switch to kiosk mode is in the log, and replay keeps it.
        let store = try IntakeDatabase.open(path: database)
        let log = try store.log(of: id)
        #expect(log.contains { $0.event == .resume(mode: .kiosk) })
        let runner = SessionRunner(engine: Engine(dialog: try #require(project.dialogs["intake"]), catalog: project.catalog), store: store.store)
        let replayed = try runner.replay(log)
        #expect(replayed.mode == .kiosk)
        // The counselor's answers are kept, not lost: a counselor resuming it sees them again.
        #expect(replayed.answers[Path("benefit_number")]?.answer == .value(.text(Self.secretNumber)))
        let info = try #require(try store.session(id))
        let (back2, _) = try await runner.resume(info, mode: .counselor, actor: .counselor("佐藤"), at: Moment(epochMillis: (log.last?.at.epochMillis ?? 0) + 1000))
        #expect(back2.state.mode == .counselor)
        let lines2 = runner.engine.review(back2.state).lines
        #expect(lines2.contains { $0.answer == Self.secretNumber })
        #expect(lines2.contains { $0.answer == Self.secretRemarks })
    }

    /// A kiosk session a counselor takes over at the REPL runs in counselor mode: the counselor-only
    /// questions the kiosk skipped are asked.
    @Test func aCounselorTakingOverAKioskSessionIsAskedTheCounselorOnlyQuestions() async throws {
        let dialog = try #require(project.dialogs["intake"])
        let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: try IntakeDatabase.inMemory().store)
        let (token, _) = ResumeToken.forNewSession()
        var now = Moment.noon(of: try #require(CivilDate(iso: "2026-11-23")))
        var (session, _) = try await runner.start(id: "s-takeover", token: token, locale: "ja", mode: .kiosk, actor: .client, at: now)
        var asked: [String] = []
        for (q, line) in personaSteps {
            guard let q else { break }
            now.epochMillis += 1000
            for case .ask(let p) in try await runner.handle(.answer(line), in: &session, actor: .client, at: now) { asked.append(p.display) }
            if q == "language_help" { break }
        }
        #expect(!asked.contains("benefit_number"))
        try await runner.suspend(&session, actor: .client, at: now)
        let (taken, effects) = try await runner.resume(token: token, mode: .counselor, actor: .counselor("佐藤"), at: now)
        #expect(taken.state.mode == .counselor)
        let first = effects.compactMap { if case .ask(let p) = $0 { p.display } else { nil } }
        #expect(first == ["benefit_number"])
    }
}
