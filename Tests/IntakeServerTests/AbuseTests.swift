import Foundation
import IntakeRuntime
import Glibc
import IntakeEngine
import IntakeServer
import NIOCore
import Testing

/// Abuse of the kiosk port, against the built `intake serve` so that the server's own memory can be
/// read afterwards (/proc/PID/status): floods past the connection limit, a client typing one byte at
/// a time, a client that never reads, guessed tokens, oversized and deeply nested JSON.
@Suite(.serialized) struct AbuseTests {
    /// The server as a child process, and its resident memory.
    final class Served {
        let process = Process()
        let port: Int
        /// The kiosk page's port, when started with `--http`.
        var httpPort: Int?
        let errors = Pipe()

        init(_ extra: [String] = []) throws {
            process.executableURL = ServeCommandTests.binary
            process.arguments = ["serve", "--port", "0", "--db", tempDatabase(), "--dialog", "followup"] + extra
            process.currentDirectoryURL = packageRoot
            let out = Pipe()
            process.standardOutput = out
            process.standardError = errors
            try process.run()
            // `listening on HOST:PORT`, and with `--http` a second line, `http://HOST:PORT/`.
            let lines = extra.contains("--http") ? 2 : 1
            var data = Data()
            while data.count(where: { $0 == 10 }) < lines {
                let chunk = out.fileHandleForReading.readAvailable()
                if chunk.isEmpty { break }
                data += chunk
            }
            let printed = String(decoding: data, as: UTF8.self).split(separator: "\n")
            guard let p = Int(printed.first?.split(separator: ":").last ?? "") else { throw POSIXError(.ECONNREFUSED) }
            port = p
            if lines == 2 {
                guard printed.count > 1, let h = Int(printed[1].split(separator: ":").last?.filter(\.isNumber) ?? "") else {
                    throw POSIXError(.ECONNREFUSED)
                }
                httpPort = h
            }
        }

        /// Resident memory in KiB (VmRSS).
        var residentKiB: Int {
            let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }

        /// Stops it (SIGTERM) and returns its log (standard error).
        func stop() -> String {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            return String(decoding: errors.fileHandleForReading.readToEndOfFile(), as: UTF8.self)
        }

        /// Starts a session and answers its first question: the server still serves.
        func stillServes() -> Bool {
            guard let c = Socket(port: port), c.send("{\"op\":\"start\"}") else { return false }
            guard c.line(containing: "\"type\":\"question\"") != nil, c.send("{\"op\":\"answer\",\"value\":false}") else { return false }
            return c.line(containing: "\"question\":\"changes\"") != nil
        }
    }

    /// A blocking client socket with a receive timeout. `@unchecked Sendable`: one thread may send
    /// while another reads (the read buffer is only touched by the reader).
    final class Socket: @unchecked Sendable {
        let fd: Int32
        private var buffer: [UInt8] = []

        /// `receiveBuffer`: a small window, set before connecting (a client that reads slowly).
        init?(port: Int, receiveTimeout: Int = 30, receiveBuffer: Int32? = nil) {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            // Closed by `deinit`, which runs for a nil returned once every property is set.
            if rc != 0 { return nil }
        }

        deinit { close(fd) }

        @discardableResult
        func send(_ text: String, newline: Bool = true) -> Bool { send(bytes: Array((newline ? text + "\n" : text).utf8)) }

        @discardableResult
        func send(bytes: [UInt8]) -> Bool {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                sent += n
            }
            return true
        }

        /// The next line, or nil when the connection closed or nothing came in time.
        func line() -> String? {
            while true {
                if let lf = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[..<lf], as: UTF8.self)
                    buffer.removeSubrange(...lf)
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let n = recv(fd, &chunk, chunk.count, 0)
                if n <= 0 { return nil }
                buffer += chunk[0..<n]
            }
        }

        func line(containing text: String) -> String? {
            while let l = line() { if l.contains(text) { return l } }
            return nil
        }

        /// Whether the server closed the connection (read returns 0) within the timeout.
        var closedByServer: Bool {
            while true {
                var chunk = [UInt8](repeating: 0, count: 65_536)
                let n = recv(fd, &chunk, chunk.count, 0)
                if n == 0 { return true }
                if n < 0 { return false }
            }
        }
    }

    /// How much the server's resident memory may grow in one of these tests. Under AddressSanitizer
    /// (`scripts/sanitizers address` sets ASAN_OPTIONS) freed memory is held in quarantine, 256 MB by
    /// default, before it is reused: the bound is that much looser there.
    static let memoryAllowanceKiB = 64 * 1024
        + (ProcessInfo.processInfo.environment["ASAN_OPTIONS"] != nil ? 256 * 1024 : 0)

    @Test func aFloodPastTheConnectionLimitIsRefusedAndMemoryStaysBounded() throws {
        let server = try Served(["--max-connections", "50"])
        let before = server.residentKiB
        var held: [Socket] = []
        for _ in 0..<50 { if let s = Socket(port: server.port) { held.append(s) } }
        #expect(held.count == 50)
        // Past the limit: one polite line, then the server closes.
        var refused = 0
        for _ in 0..<300 {
            guard let s = Socket(port: server.port) else { continue }
            if let l = s.line(), l.contains("混み合って") || l.lowercased().contains("busy") || l.lowercased().contains("too many"), s.closedByServer {
                refused += 1
            }
        }
        #expect(refused == 300)
        held.removeAll()
        usleep(300_000)
        #expect(server.stillServes())
        #expect(server.residentKiB - before < Self.memoryAllowanceKiB, "before \(before) KiB, after \(server.residentKiB) KiB")
        _ = server.stop()
    }

    @Test func aClientTypingOneByteAtATimeHoldsUpNobody() throws {
        let server = try Served()
        let slow = try #require(Socket(port: server.port))
        let typing = Thread {
            for b in Array("{\"op\":\"start\",\"locale\":\"ja\"}\n".utf8) {
                slow.send(bytes: [b])
                usleep(250_000)
            }
        }
        typing.start()
        // Meanwhile (the typist takes ~8 s) another client is served, several times over.
        for _ in 0..<5 { #expect(server.stillServes()) }
        #expect(!typing.isFinished, "others were served while the slow typist was still typing")
        #expect(slow.line(containing: "\"type\":\"session\"") != nil, "the slow client is served when its line is complete")
        _ = server.stop()
    }

    @Test func aClientThatNeverReadsIsNotBufferedWithoutBound() throws {
        let server = try Served()
        let before = server.residentKiB
        let greedy = try #require(Socket(port: server.port))
        greedy.send("{\"op\":\"start\"}")
        // 20,000 requests (each answered with the question again), never reading a reply: ~10 MB of
        // replies the server must not pile up in memory. The sender stops when the server stops reading.
        let request = Array(String(repeating: "{\"op\":\"repeat\"}\n", count: 100).utf8)
        var flags = fcntl(greedy.fd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(greedy.fd, F_SETFL, flags)
        var sentBatches = 0
        let deadline = Date().addingTimeInterval(5)
        while sentBatches < 200, Date() < deadline {
            let n = request.withUnsafeBytes { Glibc.send(greedy.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sentBatches += 1 } else { usleep(10_000) }
        }
        usleep(500_000)
        let after = server.residentKiB
        #expect(after - before < Self.memoryAllowanceKiB, "before \(before) KiB, after \(after) KiB, \(sentBatches) batches sent")
        #expect(server.stillServes())
        _ = server.stop()
    }

    /// A socket that sends pings and never reads the pongs: the pongs must not pile up in the
    /// server's memory until the write timeout. (They did: a ping is answered in the pipeline, not
    /// by the connection's task, so the backpressure that stops a line client did not stop it, and
    /// one socket grew the server by ~3 bytes for every byte of pings, 285 MB in 30 s.)
    @Test func aSocketFloodingPingsWithoutReadingIsNotBufferedWithoutBound() throws {
        let server = try Served(["--http", "0"])
        let port = try #require(server.httpPort)
        let before = server.residentKiB
        let c = try #require(Socket(port: port, receiveBuffer: 4096))
        c.send("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:\(port)\r\n", newline: false)
        c.send("\r\n", newline: false)
        #expect(c.line()?.hasPrefix("HTTP/1.1 101") == true)
        // Pings of 125 bytes (the most a control frame holds), sent as fast as the server takes
        // them for up to 20 s (under the 30 s write timeout), never reading a pong.
        let batch = Array(Array(repeating: FrontDoorAttackTests.frame(0x9, Array(repeating: 0x70, count: 125)), count: 400).joined())
        var flags = fcntl(c.fd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(c.fd, F_SETFL, flags)
        var sent = 0
        let deadline = Date().addingTimeInterval(20)
        // A partial send leaves a frame cut: the rest of the batch goes first, so frames stay whole.
        var offset = 0
        while sent < 48_000_000, Date() < deadline {
            let n = batch[offset...].withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
                offset = (offset + n) % batch.count
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                usleep(1_000)
            } else {
                break
            }
        }
        #expect(sent > 8_000_000, "the server took the pings (\(sent) bytes) until the time was up")
        let after = server.residentKiB
        #expect(after - before < Self.memoryAllowanceKiB, "before \(before) KiB, after \(after) KiB, \(sent / 1_000_000) MB of pings sent")
        #expect(server.stillServes())
        _ = server.stop()
    }

    @Test func guessedTokensAreRefusedRateLimitedAndLoggedWithoutTheToken() throws {
        let server = try Served()
        var closed = 0
        let guess = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZ"
        for _ in 0..<10 {
            guard let s = Socket(port: server.port) else { continue }
            for _ in 0..<5 { s.send("{\"op\":\"resume\",\"token\":\"\(guess)\"}") }
            if s.line(containing: "too_many_attempts") != nil, s.closedByServer { closed += 1 }
        }
        #expect(closed == 10)
        #expect(server.stillServes())
        let log = server.stop()
        #expect(log.contains("resume") || log.contains("token"), "the guesses are logged")
        #expect(!log.contains(guess))
    }

    @Test func oversizedAndDeeplyNestedJSONAreRefusedAndTheConnectionGoesOn() throws {
        let server = try Served()
        let before = server.residentKiB
        let c = try #require(Socket(port: server.port))
        c.send("{\"op\":\"start\"}")
        #expect(c.line(containing: "\"type\":\"question\"") != nil)
        // Nested 4,000 deep (8,000 bytes, under the line limit).
        c.send(String(repeating: "[", count: 4000) + String(repeating: "]", count: 4000))
        #expect(c.line(containing: "\"type\":\"error\"")?.contains("malformed_json") == true)
        c.send("{\"op\":\"answer\",\"value\":" + String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000) + "}")
        #expect(c.line(containing: "\"type\":\"error\"") != nil)
        // 1 MB on one line.
        c.send("{\"op\":\"answer\",\"text\":\"" + String(repeating: "あ", count: 350_000) + "\"}")
        #expect(c.line(containing: "\"type\":\"error\"")?.contains("line_too_long") == true)
        // And the session goes on.
        c.send("{\"op\":\"answer\",\"value\":false}")
        #expect(c.line(containing: "\"question\":\"changes\"") != nil)
        #expect(server.residentKiB - before < Self.memoryAllowanceKiB)
        _ = server.stop()
    }
}

/// A client that stops reading is dropped after the write timeout (`--write-timeout 2` here).
@Suite struct WriteTimeoutTests {
    /// Against the real `intake serve`, in a process of its own: a server inside the test process
    /// shares its two cooperative threads with every other test, and when they are busy it cannot
    /// write fast enough to fill its buffers within the client's deadline (CI saw that once).
    @Test func aClientThatNeverReadsIsDisconnectedAfterTheWriteTimeout() async throws {
        // The idle timeout far away, so that only the write timeout can close the connection.
        let server = try AbuseTests.Served(["--write-timeout", "2", "--idle-timeout", "3600"])
        let port = server.port
        // The client blocks on its socket: on a thread of its own, so that it never holds one of
        // the cooperative threads other tests' servers need.
        let dropped: Bool = await withCheckedContinuation { done in
            Thread { done.resume(returning: Self.neverReads(port: port)) }.start()
        }
        #expect(dropped, "the server closed a connection that never read")
        #expect(server.stillServes())
        _ = server.stop()
    }

    /// Asks for reviews without ever reading; true once the server hangs up.
    static func neverReads(port: Int) -> Bool {
        guard let c = AbuseTests.Socket(port: port, receiveTimeout: 20, receiveBuffer: 2048) else { return false }
        c.send("{\"op\":\"start\",\"dialog\":\"intake\"}")
        // A whole intake answered first (replies unread), so that each review below is a reply
        // of several kilobytes: the server's send buffers fill within seconds however busy the
        // machine is (with empty reviews it took tens of thousands of requests).
        for step in personaSteps where step.question != nil {
            let line = JSON.object([("op", .string("answer")), ("text", .string(step.line))]).rendered()
            c.send(line)
        }
        let request = Array(String(repeating: "{\"op\":\"review\"}\n", count: 500).utf8)
        // Generous: on a loaded machine the server may take long to fill its buffers.
        let deadline = Date().addingTimeInterval(180)
        var flags = fcntl(c.fd, F_GETFL)
        flags |= O_NONBLOCK
        _ = fcntl(c.fd, F_SETFL, flags)
        // Keep asking without reading until the server hangs up (send fails) or time runs out.
        while Date() < deadline {
            let n = request.withUnsafeBytes { Glibc.send(c.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return true }
            if n < 0 { usleep(20_000) }
        }
        return false
    }
}
