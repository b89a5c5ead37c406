import Foundation
import IntakeServer
import NIOCore
import Testing

/// What an outside tester found on the HTTP side and the socket (issue 14's review), each now a test:
/// half-asked HTTP requests held forever, DNS rebinding past the Origin check, a socket that never
/// reads, and frames RFC 6455 says a server must refuse.
@Suite(.serialized, .timeLimit(.minutes(2))) struct FrontDoorAttackTests {
    /// A client frame as bytes: masked (as every client's must be) unless `masked` is false.
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode]
        let mask: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126: out.append(mask | UInt8(payload.count))
        case ..<65536: out += [mask | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        default: out += [mask | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
        }
        guard masked else { return out + payload }
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        return out + key + payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    /// A raw connection that has done the WebSocket handshake with the page's own Host and Origin.
    static func upgraded(_ port: Int, host: String? = nil, origin: String? = nil) async throws -> (RawClient, String) {
        let c = try await RawClient.connect(port: port)
        let h = host ?? "127.0.0.1:\(port)"
        let request = "GET /ws HTTP/1.1\r\nHost: \(h)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: \(origin ?? "http://" + h)\r\n\r\n"
        try await c.send(bytes: Array(request.utf8))
        let head = await c.text(until: { $0.contains("\r\n\r\n") }, timeout: .seconds(30)) ?? ""
        return (c, String(head.prefix { $0 != "\r" }))
    }

    /// The close code in the server's close frame, once it came (nil: none within the time).
    static func closeCode(_ c: RawClient, after skip: Int) async -> Int? {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            var b = Array(c.bytes.dropFirst(skip))
            // Server frames are unmasked: walk them to the close frame.
            while b.count >= 2 {
                let opcode = b[0] & 0x0f
                var length = Int(b[1] & 0x7f), at = 2
                if length == 126, b.count >= 4 { length = Int(b[2]) << 8 | Int(b[3]); at = 4 }
                guard b.count >= at + length else { break }
                if opcode == 0x8 { return length >= 2 ? Int(b[at]) << 8 | Int(b[at + 1]) : 1005 }
                b.removeFirst(at + length)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The server's frames after the first `skip` bytes, once `done` holds for them (or the time
    /// is up): opcode and payload of each whole frame (server frames are unmasked).
    static func serverFrames(_ c: RawClient, after skip: Int, until done: ([(opcode: UInt8, payload: [UInt8])]) -> Bool) async -> [(opcode: UInt8, payload: [UInt8])] {
        let deadline = ContinuousClock.now + .seconds(10)
        var frames: [(opcode: UInt8, payload: [UInt8])] = []
        while ContinuousClock.now < deadline {
            var b = Array(c.bytes.dropFirst(skip))
            frames = []
            while b.count >= 2 {
                var length = Int(b[1] & 0x7f), at = 2
                if length == 126, b.count >= 4 { length = Int(b[2]) << 8 | Int(b[3]); at = 4 }
                guard b.count >= at + length else { break }
                frames.append((b[0] & 0x0f, Array(b[at..<(at + length)])))
                b.removeFirst(at + length)
            }
            if done(frames) { return frames }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return frames
    }

    /// Half a request, or none, from one address: at most `--max-connections-per-address` such
    /// connections at once (past it, closed at once), and each closed when the time for a whole
    /// request head has passed — so one address cannot hold every descriptor of the server.
    @Test func halfAskedRequestsAreLimitedPerAddressAndClosedInTime() async throws {
        let server = try await TestServer.startWithPage { config in
            config.maxConnectionsPerAddress = 4
            // Long enough that the four held below cannot expire (and free a slot) before the fifth
            // is refused, even when the test process's event loops are slowed by its other suites.
            config.http?.requestTimeout = .seconds(30)
        }
        let port = try #require(server.httpPort)
        var held: [RawClient] = []
        for _ in 0..<4 {
            let c = try await RawClient.connect(port: port)
            try? await c.send(bytes: Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8))
            held.append(c)
        }
        try await Task.sleep(for: .milliseconds(200))
        let fifth = try await RawClient.connect(port: port)
        // Closed well before any request deadline could have closed it (so by the limit, not the time).
        #expect(await fifth.waitClosed(timeout: .seconds(20)), "a fifth unfinished connection from the address is closed at once")
        for c in held { #expect(await c.waitClosed(timeout: .seconds(45)), "closed when its request head did not come in time") }
        // Their slots come back (the server releases each as it closes, a moment after the client
        // sees the close), and finished requests and the page's socket are not held up.
        var page: (status: String, headers: [String: String], body: String)?
        for _ in 0..<25 where page == nil {
            page = try? await httpGet(port: port, "/")
            if page == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(page?.status.hasPrefix("HTTP/1.1 200") == true)
        let socket = try await server.connectWebSocket()
        #expect(try await startJSON(socket).0.hasPrefix("s-"))
        try await server.stop()
    }

    /// DNS rebinding: a site whose name now points at the kiosk sends its own name as Host and
    /// Origin; the socket is only for this server's own names (and `--http-name`).
    @Test func aRequestForAnotherHostNameIsRefusedEvenWithAMatchingOrigin() async throws {
        let server = try await TestServer.startWithPage { $0.http?.names = ["kiosk-server.office.lan"] }
        let port = try #require(server.httpPort)
        let (rebound, status) = try await Self.upgraded(port, host: "attacker.example:\(port)")
        #expect(status.hasPrefix("HTTP/1.1 403"), "\(status)")
        _ = rebound
        let (_, noPort) = try await Self.upgraded(port, host: "127.0.0.1")
        #expect(noPort.hasPrefix("HTTP/1.1 403"), "\(noPort)")
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "kiosk-server.office.lan:\(port)"] {
            let (_, ok) = try await Self.upgraded(port, host: host)
            #expect(ok.hasPrefix("HTTP/1.1 101"), "\(host): \(ok)")
        }
        // Two Host headers (which one would a proxy believe?): refused.
        let c = try await RawClient.connect(port: port)
        try await c.send(bytes: Array(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nHost: attacker.example\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Origin: http://127.0.0.1:\(port)\r\n\r\n").utf8))
        #expect(await c.text(until: { $0.contains("\r\n\r\n") }, timeout: .seconds(30))?.hasPrefix("HTTP/1.1 403") == true)
        try await server.stop()
    }

    /// A socket that sends and never reads: the server stops reading it, and after the write
    /// timeout the connection is dropped, as on the line port (not held until the idle timeout).
    @Test func aSocketThatNeverReadsIsDroppedAtTheWriteTimeout() async throws {
        let server = try await TestServer.startWithPage { $0.writeTimeout = .seconds(1) }
        let port = try #require(server.httpPort)
        let (c, status) = try await Self.upgraded(port)
        #expect(status.hasPrefix("HTTP/1.1 101"))
        try await c.channel.setOption(ChannelOptions.autoRead, value: false).get()
        // Unknown ops, each answered by an error the client never reads.
        let flood = Array(repeating: Self.frame(0x1, Array(#"{"op":"nosuch"}"#.utf8)), count: 2000).flatMap { $0 }
        let started = ContinuousClock.now
        var dropped = false
        // Writes are not awaited (a server that never closes would hold them forever): the client
        // queues more while its socket takes them, and watches for the connection to end.
        while ContinuousClock.now - started < .seconds(40) {
            if !c.channel.isActive {
                dropped = true
                break
            }
            if c.channel.isWritable { c.channel.writeAndFlush(ByteBuffer(bytes: flood), promise: nil) }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(dropped, "still open after 40 s")
        #expect(ContinuousClock.now - started < .seconds(30), "dropped at the write timeout, not the idle timeout (600 s)")
        try await server.stop()
    }

    /// RFC 6455: an unmasked client frame or a reserved bit is a protocol error (1002); a binary
    /// frame is data the protocol does not take (1003); a fragmented message over 64 KiB is too big
    /// (1009); a close with a code no endpoint may send gets 1002 back.
    @Test func framesTheRFCForbidsCloseTheSocketWithTheRightCode() async throws {
        let server = try await TestServer.startWithPage()
        let port = try #require(server.httpPort)
        let message = Array(#"{"op":"repeat"}"#.utf8)
        let cases: [(String, [UInt8], Int)] = [
            ("unmasked", Self.frame(0x1, message, masked: false), 1002),
            ("rsv1", Self.frame(0x1, message, rsv1: true), 1002),
            ("binary", Self.frame(0x2, message), 1003),
            ("continuation first", Self.frame(0x0, message), 1002),
            ("1 MB in fragments", Self.frame(0x1, Array(repeating: 0x20, count: 16384), fin: false)
                + Array(repeating: Self.frame(0x0, Array(repeating: 0x20, count: 16384), fin: false), count: 63).flatMap { $0 }
                + Self.frame(0x0, Array(repeating: 0x20, count: 16384)), 1009),
            ("close 0", Self.frame(0x8, [0, 0]), 1002),
            ("close 1000", Self.frame(0x8, [0x03, 0xe8]), 1000),
        ]
        for (name, bytes, code) in cases {
            let (c, status) = try await Self.upgraded(port)
            #expect(status.hasPrefix("HTTP/1.1 101"), "\(name)")
            let skip = c.bytes.count
            try? await c.send(bytes: bytes)
            #expect(await Self.closeCode(c, after: skip) == code, "\(name)")
            #expect(await c.waitClosed(timeout: .seconds(30)), "\(name)")
        }
        try await server.stop()
    }

    /// RFC 6455 §5.5.1: a close frame's body, if it has one, starts with a two-byte code. A body of
    /// one byte holds none: a protocol error (1002), as a code no endpoint may send is. The server
    /// took it for a close without a code and echoed an empty close frame.
    @Test func aCloseWhoseBodyIsTooShortForACodeGetsAProtocolError() async throws {
        let server = try await TestServer.startWithPage()
        let port = try #require(server.httpPort)
        let (c, status) = try await Self.upgraded(port)
        #expect(status.hasPrefix("HTTP/1.1 101"))
        let skip = c.bytes.count
        try await c.send(bytes: Self.frame(0x8, [0x03]))
        #expect(await Self.closeCode(c, after: skip) == 1002)
        #expect(await c.waitClosed(timeout: .seconds(30)))
        // A close without a body is still echoed without one (no code: 1005 is what the client sees).
        let (d, status2) = try await Self.upgraded(port)
        #expect(status2.hasPrefix("HTTP/1.1 101"))
        let skip2 = d.bytes.count
        try await d.send(bytes: Self.frame(0x8, []))
        #expect(await Self.closeCode(d, after: skip2) == 1005)
        #expect(await d.waitClosed(timeout: .seconds(30)))
        try await server.stop()
    }

    /// A message may come in fragments, a ping between them (RFC 6455 §5.4; PROTOCOL.md: "they are
    /// joined"): it is answered as one message, the ping gets its pong, and the socket goes on. The
    /// mask was once checked after the aggregator, which hands on a joined message unmasked, so
    /// every fragmented message closed the socket with 1002.
    @Test func aMessageInFragmentsIsJoinedAndAnswered() async throws {
        let server = try await TestServer.startWithPage()
        let port = try #require(server.httpPort)
        let message = Array(#"{"op":"repeat","id":"joined"}"#.utf8)
        let (c, status) = try await Self.upgraded(port)
        #expect(status.hasPrefix("HTTP/1.1 101"))
        let skip = c.bytes.count
        try await c.send(bytes: Self.frame(0x1, Array(message[..<5]), fin: false)
            + Self.frame(0x9, Array("ping".utf8))
            + Self.frame(0x0, Array(message[5..<12]), fin: false)
            + Self.frame(0x0, Array(message[12...])))
        let texts = { (frames: [(opcode: UInt8, payload: [UInt8])]) in
            frames.filter { $0.opcode == 0x1 }.map { String(decoding: $0.payload, as: UTF8.self) }
        }
        var frames = await Self.serverFrames(c, after: skip) { frames in frames.contains { $0.opcode == 0x1 || $0.opcode == 0x8 } }
        #expect(frames.contains { $0.opcode == 0xA && $0.payload == Array("ping".utf8) }, "the ping's pong")
        #expect(!frames.contains { $0.opcode == 0x8 }, "no close frame")
        let joined = try #require(texts(frames).first)
        #expect(joined.contains(#""id":"joined""#) && joined.contains(#""code":"no_session""#), "\(joined)")
        // The socket goes on: the next message, whole, is answered too.
        try await c.send(bytes: Self.frame(0x1, Array(#"{"op":"repeat","id":"after"}"#.utf8)))
        frames = await Self.serverFrames(c, after: skip) { frames in texts(frames).count >= 2 || frames.contains { $0.opcode == 0x8 } }
        #expect(texts(frames).count == 2 && texts(frames).last?.contains(#""id":"after""#) == true, "\(texts(frames))")
        #expect(!c.isClosed)
        try await server.stop()
    }
}
