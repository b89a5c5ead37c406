import Foundation
import IntakeEngine
import NIOCore
import Testing
@testable import IntakeServer

/// Guessing resume tokens over many connections from one address: each connection is closed after a
/// few wrong tokens, and the address is refused every resume once it has guessed too often, until
/// its window ends.
@Suite(.serialized) struct GuessLimitTests {
    @Test func anAddressThatKeepsGuessingIsRefusedEvenTheRightToken() async throws {
        let server = try await TestServer.start {
            $0.maxWrongTokens = 5
            $0.maxWrongTokensPerAddress = 7
            // Long enough that a slow run (a sanitizer) cannot see it end; the end of a window is
            // tested with a given clock below.
            $0.wrongTokenWindow = .seconds(600)
        }
        // A real session to come back to.
        let owner = try await server.connect()
        let (_, token, _) = try await startJSON(owner)
        try await owner.send(json: [("op", .string("quit"))])
        #expect(await owner.until("bye")?["reason"] == .string("suspended"))

        let wrong = "0000-0000-0000-0000-0000-0000-00"
        // Five wrong on one connection: closed (the per-connection limit).
        let a = try await server.connect()
        for _ in 1...5 {
            try await a.send(json: [("op", .string("resume")), ("token", .string(wrong))])
            #expect(await a.nextJSON()?["code"] == .string("unknown_token"))
        }
        #expect(await a.nextJSON()?["code"] == .string("too_many_attempts"))
        #expect(await a.waitClosed())
        // A new connection from the same address: its second wrong token is the address's seventh.
        let b = try await server.connect()
        try await b.send(json: [("op", .string("resume")), ("token", .string(wrong))])
        #expect(await b.nextJSON()?["code"] == .string("unknown_token"))
        try await b.send(json: [("op", .string("resume")), ("token", .string(wrong))])
        #expect(await b.nextJSON()?["code"] == .string("unknown_token"))
        #expect(await b.nextJSON()?["code"] == .string("too_many_attempts"))
        #expect(await b.nextJSON()?["reason"] == .string("too_many_attempts"))
        #expect(await b.waitClosed())
        // Now even the right token is refused from this address, without being looked up.
        let c = try await server.connect()
        try await c.send(json: [("op", .string("resume")), ("token", .string(token))])
        let refused = await c.nextJSON()
        #expect(refused?["code"] == .string("too_many_attempts"))
        #expect(refused?["message"]?.string?.contains("係の者") == true)
        #expect(await c.nextJSON()?["reason"] == .string("too_many_attempts"))
        #expect(await c.waitClosed())
        // The count is this address's only: another may still try (the window's end is tested
        // below, with a given clock).
        #expect(!server.server.context.guesses.allows("127.0.0.1"))
        #expect(server.server.context.guesses.allows("192.0.2.1"))
        try await server.stop()
    }

    @Test func theTableOfAddressesStaysBounded() {
        let limiter = GuessLimiter(limit: 3, window: .seconds(60), maxAddresses: 100)
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
        for i in 0..<1000 {
            limiter.recordFailure("10.0.\(i / 256).\(i % 256)", now: t0 + .milliseconds(Int64(i)))
        }
        #expect(limiter.count <= 100)
        // The newest guessers are remembered; three failures close an address.
        limiter.recordFailure("10.0.3.231", now: t0 + .seconds(2))
        #expect(limiter.recordFailure("10.0.3.231", now: t0 + .seconds(2)) == false)
        #expect(!limiter.allows("10.0.3.231", now: t0 + .seconds(3)))
        #expect(limiter.allows("10.0.3.231", now: t0 + .seconds(62)))
        #expect(limiter.allows("192.168.0.1", now: t0 + .seconds(3)))
    }
}
