import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeServer
import IntakeStore
import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The `session` fuzz target: the input is what one kiosk connection sends, byte for byte, to a live
/// kiosk server (this package's dialogs, a database in the temporary folder, started once per
/// process on 127.0.0.1 with port 0). The connection half-closes after the input and reads every reply
/// until the server closes it. Beyond "no crash", what comes back must be lines of valid UTF-8,
/// and in JSON-lines mode each one a JSON object with a `type` — whatever was sent.
enum SessionTarget {
    struct Live: Sendable {
        let port: UInt16
        let server: KioskServer
    }

    static let live: Live? = {
        let dialogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Dialogs").path
        let project = Project.load(paths: [dialogs])
        guard project.diagnostics.allSatisfy({ $0.severity != .error }),
              let store = try? IntakeDatabase.open(path: NSTemporaryDirectory() + "intake-fuzz-session-\(getpid()).sqlite")
        else { return nil }
        var config = ServerConfiguration()
        config.port = 0
        config.dialog = "followup"
        // Short enough that an input which idles is not a libFuzzer timeout.
        config.idleTimeout = .seconds(3)
        config.writeTimeout = .seconds(3)
        config.maxWrongTokensPerAddress = .max
        let logger = Logger(label: "intake.fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        guard let server = try? KioskServer(project: project, store: store.store, configuration: config, logger: logger) else { return nil }
        let ready = DispatchSemaphore(value: 0)
        let port = PortBox()
        // On an event loop, not Swift's cooperative pool (its connection tasks too, by inheritance):
        // under `swift test` other tests may hold every thread of the pool, and this thread waits.
        let loop = EventLoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next())
        Task(executorPreference: loop) {
            try? await server.run { address in
                port.value = UInt16(address.port ?? 0)
                ready.signal()
            }
        }
        guard ready.wait(timeout: .now() + 120) == .success, port.value != 0 else { return nil }
        return Live(port: port.value, server: server)
    }()

    /// Whether the server is up (`swift test` checks it: without it the target tests nothing).
    static var started: Bool { live != nil }

    static func run(_ data: Data) {
        guard let live else {
            FileHandle.standardError.write(Data("the session fuzz target's server did not start\n".utf8))
            return
        }
        guard let reply = exchange(data, port: live.port) else { return }
        let lines = reply.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let json = speaksJSON(data)
        for line in lines.dropLast() {   // the last is what follows the final LF: empty
            guard let text = String(validating: line, as: UTF8.self) else {
                preconditionFailure("the server sent a line that is not UTF-8")
            }
            if json {
                guard let message = try? JSON(parsing: text), case .string? = message["type"] else {
                    preconditionFailure("the server sent a JSON-lines reply that is not a message: \(text.prefix(200))")
                }
            }
        }
        // Every line ends with a LF — except, in plain text, the prompt that ends a reply after which
        // she types (PROTOCOL.md: `> ` with no newline), when the connection ends there (she left).
        let last = lines.last.map { String(decoding: $0, as: UTF8.self) } ?? ""
        precondition(last.isEmpty || (!json && promptTexts.contains(last)),
                     "the server's last line has no LF and is not the prompt: \(last.prefix(200))")
    }

    /// The plain-text prompt in each language (Locales/*/plain.yaml, `plain.prompt`).
    static let promptTexts: Set<String> = {
        let dialogs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Dialogs").path
        let catalog = Project.load(paths: [dialogs]).catalog
        return Set(catalog.locales.map { catalog.text("plain.prompt", $0) })
    }()

    /// Whether the server takes the connection for JSON lines, by its rule: the first line (valid
    /// UTF-8, within the length limit) starts with `{` after spaces and tabs. A first line the server
    /// refuses (too long, not UTF-8) leaves it undecided: not checked then.
    static func speaksJSON(_ data: Data) -> Bool {
        guard let end = data.firstIndex(of: UInt8(ascii: "\n")) else { return false }
        var first = data[data.startIndex..<end]
        if first.last == UInt8(ascii: "\r") { first = first.dropLast() }
        guard first.count < 8000, String(validating: first, as: UTF8.self) != nil else { return false }
        return first.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) == UInt8(ascii: "{")
    }

    /// Sends `data`, half-closes, and reads until the server closes (nil: no connection).
    static func exchange(_ data: Data, port: UInt16) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var timeout = timeval(tv_sec: 8, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let sent = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return true }
                let n = send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        shutdown(fd, Int32(SHUT_WR))
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            reply += buffer[0..<n]
        }
        // A send cut short (the server closed first, e.g. after a line too long) still has its replies checked.
        _ = sent
        return reply
    }
}

/// The bound port, written once by the server task before the semaphore is signalled.
private final class PortBox: @unchecked Sendable {
    var value: UInt16 = 0
}
