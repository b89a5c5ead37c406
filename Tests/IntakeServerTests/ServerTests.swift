import Foundation
import IntakeEngine
import IntakeRuntime
import IntakeStore
import Testing

/// Reads JSON messages up to where the session now stands: a question, the final review, or done.
func untilStanding(_ c: LineClient) async -> JSON? {
    while let m = await c.nextJSON() {
        switch m["type"]?.string {
        case "question", "done": return m
        case "review" where m["final"] == .bool(true): return m
        case "error", "bye": return m
        default: continue
        }
    }
    return nil
}

/// Starts a JSON session; returns (session id, token, first question).
func startJSON(_ c: LineClient, dialog: String = "followup", locale: String = "ja") async throws -> (String, String, JSON?) {
    try await c.send(json: [("op", .string("start")), ("dialog", .string(dialog)), ("locale", .string(locale)), ("id", .int(1))])
    let session = await c.until("session")
    let question = await untilStanding(c)
    return (session?["session"]?.string ?? "", session?["token"]?.string ?? "", question)
}

@Suite(.serialized) struct KioskServerTests {
    @Test func aWholeIntakeInJSONLines() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        let (session, token, first) = try await startJSON(c, dialog: "intake")
        #expect(session.hasPrefix("s-"))
        #expect(ResumeToken(text: token) != nil)
        var standing = first
        #expect(personaSteps.count > 80)
        for (i, step) in personaSteps.enumerated() {
            if let q = step.question {
                #expect(standing?["type"] == .string("question"), "step \(i)")
                #expect(standing?["question"]?.string == q, "step \(i)")
                try await c.send(json: [("op", .string("answer")), ("question", .string(q)), ("text", .string(step.line)), ("id", .int(i))])
            } else {
                #expect(standing?["type"] == .string("review"))
                try await c.send(json: [("op", .string("finish")), ("id", .int(i))])
            }
            standing = await untilStanding(c)
            // Every reply to a message echoes its id.
            #expect(standing?["id"] == .int(i))
        }
        let done = try #require(standing)
        #expect(done["type"] == .string("done"))
        #expect(done["status"] == .string("complete"))
        #expect(done["record"] == .string(session))
        var fired: [String] = []
        if case .array(let items)? = done["suggestions"] { fired = items.compactMap { $0["id"]?.string } }
        #expect(fired == ["mothers_hellowork", "daycare_application", "night_work_impossible", "no_history_path"])
        // The session ends the connection: the next person sees nothing of it.
        let bye = await c.nextJSON()
        #expect(bye?["type"] == .string("bye"))
        #expect(bye?["reason"] == .string("done"))
        #expect(await c.waitClosed())
        #expect(try await server.store.session(session)?.status == .complete)
        #expect(try await server.store.session(session)?.mode == .kiosk)
        #expect(try await server.store.record(of: session) != nil)
        try await server.stop()
    }

    @Test func aWholeIntakeInPlainText() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        try await c.send("ja")
        let opening = try #require(await c.lines(until: "問回答"))
        #expect(opening.first?.contains("受付を始めます") == true)
        for step in personaSteps {
            try await c.send(step.line)
        }
        let rest = try #require(await c.lines(until: "受付が終わりました（完了）"))
        #expect(rest.map(afterPrompt).contains("これまでの答え："), "the final review came before the end")
        let end = try #require(await c.lines(until: "ご利用ありがとうございました"))
        #expect(end.contains("ご案内："), "the suggestions in her words")
        #expect(await c.waitClosed())
        try await server.stop()
    }

    /// Issue 16: the kiosks of an office (`intake serve --office`) start that office's sessions, so
    /// that its counselors (and only they, on a shared database) take them over.
    @Test func aKioskServiceOfAnOfficeStartsThatOfficesSessions() async throws {
        let server = try await TestServer.start { $0.office = "川越" }
        let c = try await server.connect()
        let (session, _, _) = try await startJSON(c)
        #expect(try await server.store.session(session)?.office == "川越")
        try await server.stop()
        let unnamed = try await TestServer.start()
        let d = try await unnamed.connect()
        let (other, _, _) = try await startJSON(d)
        #expect(try await unnamed.store.session(other)?.office == nil)
        try await unnamed.stop()
    }

    @Test func aRefusedConsentEndsTheIntakeAtOnce() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        let (_, _, first) = try await startJSON(c, dialog: "intake")
        #expect(first?["question"] == .string("consent_record"))
        try await c.send(json: [("op", .string("answer")), ("value", .bool(false))])
        let done = await c.until("done")
        #expect(done?["status"] == .string("stopped"))
        #expect(await c.until("bye")?["reason"] == .string("done"))
        try await server.stop()
    }

    @Test func aSessionResumesAfterADisconnectOnAnotherConnection() async throws {
        let server = try await TestServer.start()
        let a = try await server.connect()
        let (_, token, first) = try await startJSON(a)
        #expect(first?["question"] == .string("found_work"))
        try await a.send(json: [("op", .string("answer")), ("value", .bool(false))])
        let second = await untilStanding(a)
        await a.close()

        let b = try await server.connect()
        try await b.send(json: [("op", .string("resume")), ("token", .string(token.lowercased()))])
        let resumed = await b.until("session")
        #expect(resumed?["resumed"] == .bool(true))
        let now = await untilStanding(b)
        #expect(now?["question"] == second?["question"])
        try await server.stop()
    }

    @Test func aSessionResumesAfterTheServerRestartsOnTheSameDatabase() async throws {
        let first = try await TestServer.start()
        let a = try await first.connect()
        let (_, token, _) = try await startJSON(a)
        try await a.send(json: [("op", .string("answer")), ("value", .bool(false))])
        let second = await untilStanding(a)
        // A graceful stop tells the client, with the token.
        try await first.stop()
        let bye = await a.until("bye")
        #expect(bye?["reason"] == .string("shutdown"))
        #expect(bye?["token"]?.string == token)

        let again = try await TestServer.start(database: first.database)
        let b = try await again.connect()
        try await b.send("{\"op\":\"resume\",\"token\":\"\(token)\"}")
        #expect(await b.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(b)?["question"] == second?["question"])
        try await again.stop()
    }

    @Test func anIdleSessionIsSuspendedAndTheConnectionClosed() async throws {
        let server = try await TestServer.start { $0.idleTimeout = .seconds(1) }
        let c = try await server.connect()
        let (_, token, _) = try await startJSON(c)
        // The bye comes after a second of silence; the wait allows for a loaded machine (the whole
        // suite runs at once on two cores), and without the idle timeout nothing would come at all.
        let bye = await c.nextJSON(timeout: .seconds(30))
        #expect(bye?["type"] == .string("bye"))
        #expect(bye?["reason"] == .string("idle"))
        #expect(bye?["token"]?.string == token)
        #expect(bye?["message"]?.string?.contains(token) == true)
        #expect(await c.waitClosed())
        // The session waits for its token.
        let d = try await server.connect()
        try await d.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await d.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(d)?["question"] == .string("found_work"))
        try await server.stop()
    }

    @Test func plainTextIdleSaysSoInTheSessionsLanguage() async throws {
        let server = try await TestServer.start { $0.idleTimeout = .seconds(1) }
        let c = try await server.connect()
        try await c.send("en")
        let lines = try #require(await c.lines(until: "to go"))
        // The opening, wrapped at 72 columns, names the resume number (never cut).
        let token = try #require(lines.joined(separator: " ").firstMatch(of: /resume number ([0-9A-Z-]{32})/)?.output.1)
        let end = try #require(await c.lines(until: String(token), timeout: .seconds(30)))
        #expect(end.suffix(2).joined(separator: " ").contains("Nothing happened for a while"), "\(end)")
        #expect(await c.waitClosed())
        try await server.stop()
    }

    @Test func theKioskCannotReachRecords() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        _ = try await startJSON(c)
        for op in ["records", "list", "show", "export", "sheet", "delete"] {
            try await c.send(json: [("op", .string(op)), ("id", .string(op))])
            let e = await c.nextJSON()
            #expect(e?["type"] == .string("error"))
            #expect(e?["code"] == .string("unknown_op"))
            #expect(e?["id"] == .string(op))
        }
        // Counselor's commands do not exist in plain text either.
        let p = try await server.connect()
        try await p.send("ja")
        _ = await p.lines(until: "問回答")
        try await p.send(":note 秘密")
        #expect(await p.lines(until: "というコマンドはありません") != nil)
        try await server.stop()
    }

    @Test func wrongTokensAreRefusedAndRateLimited() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        for i in 1...5 {
            try await c.send(json: [("op", .string("resume")), ("token", .string(i == 1 ? "not a token" : "0000-0000-0000-0000-0000-0000-00"))])
            #expect(await c.nextJSON()?["code"] == .string("unknown_token"))
        }
        #expect(await c.nextJSON()?["code"] == .string("too_many_attempts"))
        #expect(await c.nextJSON()?["reason"] == .string("too_many_attempts"))
        #expect(await c.waitClosed())
        try await server.stop()
    }

    @Test func turnsRunOnTheEventLoopWhenConfiguredSo() async throws {
        let server = try await TestServer.start { $0.turnsOnEventLoop = true }
        let c = try await server.connect()
        let (_, token, first) = try await startJSON(c)
        #expect(first?["question"] == .string("found_work"))
        try await c.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("いいえ")), ("id", .int(2))])
        let next = await untilStanding(c)
        #expect(next?["type"] == .string("question"))
        #expect(next?["id"] == .int(2))
        try await c.send(json: [("op", .string("quit"))])
        #expect(await c.until("bye")?["token"] == .string(token))
        let d = try await server.connect()
        try await d.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await d.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(d)?["question"] == next?["question"])
        try await server.stop()
    }

    @Test func resumingElsewhereTakesTheSessionOver() async throws {
        let server = try await TestServer.start()
        let a = try await server.connect()
        let (_, token, first) = try await startJSON(a)
        let b = try await server.connect()
        try await b.send(json: [("op", .string("resume")), ("token", .string(token))])
        let byeA = await a.until("bye")
        #expect(byeA?["reason"] == .string("resumed_elsewhere"))
        #expect(byeA?["token"] == nil)
        #expect(await b.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(b)?["question"] == first?["question"])
        try await server.stop()
    }

    @Test func pastTheConnectionLimitAClientIsToldPolitely() async throws {
        let server = try await TestServer.start { $0.maxConnections = 2 }
        let a = try await server.connect()
        let b = try await server.connect()
        _ = try await startJSON(a)
        _ = try await startJSON(b)
        let c = try await server.connect()
        guard case .line(let refusal) = await c.next() else { Issue.record("no refusal line"); return }
        #expect(refusal.contains("混み合っています"))
        #expect(refusal.contains("busy"))
        #expect(await c.waitClosed())
        // The others go on, and once one leaves there is room again.
        try await a.send(json: [("op", .string("answer")), ("value", .bool(false))])
        #expect(await untilStanding(a)?["type"] == .string("question"))
        try await a.send(json: [("op", .string("quit"))])
        #expect(await a.until("bye")?["reason"] == .string("suspended"))
        #expect(await a.waitClosed())
        var admitted = false
        for _ in 0..<50 where !admitted {
            let d = try await server.connect()
            try await d.send(json: [("op", .string("start")), ("dialog", .string("followup"))])
            if let m = await d.nextJSON(), m["type"] == .string("session") { admitted = true }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(admitted)
        try await server.stop()
    }
}
