import Foundation
import IntakeDialogs
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import IntakeServer
import IntakeStore
import IntakeTerminal
import IntakeTesting
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let project = Project.load(paths: [packageRoot.appendingPathComponent("Dialogs").path],
                           localesDirectory: packageRoot.appendingPathComponent("Locales").path)

func tempDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("intake-serve-\(UUID().uuidString).sqlite").path
}

/// `INTAKE_TEST_SERVER_STORE=postgres` (with INTAKE_TEST_POSTGRES): the in-process servers of the
/// protocol tests run on a fresh PostgreSQL database instead of a SQLite file (`.ci/run` runs the
/// server suites a second time so), and every test inspects what was stored through `store`.
let serverStoreIsPostgres = ProcessInfo.processInfo.environment["INTAKE_TEST_SERVER_STORE"] == "postgres"

/// The first conversation of Dialogs/tests/personas-1.yaml (愛子, a whole intake at a kiosk):
/// (question expected, line typed), the last one `:finish` at the review.
let personaSteps: [(question: String?, line: String)] = {
    let (conversations, _) = ConversationParser.parse(file: packageRoot.appendingPathComponent("Dialogs/tests/personas-1.yaml").path)
    guard let first = conversations.first else { return [] }
    return first.steps.compactMap { step in
        switch step {
        case .answer(let q, .event(.answer(let text)), _): return (q, text)
        case .command(.event(.finish), _): return (nil, ":finish")
        default: return nil
        }
    }
}()

/// A kiosk server on 127.0.0.1, port 0, in this process.
final class TestServer: Sendable {
    let server: KioskServer
    let port: Int
    /// Where it stores: a SQLite file's path, or a PostgreSQL database's URL.
    let database: String
    /// What it stores in, behind the protocol (for a test to look at what was stored).
    let store: any Store
    private let task: Task<Void, any Error>

    /// A server on a new database (a SQLite file; PostgreSQL under INTAKE_TEST_SERVER_STORE=postgres),
    /// or on `database` again (a restart).
    static func start(database: String? = nil, _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        if database?.hasPrefix("postgres") == true || (database == nil && serverStoreIsPostgres) {
            let url: String
            if let database { url = database } else {
                guard let admin = ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES"] else {
                    throw PostgresMissing()
                }
                url = try await PostgresScratch.create(admin: admin).url
            }
            return try await start(database: url, store: try await PostgresStore.open(url: url, maximumConnections: 6), configure)
        }
        return try await start(database: database ?? tempDatabase(), store: nil, configure)
    }

    struct PostgresMissing: Error, CustomStringConvertible {
        var description: String { "INTAKE_TEST_SERVER_STORE=postgres needs INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)" }
    }

    /// A server on `store` (any store: another instance's database, PostgreSQL) instead of a SQLite file.
    static func start(store: any Store, _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        try await start(database: "", store: store, configure)
    }

    private static func start(database: String, store given: (any Store)?, _ configure: (inout ServerConfiguration) -> Void) async throws -> TestServer {
        let store = try given ?? IntakeDatabase.open(path: database).store
        var config = ServerConfiguration()
        config.port = 0
        config.dialog = "intake"
        // Off unless a test is about it: on a loaded machine a test client may take longer than
        // 1.5 s to send its first line, and would then (rightly) be greeted first.
        config.greetAfter = nil
        configure(&config)
        let logger = Logger(label: "intake.serve.test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = try KioskServer(project: project, store: store, configuration: config, logger: logger)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let (httpStream, httpContinuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            try await server.run(onListening: { address in
                continuation.yield(address.port ?? 0)
                continuation.finish()
            }, onHTTPListening: { address in
                httpContinuation.yield(address.port ?? 0)
                httpContinuation.finish()
            })
        }
        var port = 0
        for await p in stream { port = p }
        var httpPort: Int?
        if config.http != nil {
            for await p in httpStream { httpPort = p }
        }
        return TestServer(server: server, port: port, httpPort: httpPort, database: database, store: store, task: task)
    }

    /// A server with the page and the WebSocket too (`intake serve --http 0`).
    static func startWithPage(database: String? = nil, _ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestServer {
        let page = try KioskPage(directory: packageRoot.appendingPathComponent("Sources/IntakeServer/Kiosk"),
                                 catalog: project.catalog, settings: KioskPage.Settings())
        return try await start(database: database) { config in
            var http = HTTPConfiguration(page: page)
            http.port = 0
            config.http = http
            configure(&config)
        }
    }

    let httpPort: Int?

    private init(server: KioskServer, port: Int, httpPort: Int?, database: String, store: any Store, task: Task<Void, any Error>) {
        self.server = server
        self.store = store
        self.port = port
        self.httpPort = httpPort
        self.database = database
        self.task = task
    }

    /// A client on the page's WebSocket, speaking as the page does (Origin: the page's own).
    func connectWebSocket(origin: String? = nil) async throws -> LineClient {
        let port = try #require(httpPort)
        return try await LineClient.connectWebSocket(port: port, origin: origin ?? "http://127.0.0.1:\(port)")
    }

    /// Graceful stop (as on SIGTERM); returns when the server has finished.
    func stop() async throws {
        server.shutdown()
        try await task.value
        if let postgres = store as? PostgresStore { await postgres.close() }
    }

    func connect() async throws -> LineClient {
        try await LineClient.connect(port: port)
    }
}

/// A test client: sends lines (or raw bytes), reads the server's lines with a timeout.
final class LineClient: Sendable {
    enum Read: Equatable {
        case line(String)
        case closed
        case timeout
    }

    let channel: any Channel
    let buffer: LineBuffer

    /// `from`: the local address to connect from (another 127.x.y.z is another client address).
    static func connect(port: Int, from local: String? = nil) async throws -> LineClient {
        let (stream, continuation) = AsyncStream<String?>.makeStream()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let local { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: local, port: 0)) }
        let channel = try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(ByteToMessageHandler(LineDecoderForTests()),
                                                                    LinesToStream(continuation))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return reading(stream, on: channel)
    }

    /// A client on `channel` whose lines arrive through `stream`, read by one task, in order.
    private static func reading(_ stream: AsyncStream<String?>, on channel: any Channel) -> LineClient {
        let buffer = LineBuffer()
        Task {
            for await line in stream {
                if let line { await buffer.push(line) }
            }
            await buffer.close()
        }
        return LineClient(channel: channel, buffer: buffer)
    }

    private init(channel: any Channel, buffer: LineBuffer) {
        self.channel = channel
        self.buffer = buffer
    }

    enum WebSocketRefused: Error { case notUpgraded }

    /// The same client over a WebSocket (`/ws` on the HTTP port): each line sent is one masked text
    /// frame, each text frame received one line. Throws `notUpgraded` when the server refuses.
    /// The handshake and the frames are read by one decoder, so what the server sends right behind
    /// its 101 (a refusal's `bye`, then its close) is read in order, whatever the reads' sizes.
    static func connectWebSocket(port: Int, origin: String, path: String = "/ws") async throws -> LineClient {
        let (stream, continuation) = AsyncStream<String?>.makeStream()
        let group = MultiThreadedEventLoopGroup.singleton
        let handshake = group.any().makePromise(of: Bool.self)
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nOrigin: \(origin)\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: \(Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n"
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(WebSocketTestDecoder()),
                            WebSocketTestFraming(continuation, handshake: handshake, request: request))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        } catch {
            handshake.fail(error)
            throw error
        }
        guard try await handshake.futureResult.get() else {
            try? await channel.close()
            throw WebSocketRefused.notUpgraded
        }
        return reading(stream, on: channel)
    }

    func send(_ line: String) async throws {
        try await send(bytes: Array((line + "\n").utf8))
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func send(json: [(String, JSON)]) async throws {
        try await send(JSON.object(json).rendered())
    }

    func next(timeout: Duration = .seconds(30)) async -> Read {
        await buffer.next(timeout: timeout)
    }

    /// The next line as JSON (nil: closed, timed out or not JSON).
    func nextJSON(timeout: Duration = .seconds(30)) async -> JSON? {
        guard case .line(let l) = await next(timeout: timeout) else { return nil }
        return try? JSONDecoder().decode(JSON.self, from: Data(l.utf8))
    }

    /// Reads JSON lines until one of `type` (returning it), skipping others.
    func until(_ type: String, timeout: Duration = .seconds(30)) async -> JSON? {
        while let m = await nextJSON(timeout: timeout) {
            if m["type"] == .string(type) { return m }
        }
        return nil
    }

    /// Reads plain lines until one that contains `text`; returns every line read.
    func lines(until text: String, timeout: Duration = .seconds(30)) async -> [String]? {
        var seen: [String] = []
        while case .line(let l) = await next(timeout: timeout) {
            seen.append(l)
            if l.contains(text) { return seen }
        }
        return nil
    }

    /// Waits for the server to close the connection (skipping lines).
    func waitClosed(timeout: Duration = .seconds(30)) async -> Bool {
        while true {
            switch await next(timeout: timeout) {
            case .closed: return true
            case .timeout: return false
            case .line: continue
            }
        }
    }

    func close() async {
        try? await channel.close()
    }
}

actor LineBuffer {
    private var lines: [String] = []
    private var closed = false
    private var waiter: (id: Int, continuation: CheckedContinuation<LineClient.Read, Never>)?
    private var nextID = 0

    func push(_ line: String) {
        if let w = waiter {
            waiter = nil
            w.continuation.resume(returning: .line(line))
        } else {
            lines.append(line)
        }
    }

    func close() {
        closed = true
        if let w = waiter {
            waiter = nil
            w.continuation.resume(returning: .closed)
        }
    }

    func next(timeout: Duration) async -> LineClient.Read {
        if !lines.isEmpty { return .line(lines.removeFirst()) }
        if closed { return .closed }
        nextID += 1
        let id = nextID
        return await withCheckedContinuation { c in
            waiter = (id, c)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        if let w = waiter, w.id == id {
            waiter = nil
            w.continuation.resume(returning: .timeout)
        }
    }
}

/// LF-split lines for the test client (a plain splitter: the client trusts the server).
struct LineDecoderForTests: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(buffer: inout ByteBuffer) throws -> String? {
        guard let lf = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let length = lf - buffer.readerIndex
        let line = buffer.readString(length: length)
        buffer.moveReaderIndex(forwardBy: 1)
        return line
    }

    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> String? {
        if let line = try decode(buffer: &buffer) { return line }
        guard buffer.readableBytes > 0 else { return nil }
        return buffer.readString(length: buffer.readableBytes)
    }
}

/// Hands each line to an AsyncStream (on the event loop, so in order); the stream ends at close.
final class LinesToStream: ChannelInboundHandler, Sendable {
    typealias InboundIn = String
    let continuation: AsyncStream<String?>.Continuation

    init(_ continuation: AsyncStream<String?>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
}

/// What the test client reads on a WebSocket connection: the handshake's status, then frames.
enum WebSocketTestInbound {
    case head(status: Int)
    case frame(opcode: UInt8, payload: ByteBuffer)
}

/// The response head (up to its blank line), then RFC 6455 frames (unmasked from a server; a
/// masked one is unmasked all the same). Not a 101: the rest is the refusal's body, dropped.
struct WebSocketTestDecoder: ByteToMessageDecoder {
    typealias InboundOut = WebSocketTestInbound
    var upgraded = false

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if !upgraded {
            let bytes = Array(buffer.readableBytesView)
            let blank: [UInt8] = [13, 10, 13, 10]
            guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == blank }) else {
                return .needMoreData
            }
            let head = String(decoding: bytes[..<end], as: UTF8.self)
            let statusLine = head.split(separator: "\r\n").first ?? ""
            let words = statusLine.split(separator: " ")
            let status: Int = words.count > 1 ? Int(words[1]) ?? 0 : 0
            buffer.moveReaderIndex(forwardBy: end + 4)
            upgraded = status == 101
            if !upgraded { buffer.moveReaderIndex(to: buffer.writerIndex) }
            context.fireChannelRead(wrapInboundOut(.head(status: status)))
            return .continue
        }
        let view = Array(buffer.readableBytesView.prefix(14))
        guard view.count >= 2 else { return .needMoreData }
        var length = Int(view[1] & 0x7f), at = 2
        if length == 126 {
            guard view.count >= 4 else { return .needMoreData }
            length = Int(view[2]) << 8 | Int(view[3])
            at = 4
        } else if length == 127 {
            guard view.count >= 10 else { return .needMoreData }
            length = view[2..<10].reduce(0) { $0 << 8 | Int($1) }
            at = 10
        }
        let masked = view[1] & 0x80 != 0
        let mask: [UInt8]
        if masked {
            guard view.count >= at + 4 else { return .needMoreData }
            mask = Array(view[at..<(at + 4)])
            at += 4
        } else {
            mask = []
        }
        guard buffer.readableBytes >= at + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: at)
        guard var payload = buffer.readSlice(length: length) else { return .needMoreData }
        if masked {
            let unmasked = payload.readableBytesView.enumerated().map { $0.element ^ mask[$0.offset % 4] }
            payload = ByteBuffer(bytes: unmasked)
        }
        context.fireChannelRead(wrapInboundOut(.frame(opcode: view[0] & 0x0f, payload: payload)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// The test client's WebSocket side: sends the handshake, says how it went; text frames in become
/// lines; bytes out (lines ending in LF) become one masked text frame per line, as a browser sends.
final class WebSocketTestFraming: ChannelDuplexHandler, Sendable {
    typealias InboundIn = WebSocketTestInbound
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let continuation: AsyncStream<String?>.Continuation
    let handshake: EventLoopPromise<Bool>
    let request: String

    init(_ continuation: AsyncStream<String?>.Continuation, handshake: EventLoopPromise<Bool>, request: String) {
        self.continuation = continuation
        self.handshake = handshake
        self.request = request
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let status):
            handshake.succeed(status == 101)
            if status != 101 { context.close(promise: nil) }
        case .frame(0x1, let payload):
            continuation.yield(String(buffer: payload))
        case .frame(0x8, _):
            context.close(promise: nil)
        case .frame:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var payload = unwrapOutboundIn(data)
        // A trailing LF ends the message; without one the bytes are one message as they are.
        if payload.readableBytesView.last == UInt8(ascii: "\n") { payload.moveWriterIndex(to: payload.writerIndex - 1) }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        var frame = ByteBuffer()
        frame.writeInteger(UInt8(0x81))
        let length = payload.readableBytes
        if length < 126 {
            frame.writeInteger(UInt8(0x80 | length))
        } else if length <= 0xffff {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(length))
        } else {
            frame.writeInteger(UInt8(0x80 | 127))
            frame.writeInteger(UInt64(length))
        }
        frame.writeBytes(mask)
        frame.writeBytes(payload.readableBytesView.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshake.fail(ChannelError.ioOnClosedChannel)
        continuation.finish()
        context.fireChannelInactive()
    }
}

/// One HTTP/1.1 request to the page's port, over a plain socket: (status line, headers, body).
func httpGet(port: Int, _ path: String, method: String = "GET", headers: [String] = []) async throws -> (status: String, headers: [String: String], body: String) {
    let request = ([ "\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)"] + headers + ["", ""]).joined(separator: "\r\n")
    // The server closes a connection that sends no whole request within its request timeout
    // (10 s), as it should; a test process whose threads are all busy can take that long between
    // connecting and sending. Such a connection is opened again (twice at most): a server that
    // closes every connection at once still fails the test.
    var c = try await LineClient.connect(port: port)
    for attempt in 0...2 {
        do {
            try await c.send(bytes: Array(request.utf8))
            break
        } catch ChannelError.ioOnClosedChannel where attempt < 2 {
            c = try await LineClient.connect(port: port)
        }
    }
    var lines: [String] = []
    while case .line(let l) = await c.next(timeout: .seconds(30)) { lines.append(l) }
    let status = lines.first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    var fields: [String: String] = [:]
    var rest = lines.dropFirst()
    while let l = rest.first, !l.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        rest = rest.dropFirst()
        if let colon = l.firstIndex(of: ":") {
            fields[l[..<colon].lowercased()] = l[l.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
    return (status, fields, rest.dropFirst().joined(separator: "\n"))
}

/// `text` as a plain-text kiosk shows it: wrapped at 72 columns, continuation lines under `hanging`.
func plainLines(_ text: String, hanging: String = "") -> [String] {
    TextWidth.wrap(text, width: 72, hanging: hanging)
}

/// A plain-text line read after she typed: the server's prompt (`> `, no newline) ended its last
/// reply, so a line-splitting client reads it in front of the next reply's first line.
func afterPrompt(_ line: String) -> String {
    line.hasPrefix("> ") ? String(line.dropFirst(2)) : line
}

extension JSON {
    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
