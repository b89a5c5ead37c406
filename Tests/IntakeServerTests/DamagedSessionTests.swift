import Foundation
import IntakeRuntime
import GRDB
import IntakeEngine
import IntakeStore
import Testing

/// A stored value damaged in the file (a flipped bit, a NULL where an integer was) must never
/// crash the server: the kiosk that resumes that session gets the `damaged` code, every other
/// session goes on, and nothing of the session's answers reaches the log.
@Suite struct DamagedSessionTests {
    @Test func aDamagedSessionIsReportedToItsKioskAndTheOthersGoOn() async throws {
        let db = tempDatabase()
        let (server, port, _, err) = try await ServeCommandTests.serve(db: db)
        // Six kiosks each start a session, answer, and leave (suspended).
        var sessions: [(id: String, token: String, shown: String?)] = []
        for _ in 0..<6 {
            let c = try await LineClient.connect(port: port)
            let (id, token, _) = try await startJSON(c)
            try await c.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("はい"))])
            let shown = await untilStanding(c)?["question"]?.string
            try await c.send(json: [("op", .string("suspend"))])
            _ = await c.until("bye")
            sessions.append((id, token, shown))
        }
        // The first session's answer entry loses its integer (as a flipped bit can make it NULL).
        let damaged = try #require(sessions.first)
        let store = try IntakeDatabase.open(path: db)
        try allowNulls(store.writer)
        try await store.writer.write { conn in
            try conn.execute(sql: "UPDATE event SET utcOffset = NULL WHERE sessionId = ? AND seq = 1", arguments: [damaged.id])
        }
        let c = try await LineClient.connect(port: port)
        try await c.send(json: [("op", .string("resume")), ("token", .string(damaged.token))])
        let reply = await c.nextJSON()
        #expect(reply?["type"] == .string("error"))
        #expect(reply?["code"] == .string("damaged"))
        #expect(reply?["message"]?.string?.isEmpty == false)
        // Every other session resumes where it stood, on the same server.
        for s in sessions.dropFirst() {
            let k = try await LineClient.connect(port: port)
            try await k.send(json: [("op", .string("resume")), ("token", .string(s.token))])
            #expect(await k.until("session")?["resumed"] == .bool(true))
            #expect(await untilStanding(k)?["question"]?.string == s.shown)
        }
        kill(server.processIdentifier, SIGTERM)
        #expect(await ServeCommandTests.exitStatus(server) == 0, "the server was still running, and stops cleanly")
        let log = String(decoding: err.fileHandleForReading.readToEndOfFile(), as: UTF8.self)
        #expect(log.contains(damaged.id), "the log names the damaged session")
        #expect(!log.contains("はい") && !log.contains("found_work"), "no answer in the log")
    }
}

/// Lets a test store a NULL where the schema says NOT NULL — as a flipped bit in the file can
/// (the record's type byte), which no constraint sees: the schema text is edited in place.
func allowNulls(_ writer: any DatabaseWriter) throws {
    try writer.writeWithoutTransaction { db in
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        try db.execute(sql: "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE type = 'table' AND name IN ('event', 'session')")
        try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        try db.execute(sql: "PRAGMA writable_schema = OFF")
    }
}
