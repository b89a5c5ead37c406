import Foundation
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

    @Test func sigtermSaysByeToEveryClientAndExitsZero() async throws {
        let db = tempDatabase()
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = ["serve", "--port", "0", "--db", db]
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
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    data += chunk
                }
                c.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        let line = first.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.hasPrefix("listening on 127.0.0.1:"))
        let port = try #require(Int(line.split(separator: ":").last ?? ""))

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
        let status: Int32 = await withCheckedContinuation { c in
            Thread {
                p.waitUntilExit()
                c.resume(returning: p.terminationStatus)
            }.start()
        }
        #expect(status == 0)
        // Standard output held only the one line; the logs (on standard error) hold no token.
        let rest = out.fileHandleForReading.readDataToEndOfFile()
        #expect(String(decoding: rest, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        let logs = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(logs.contains("session suspended"))
        #expect(!logs.contains(token))
    }
}
