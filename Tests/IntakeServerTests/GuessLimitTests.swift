import Foundation
import IntakeEngine
import IntakeRuntime
import IntakeStore
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
        let context = server.server.context
        #expect(await context.allowed(context.guesses, "127.0.0.1", .check) == false)
        #expect(await context.allowed(context.guesses, "192.0.2.1", .check))
        try await server.stop()
    }

    /// The counts live in the store (every instance shares them); a window that has ended is
    /// forgotten as others are counted, so the table holds about one window's addresses.
    @Test func theTableOfAddressesStaysBounded() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-limits-\(UUID().uuidString).sqlite").path
        let db = try IntakeDatabase.open(path: path)
        let store = db.store
        let rule = RateLimit(kind: "wrong_token", limit: 3, window: 60_000)
        let t0: Int64 = 1_795_000_000_000
        // One guess a second from 1,000 addresses.
        for i in 0..<1000 {
            _ = try await store.limit(rule, address: "10.0.\(i / 256).\(i % 256)", counting: .failure, at: t0 + Int64(i) * 1000)
        }
        let rows = try await db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM rate_limit") ?? 0 }
        #expect(rows <= 61, "\(rows)")
        // Three failures close an address, for its window; other addresses and kinds are apart.
        let now = t0 + 2_000_000  // the first round's windows have all ended
        #expect(try await store.limit(rule, address: "10.0.3.231", counting: .failure, at: now))
        #expect(try await store.limit(rule, address: "10.0.3.231", counting: .failure, at: now) == true)
        #expect(try await store.limit(rule, address: "10.0.3.231", counting: .failure, at: now) == false)
        #expect(try await store.limit(rule, address: "10.0.3.231", counting: .check, at: now + 1000) == false)
        #expect(try await store.limit(rule, address: "10.0.3.231", counting: .check, at: now + 60_000))
        #expect(try await store.limit(rule, address: "192.168.0.1", counting: .check, at: now + 1000))
        #expect(try await store.limit(RateLimit(kind: "start", limit: 3, window: 60_000), address: "10.0.3.231", counting: .check, at: now + 1000))
    }
}
