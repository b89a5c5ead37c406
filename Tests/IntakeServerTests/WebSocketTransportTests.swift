import Foundation
import IntakeRuntime
import IntakeEngine
@testable import IntakeServer
import IntakeStore
import Testing

/// `intake serve --http`: the kiosk page over HTTP and PROTOCOL.md's JSON protocol over a WebSocket,
/// one message per frame, through the same connection logic as the line port.
@Suite(.serialized) struct WebSocketTransportTests {
    /// 愛子's whole intake answered over the WebSocket and over the line port: the two records'
    /// answers and suggestions are the same, and every reply echoes its id.
    @Test func aWholeIntakeOverTheWebSocketStoresWhatTheLinePortStores() async throws {
        let server = try await TestServer.startWithPage()
        var sessions: [String] = []
        for transport in ["websocket", "line"] {
            let c = transport == "websocket" ? try await server.connectWebSocket() : try await server.connect()
            let (session, _, first) = try await startJSON(c, dialog: "intake")
            sessions.append(session)
            var standing = first
            for (i, step) in personaSteps.enumerated() {
                if let q = step.question {
                    #expect(standing?["question"]?.string == q, "\(transport) step \(i)")
                    try await c.send(json: [("op", .string("answer")), ("question", .string(q)), ("text", .string(step.line)), ("id", .int(i))])
                } else {
                    #expect(standing?["type"] == .string("review"), "\(transport)")
                    try await c.send(json: [("op", .string("finish")), ("id", .int(i))])
                }
                standing = await untilStanding(c)
                #expect(standing?["id"] == .int(i), "\(transport) step \(i)")
            }
            #expect(standing?["type"] == .string("done"), "\(transport)")
            #expect(standing?["status"] == .string("complete"), "\(transport)")
            #expect(await c.until("bye")?["reason"] == .string("done"), "\(transport)")
            // After its bye the server closes the socket (with a close frame first).
            #expect(await c.waitClosed(), "\(transport)")
        }
        var records: [JSON] = []
        for s in sessions { records.append(try #require(try await server.store.record(of: s))) }
        try await server.stop()
        #expect(records.count == 2)
        #expect(records[0]["answers"] != nil)
        #expect(records[0]["answers"] == records[1]["answers"])
        #expect(records[0]["suggestions"] == records[1]["suggestions"])
        #expect(records[0]["mode"] == .string("kiosk"))
    }

    /// A WebSocket from another page (another Origin), with no Origin, or on another path is
    /// refused (403), so that a site open in the kiosk's browser cannot drive a session.
    @Test func onlyThePagesOwnOriginMayOpenTheSocket() async throws {
        let server = try await TestServer.startWithPage()
        let port = try #require(server.httpPort)
        for origin in ["http://evil.example", "null", "http://127.0.0.1:\(port + 1)", "https://127.0.0.1:\(port)"] {
            await #expect(throws: LineClient.WebSocketRefused.self, "origin \(origin)") {
                _ = try await LineClient.connectWebSocket(port: port, origin: origin)
            }
        }
        await #expect(throws: LineClient.WebSocketRefused.self) {
            _ = try await LineClient.connectWebSocket(port: port, origin: "http://127.0.0.1:\(port)", path: "/other")
        }
        let refused = try await httpGet(port: port, "/ws", headers: [
            "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Origin: http://evil.example",
        ])
        #expect(refused.status.hasPrefix("HTTP/1.1 403"))
        // The page's own origin works.
        let c = try await server.connectWebSocket()
        let (session, _, _) = try await startJSON(c)
        #expect(session.hasPrefix("s-"))
        try await server.stop()
    }

    /// The HTTP side serves the page's three files and its configuration, nothing else, and every
    /// response says: nothing cached, no inline script (CSP), no framing, no sniffing.
    @Test func thePageIsServedWithItsHeadersAndNothingElseIs() async throws {
        let server = try await TestServer.startWithPage()
        let port = try #require(server.httpPort)
        for (path, type) in [("/", "text/html"), ("/kiosk.css", "text/css"), ("/kiosk.js", "text/javascript"), ("/config.json", "application/json")] {
            let r = try await httpGet(port: port, path)
            #expect(r.status.hasPrefix("HTTP/1.1 200"), "\(path)")
            #expect(r.headers["content-type"]?.hasPrefix(type) == true, "\(path)")
            #expect(r.headers["cache-control"] == "no-store", "\(path)")
            #expect(r.headers["content-security-policy"]?.contains("script-src 'self'") == true, "\(path)")
            #expect(r.headers["content-security-policy"]?.contains("unsafe-inline") == false, "\(path)")
            #expect(r.headers["x-content-type-options"] == "nosniff", "\(path)")
        }
        for path in ["/index.htm", "/../Package.swift", "/Kiosk/index.html", "/%2e%2e/Package.swift", "/config.json/x"] {
            let r = try await httpGet(port: port, path)
            #expect(r.status.hasPrefix("HTTP/1.1 404"), "\(path)")
            #expect(r.headers["cache-control"] == "no-store", "\(path)")
        }
        let post = try await httpGet(port: port, "/", method: "POST", headers: ["Content-Length: 0"])
        #expect(post.status.hasPrefix("HTTP/1.1 405"))
        // The page's times and its own strings come from the server (Locales/).
        let config = try await httpGet(port: port, "/config.json").body.parsedJSON()
        #expect(config["inactivity_seconds"] == .int(120))
        #expect(config["warning_seconds"] == .int(30))
        #expect(config["locales"] == .array(["en", "ja", "ja-easy"].map(JSON.string)))
        try await server.stop()
    }

    /// The socket keeps the line port's rules: a message over the line limit gets `line_too_long`
    /// and the session goes on; a non-JSON message is `malformed_json` (no plain text here); the
    /// idle timeout suspends the session and says so with its token.
    @Test func theSocketKeepsTheLinePortsLimitsAndIdleSuspension() async throws {
        let server = try await TestServer.startWithPage { config in
            config.maxLineBytes = 1024
            // 5 s, not 2: each round trip below must come within it, and under the whole suite's
            // load the test process's threads were held for seconds (RobustnessTests' half line).
            config.idleTimeout = .seconds(5)
        }
        let c = try await server.connectWebSocket()
        try await c.send("ja")
        #expect(await c.nextJSON()?["code"] == .string("malformed_json"))
        let (_, token, first) = try await startJSON(c)
        try await c.send(String(repeating: "あ", count: 2000))
        #expect(await c.nextJSON()?["code"] == .string("line_too_long"))
        try await c.send(json: [("op", .string("repeat"))])
        #expect(await untilStanding(c)?["question"] == first?["question"])
        let bye = await c.until("bye", timeout: .seconds(30))
        #expect(bye?["reason"] == .string("idle"))
        #expect(bye?["token"]?.string == token)
        #expect(await c.waitClosed())
        // …and resumes where it stood, over either transport.
        let d = try await server.connect()
        try await d.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await d.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(d)?["question"] == first?["question"])
        try await server.stop()
    }

    /// A page that goes away mid-session (closed tab, reload, lost network) suspends the session:
    /// everything acknowledged is kept, and its token resumes it on a new socket. A resume on a
    /// second socket takes a live session over from the first, which is told so.
    @Test func aClosedPageSuspendsAndANewPageResumesOrTakesOver() async throws {
        let server = try await TestServer.startWithPage()
        let a = try await server.connectWebSocket()
        let (_, token, _) = try await startJSON(a)
        try await a.send(json: [("op", .string("answer")), ("value", .bool(false))])
        let second = await untilStanding(a)
        await a.close()
        let b = try await server.connectWebSocket()
        try await b.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await b.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(b)?["question"] == second?["question"])
        let c = try await server.connectWebSocket()
        try await c.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await b.until("bye")?["reason"] == .string("resumed_elsewhere"))
        #expect(await c.until("session")?["resumed"] == .bool(true))
        try await server.stop()
    }

    /// やさしい日本語 carries readings over its kanji: by default as 仕事（しごと）, with `furigana`
    /// `annotations` as U+FFF9 base U+FFFA reading U+FFFB (the page's ruby), `reading` as the reading
    /// alone; any other value is refused. The page's own strings come as annotations.
    @Test func furiganaReachesTheClientInTheStyleItAskedFor() async throws {
        let server = try await TestServer.startWithPage()
        var texts: [String: String] = [:]
        for style in ["default", "brackets", "reading", "annotations"] {
            let c = try await server.connectWebSocket()
            var start: [(String, JSON)] = [("op", .string("start")), ("dialog", .string("intake")), ("locale", .string("ja-easy"))]
            if style != "default" { start.append(("furigana", .string(style))) }
            try await c.send(json: start)
            #expect(await c.until("session") != nil)
            let question = try #require(await untilStanding(c))
            texts[style] = question["text"]?.string
            await c.close()
        }
        // The consent question: 「{今日|きょう}の {相談|そうだん}を …」
        #expect(texts["default"]?.contains("今日（きょう）") == true)
        #expect(texts["brackets"] == texts["default"])
        #expect(texts["reading"]?.contains("きょうの") == true)
        #expect(texts["reading"]?.contains("今日") == false)
        #expect(texts["annotations"]?.contains("\u{FFF9}今日\u{FFFA}きょう\u{FFFB}") == true)
        let c = try await server.connectWebSocket()
        try await c.send(json: [("op", .string("start")), ("locale", .string("ja-easy")), ("furigana", .string("ruby"))])
        let refused = await c.nextJSON()
        #expect(refused?["code"] == .string("bad_request"))
        #expect(refused?["message"]?.string?.contains("furigana") == true)
        // The page's words, from /config.json, carry annotations in ja-easy and none elsewhere.
        let config = try await httpGet(port: try #require(server.httpPort), "/config.json").body.parsedJSON()
        if case .object(let easy)? = config["strings"]?["ja-easy"], !easy.isEmpty {
            #expect(easy.contains { if case .string(let t) = $0.1 { t.contains("\u{FFF9}") } else { false } })
            #expect(!easy.contains { if case .string(let t) = $0.1 { t.contains("{") && t.contains("|") } else { false } })
        }
        try await server.stop()
    }

    /// The WebSocket counts against the same connection limits as the line port: past them a
    /// socket gets one `bye` message, in the protocol's shape, and is closed.
    @Test func socketsAndLinesShareTheConnectionLimit() async throws {
        let server = try await TestServer.startWithPage { $0.maxConnections = 1 }
        let line = try await server.connect()
        try await line.send(json: [("op", .string("quit"))])
        _ = await line.until("bye")
        #expect(await line.waitClosed())
        // The line's slot comes back a moment after its client sees the close: until then a new
        // connection is (rightly) refused. Take the one slot once it is free.
        var held: LineClient?
        for _ in 0..<50 where held == nil {
            let c = try await server.connect()
            try await c.send(json: [("op", .string("start")), ("dialog", .string("followup")), ("id", .int(1))])
            if let first = await c.nextJSON(timeout: .seconds(30)), first["type"] == .string("session") {
                held = c
            } else {
                await c.close()
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(held != nil, "the slot came back")
        let socket = try await server.connectWebSocket()
        let started = ContinuousClock.now
        let refused = await socket.nextJSON(timeout: .seconds(90))
        #expect(refused?["type"] == .string("bye"), "after \(ContinuousClock.now - started): registry holds \(server.server.context.registry.count), peak \(server.server.context.registry.peak); got \(String(describing: refused))")
        #expect(refused?["reason"] == .string("max_connections"))
        #expect(await socket.waitClosed())
        withExtendedLifetime(held) {}
        try await server.stop()
    }
}

/// The built binary: `intake serve --http 0` says where the page is, on its own line after the line
/// port's, and serves the page shipped with it (from outside the checkout too).
@Suite struct ServeHTTPCommandTests {
    @Test func serveWithHTTPPrintsThePagesAddressAndServesIt() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("intake-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Dialogs from the checkout, the page from next to the binary: run from elsewhere.
        let p = Process()
        p.executableURL = ServeCommandTests.binary
        p.arguments = ["serve", "--port", "0", "--http", "0", "--db", folder.appendingPathComponent("db.sqlite").path,
                       "--dialogs", packageRoot.appendingPathComponent("Dialogs").path,
                       "--locales", packageRoot.appendingPathComponent("Locales").path]
        p.currentDirectoryURL = folder
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let lines: [String] = await withCheckedContinuation { c in
            Thread {
                var data = Data()
                while data.filter({ $0 == 10 }).count < 2 {
                    let chunk = out.fileHandleForReading.readAvailable()
                    if chunk.isEmpty { break }
                    data += chunk
                }
                c.resume(returning: String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
            }.start()
        }
        defer { p.terminate() }
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("listening on 127.0.0.1:") == true)
        let address = try #require(lines.last)
        #expect(address.hasPrefix("http://127.0.0.1:") && address.hasSuffix("/"))
        let port = try #require(Int(address.dropFirst("http://127.0.0.1:".count).dropLast()))
        let page = try await httpGet(port: port, "/")
        #expect(page.status.hasPrefix("HTTP/1.1 200"))
        #expect(page.body.contains("kiosk.js"))
        p.terminate()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}

extension String {
    func parsedJSON() throws -> JSON {
        try JSONDecoder().decode(JSON.self, from: Data(utf8))
    }
}
