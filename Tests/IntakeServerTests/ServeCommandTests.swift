import Foundation
import IntakeRuntime
import Testing

/// The built `intake serve` as a child process: it says where it listens, and on SIGTERM it
/// tells every connected client `bye` (sessions suspended) and exits 0.
@Suite struct ServeCommandTests {
    static var binary: URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug")] {
            let url = candidate.appendingPathComponent("intake")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/intake")
    }

    /// `intake serve --port 0 --db DB` as a child (with `environment` added: a login's
    /// PGPASSWORD); returns it, its port and its pipes.
    /// INTAKE_BINARY: measure another build (e.g. .build/release/intake) with the same tests.
    /// `listening`: how the line names the address it listens on.
    static func serve(db: String, _ extra: [String] = [], environment: [String: String] = [:],
                      listening: String = "127.0.0.1") async throws -> (Process, Int, Pipe, Pipe) {
        let p = Process()
        p.executableURL = ProcessInfo.processInfo.environment["INTAKE_BINARY"].map { URL(fileURLWithPath: $0) } ?? Self.binary
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        // No greeting: these clients speak first, but on a loaded machine one may take longer than
        // 1.5 s to (PlainTextFrontDoorTests is about the greeting).
        p.arguments = ["serve", "--port", "0", "--db", db, "--greet-after", "0"] + extra
        p.currentDirectoryURL = packageRoot
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // The first line of standard output, read off the cooperative pool.
        let first: String = await withCheckedContinuation { c in
            Thread {
                var data = Data()
                while !data.contains(10) {
                    let chunk = out.fileHandleForReading.readAvailable()
                    if chunk.isEmpty { break }
                    data += chunk
                }
                c.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        let line = first.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.hasPrefix("listening on \(listening):"))
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        return (p, port, out, err)
    }

    static func exitStatus(_ p: Process) async -> Int32 {
        await withCheckedContinuation { c in
            Thread {
                p.waitUntilExit()
                c.resume(returning: p.terminationStatus)
            }.start()
        }
    }

    @Test func sigtermSaysByeToEveryClientAndExitsZero() async throws {
        let db = tempDatabase()
        let (p, port, out, err) = try await Self.serve(db: db)

        let json = try await LineClient.connect(port: port)
        let (_, token, _) = try await startJSON(json)
        let plain = try await LineClient.connect(port: port)
        try await plain.send("ja")
        let opening = try #require(await plain.lines(until: "問回答"))
        #expect(opening.first?.contains("受付を始めます") == true)

        kill(p.processIdentifier, SIGTERM)
        let bye = await json.until("bye")
        #expect(bye?["reason"] == .string("shutdown"))
        #expect(bye?["token"]?.string == token)
        #expect(await plain.lines(until: "受付をいったん停止します") != nil)
        #expect(await json.waitClosed())
        #expect(await plain.waitClosed())
        #expect(await Self.exitStatus(p) == 0)
        // Standard output held only the one line; the logs (on standard error) hold no token.
        let rest = out.fileHandleForReading.readToEndOfFile()
        #expect(String(decoding: rest, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        let logs = String(decoding: err.fileHandleForReading.readToEndOfFile(), as: UTF8.self)
        #expect(logs.contains("session suspended"))
        #expect(!logs.contains(token))
    }

    /// An IPv6 address is printed in brackets, as a URL writes it, so the port is what follows
    /// the last colon and the host what the brackets hold.
    @Test func anIPv6AddressIsPrintedInBrackets() async throws {
        let (p, port, _, _) = try await Self.serve(db: tempDatabase(), ["--host", "::1"], listening: "[::1]")
        #expect(port > 0)
        kill(p.processIdentifier, SIGTERM)
        #expect(await Self.exitStatus(p) == 0)
    }

    /// A server killed outright (no suspend, no bye) loses no acknowledged answer: started again on
    /// the same file, the token brings the session back at the question shown last.
    @Test func aSessionComesBackAfterTheServerIsKilled() async throws {
        let db = tempDatabase()
        let (first, port, _, _) = try await Self.serve(db: db)
        let c = try await LineClient.connect(port: port)
        let (_, token, q1) = try await startJSON(c)
        #expect(q1?["question"] == .string("found_work"))
        try await c.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("はい"))])
        let q2 = await untilStanding(c)
        let shown = try #require(q2?["question"]?.string)
        #expect(shown != "found_work")
        kill(first.processIdentifier, SIGKILL)
        #expect(await Self.exitStatus(first) != 0)
        #expect(await c.waitClosed())

        let (second, port2, _, _) = try await Self.serve(db: db)
        let d = try await LineClient.connect(port: port2)
        try await d.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await d.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(d)?["question"]?.string == shown)
        kill(second.processIdentifier, SIGTERM)
        #expect(await Self.exitStatus(second) == 0)
    }
}
