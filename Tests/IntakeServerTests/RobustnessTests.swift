import Foundation
import IntakeEngine
import Testing

/// Each robustness case of the issue: the client gets a clear error where a reply is possible,
/// and the server and another session running at the same time go on.
@Suite(.serialized) struct RobustnessTests {
    /// Another client's session, answered one step at a time between the cases.
    struct Bystander {
        let client: LineClient
        var answered = 0

        static func start(_ server: TestServer) async throws -> Bystander {
            let c = try await server.connect()
            let (_, _, q) = try await startJSON(c)
            #expect(q?["question"] == .string("found_work"))
            return Bystander(client: c)
        }

        /// Goes back and forth on the first question: each is a durable step with a reply. False
        /// when the other session did not go on (its failures recorded).
        @discardableResult
        mutating func step() async throws -> Bool {
            try await client.send(json: [("op", .string("answer")), ("value", .bool(false)), ("id", .int(answered))])
            let q = await untilStanding(client)
            #expect(q?["type"] == .string("question"), "the other session goes on")
            #expect(q?["id"] == .int(answered))
            try await client.send(json: [("op", .string("back"))])
            let back = await untilStanding(client)?["question"]
            #expect(back == .string("found_work"))
            answered += 1
            return q?["type"] == .string("question") && back == .string("found_work")
        }
    }

    @Test func aLineOverTheLimitIsRefusedAndReadingGoesOn() async throws {
        let server = try await TestServer.start()
        var other = try await Bystander.start(server)
        let c = try await server.connect()
        _ = try await startJSON(c)
        // In one piece, with its LF.
        try await c.send(bytes: Array(repeating: UInt8(ascii: "a"), count: 9000) + [10])
        let e = await c.nextJSON()
        #expect(e?["code"] == .string("line_too_long"))
        #expect(e?["message"]?.string?.contains("8192") == true)
        try await other.step()
        // In pieces, far over the limit, before its LF: one error, the rest dropped up to the LF.
        for _ in 0..<8 { try await c.send(bytes: Array(repeating: UInt8(ascii: "b"), count: 4096)) }
        try await c.send(bytes: Array("tail\n{\"op\":\"review\",\"id\":7}\n".utf8))
        #expect(await c.nextJSON()?["code"] == .string("line_too_long"))
        let review = await c.nextJSON()
        #expect(review?["type"] == .string("review"))
        #expect(review?["id"] == .int(7))
        try await other.step()
        try await server.stop()
    }

    @Test func invalidUTF8MalformedJSONAndUnknownOpsGetErrorsAndTheSessionGoesOn() async throws {
        let server = try await TestServer.start()
        var other = try await Bystander.start(server)
        let c = try await server.connect()
        _ = try await startJSON(c)
        try await c.send(bytes: [0x7B, 0xFF, 0xFE, 0x7D, 0x0A])
        #expect(await c.nextJSON()?["code"] == .string("invalid_utf8"))
        try await c.send("{\"op\": \"answer\", \"value\": ")
        #expect(await c.nextJSON()?["code"] == .string("malformed_json"))
        try await c.send("[1, 2]")
        #expect(await c.nextJSON()?["code"] == .string("malformed_json"))
        try await c.send("{\"value\": true}")
        #expect(await c.nextJSON()?["code"] == .string("bad_request"))
        try await c.send("{\"op\": \"dance\", \"id\": \"x1\"}")
        let unknown = await c.nextJSON()
        #expect(unknown?["code"] == .string("unknown_op"))
        #expect(unknown?["id"] == .string("x1"))
        #expect(unknown?["message"]?.string?.contains("dance") == true)
        try await c.send("{\"op\": \"answer\", \"value\": {\"nested\": 1}}")
        #expect(await c.nextJSON()?["code"] == .string("bad_request"))
        try await other.step()
        // The session itself is intact: a real answer goes through.
        try await c.send(json: [("op", .string("answer")), ("value", .bool(false))])
        #expect(await untilStanding(c)?["type"] == .string("question"))
        try await server.stop()
    }

    @Test func invalidUTF8InPlainTextAlsoGetsAnError() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        try await c.send("en")
        _ = await c.lines(until: "to go")
        try await c.send(bytes: [0xC3, 0x28, 0x0A])
        #expect(await c.lines(until: "not UTF-8") != nil)
        try await c.send("1")
        #expect(await c.lines(until: "to go") != nil)
        try await server.stop()
    }

    @Test func anAnswerForAnotherQuestionIsRefused() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        _ = try await startJSON(c)
        try await c.send(json: [("op", .string("answer")), ("question", .string("plan_now")), ("value", .bool(true))])
        let e = await c.nextJSON()
        #expect(e?["code"] == .string("wrong_question"))
        #expect(e?["message"]?.string?.contains("found_work") == true)
        // Nothing was recorded: the right question takes the answer.
        try await c.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("value", .bool(false))])
        let next = await untilStanding(c)
        #expect(next?["type"] == .string("question"))
        #expect(next?["question"] != .string("found_work"))
        try await server.stop()
    }

    @Test func aClientThatSendsNothingIsClosedAtTheIdleTimeout() async throws {
        // Idle after 20 s: long enough that the bystander's steps (and a reply delayed by a loaded
        // machine: this server shares the test process's threads) never let its own connection
        // idle out — at 3 s it once did, under another build's load, and at 10 s its start once
        // went unanswered with two builds running beside the whole suite.
        let server = try await TestServer.start {
            $0.idleTimeout = .seconds(20)
            $0.greetAfter = .milliseconds(300)
        }
        var other = try await Bystander.start(server)
        let silent = try await server.connect()
        // Meanwhile the other session goes on (and so never idles), until the silent one is closed.
        // The server greets it (how to begin) — which is no input — and closes it at the idle timeout.
        var read: [String] = []
        var closed = false
        // A generous deadline: this server shares the test process's two cooperative threads with
        // every other test, which on a busy CI machine can hold them for many seconds. The check
        // that it was the idle timeout (20 s) and not something else is the greeting read below.
        let deadline = ContinuousClock.now + .seconds(120)
        while !closed && ContinuousClock.now < deadline {
            // A bystander that stopped answering has failed the test already: no more steps.
            guard try await other.step() else { break }
            switch await silent.next(timeout: .milliseconds(250)) {
            case .line(let l): read.append(l)
            case .closed: closed = true
            case .timeout: break
            }
        }
        #expect(closed, "closed at the idle timeout")
        #expect(read.contains { $0.contains("Employment support intake") }, "\(read)")
        try await other.step()
        try await server.stop()
    }

    @Test func halfALineThenNothingSuspendsTheSessionAtTheIdleTimeout() async throws {
        // The server shares the test process's two cooperative threads with every other test, and
        // under the whole suite's load they were held for seconds: at a 3 s idle timeout the
        // connection idled out before its start, or before its half line, was written ("I/O on
        // closed channel", twice in CI). So 10 s, as the test above, and a connection closed before
        // its half line was written is tried again, at most twice more: what is checked here is
        // what follows a half line.
        let server = try await TestServer.start { $0.idleTimeout = .seconds(10) }
        var attempt = 0
        var started: (connection: LineClient, token: String)?
        while started == nil {
            attempt += 1
            let c = try await server.connect()
            do {
                let (_, token, _) = try await startJSON(c)
                // No session line: closed after the start was written, before its reply.
                if token.isEmpty, attempt < 3 { continue }
                try await c.send(bytes: Array("{\"op\":\"ans".utf8))
                started = (c, token)
            } catch where attempt < 3 {
                continue
            }
        }
        guard let (c, token) = started else { return }
        let bye = await c.nextJSON(timeout: .seconds(60))
        #expect(bye?["reason"] == .string("idle"))
        #expect(bye?["token"]?.string == token)
        #expect(await c.waitClosed())
        try await server.stop()
    }

    @Test func aDisconnectMidLineSuspendsTheSessionAndOthersGoOn() async throws {
        let server = try await TestServer.start()
        var other = try await Bystander.start(server)
        let c = try await server.connect()
        let (_, token, _) = try await startJSON(c)
        try await c.send(json: [("op", .string("answer")), ("value", .bool(false))])
        let second = await untilStanding(c)
        try await c.send(bytes: Array("{\"op\":\"answer\",\"te".utf8))
        await c.close()
        try await other.step()
        // The half line was dropped; the session waits at the question it was at.
        let d = try await server.connect()
        try await d.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await d.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(d)?["question"] == second?["question"])
        try await other.step()
        try await server.stop()
    }

    @Test func opsBeforeASessionAndASecondStartAreErrors() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        try await c.send(json: [("op", .string("answer")), ("value", .bool(true))])
        #expect(await c.nextJSON()?["code"] == .string("no_session"))
        try await c.send(json: [("op", .string("start")), ("dialog", .string("nope"))])
        #expect(await c.nextJSON()?["code"] == .string("unknown_dialog"))
        _ = try await startJSON(c)
        try await c.send(json: [("op", .string("start"))])
        #expect(await c.nextJSON()?["code"] == .string("session_active"))
        try await server.stop()
    }
}
