import Foundation
import IntakeEngine
import IntakeRuntime
import Testing

/// An answer whose commit landed although the kiosk was told `storage_failed` (on PostgreSQL, the
/// database connection broke during COMMIT: the outcome is unknown to the server). The connection's
/// next input finds the store ahead of it; the session goes on from what is stored instead of
/// refusing every later answer.
@Suite struct AmbiguousCommitTests {
    @Test func aConnectionBehindTheStoreGoesOnFromWhatIsStored() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        let (session, _, q1) = try await startJSON(c)
        #expect(q1?["question"] == .string("found_work"))
        try await c.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("いいえ"))])
        #expect(await untilStanding(c)?["question"] == .string("changes"))
        // The answer to `changes` is in the store, but this connection never learnt it (its reply was lost).
        let log = try await server.store.log(of: session)
        let at = Moment(epochMillis: (log.last?.at.epochMillis ?? 0) + 1000, utcOffsetMinutes: 540)
        try await server.store.append([LogEntry(seq: log.count, at: at, actor: .client, event: .input(.answer("父の介護が始まった")),
                                                answers: [AnswerChange(path: Path("changes"), entry: AnswerEntry(.value(.text("父の介護が始まった")), at: at.epochMillis))])],
                                       to: session, status: .inProgress, locale: "ja", record: nil, at: at.epochMillis)
        // She answers `changes` again: not stored twice; she is shown where the session stands.
        try await c.send(json: [("op", .string("answer")), ("question", .string("changes")), ("text", .string("父の介護が始まった"))])
        let standing = await untilStanding(c)
        #expect(standing?["type"] == .string("question"), "\(String(describing: standing))")
        #expect(standing?["question"] == .string("lifework"))
        // And the session goes on.
        try await c.send(json: [("op", .string("answer")), ("question", .string("lifework")), ("text", .string("1"))])
        #expect(await untilStanding(c)?["type"] == .string("question"))
        let inputs = try await server.store.log(of: session).filter { if case .input = $0.event { true } else { false } }
        #expect(inputs.count == 3, "found_work, changes once, lifework")
        try await server.stop()
    }

    /// The store ahead of the connection because another connection resumed the session (here, on
    /// the same server, in the moment before this one was told): this connection's answer is not
    /// stored, it is told the session was resumed elsewhere, and it does not take the session back.
    @Test func aConnectionBehindAResumptionDoesNotTakeTheSessionBack() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        let (session, _, q1) = try await startJSON(c)
        #expect(q1?["question"] == .string("found_work"))
        let log = try await server.store.log(of: session)
        let at = Moment(epochMillis: (log.last?.at.epochMillis ?? 0) + 1000, utcOffsetMinutes: 540)
        try await server.store.append([LogEntry(seq: log.count, at: at, actor: .client, event: .resume(mode: .kiosk))],
                                       to: session, status: .inProgress, locale: "ja", record: nil, at: at.epochMillis)
        try await c.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("いいえ"))])
        let bye = await c.until("bye")
        #expect(bye?["reason"] == .string("resumed_elsewhere"), "\(String(describing: bye))")
        #expect(await c.waitClosed())
        let after = try await server.store.log(of: session)
        #expect(after.count == log.count + 1, "nothing stored after the other connection's resumption")
        try await server.stop()
    }
}
