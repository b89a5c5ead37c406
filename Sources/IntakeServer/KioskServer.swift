import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore

import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// How a kiosk server runs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (the bound one is passed to `onListening`).
    public var port = 7070
    /// The dialog a `start` without `dialog` (and every plain-text session) runs.
    public var dialog = "intake"
    /// The office whose kiosks these are: the sessions started here are its (nil: the unnamed
    /// office). On a shared PostgreSQL database, that office's counselors take them over.
    public var office: String?
    /// No line for this long: the session is suspended and the connection closed.
    public var idleTimeout: TimeAmount = .seconds(600)
    public var maxConnections = 1024
    /// Longest line accepted, in bytes (without its LF).
    public var maxLineBytes = 8192
    /// A client that does not read what it is sent for this long is disconnected.
    public var writeTimeout: TimeAmount = .seconds(30)
    /// Wrong resume tokens on one connection before it is closed.
    public var maxWrongTokens = 5
    /// Wrong resume tokens from one address (over any number of connections) within
    /// `wrongTokenWindow` before that address may not resume at all until the window ends.
    public var maxWrongTokensPerAddress = 20
    public var wrongTokenWindow: TimeAmount = .minutes(10)
    /// Sessions one address may start within `startWindow` (kiosks behind one NAT share it: an
    /// office of 10 kiosks gets 6 starts per kiosk per 10 minutes, where an intake takes 15 minutes
    /// or more); past it a start gets `too_many_starts` until the window ends.
    public var maxStartsPerAddress = 60
    public var startWindow: TimeAmount = .minutes(10)
    /// Connections one address may hold at once (kiosks behind one NAT share it); past it a new
    /// one is told politely and closed, so one address cannot take every slot.
    public var maxConnectionsPerAddress = 16
    /// Log entries a session may have (`SessionRunner.maxEvents`): past it the session takes no
    /// more input (`session_too_long`, suspended, connection closed) and is not resumed.
    public var maxEventsPerSession = SessionRunner.defaultMaxEvents
    /// Bytes of input one address may have logged within `inputWindow` (`InputBudget`: each input
    /// its text and 128 for its entry; a whole intake counts 15–20 KB). Past it an input gets
    /// `too_much_input` and is not logged, so one address cannot fill the disk through the logs.
    public var maxInputBytesPerAddress = 16 << 20
    public var inputWindow: TimeAmount = .minutes(10)
    /// At shutdown, how long connections get to suspend and say bye before they are closed.
    public var shutdownGrace: TimeAmount = .seconds(5)
    /// How often the server asks the database whether another process (a counselor's terminal)
    /// resumed one of its live sessions, so that the kiosk is told at once, not at its next answer.
    public var holderCheckInterval: Duration = .seconds(1)
    /// Run each connection's task on its channel's event loop (see `EventLoopTaskExecutor`) instead
    /// of Swift's global concurrent executor. Off: measured, it saved no CPU per turn and lost ~10 %
    /// of the turns per second at 100 clients (BENCHMARKS.md); kept for the load generator's
    /// `--on-loop`, to measure again.
    public var turnsOnEventLoop = false
    /// A connection that has sent nothing this long after it opened is shown how to begin (plain
    /// text, in Japanese, English and やさしい日本語; a JSON client speaks first and never sees it).
    /// nil: never (a transport whose clients always speak first).
    public var greetAfter: TimeAmount? = .milliseconds(1500)
    /// The kiosk page over HTTP and the protocol over a WebSocket (`intake serve --http`); nil: the
    /// line port only.
    public var http: HTTPConfiguration?

    public init() {}
}

/// The HTTP side of the kiosk service: the touch page and the WebSocket at `/ws`.
public struct HTTPConfiguration: Sendable {
    /// 127.0.0.1 unless an office puts the page on its network on purpose.
    public var host = "127.0.0.1"
    /// 0: any free port (the bound one is passed to `run`'s `onHTTPListening`).
    public var port = 8080
    /// The page, read at start.
    public var page: KioskPage
    /// Largest WebSocket frame read at all (past it the socket is closed with 1009, message too
    /// big); messages up to it but over `maxLineBytes` get `line_too_long`, as on the line port.
    public var maxFrameBytes = 1 << 16
    /// A connection must send a whole request head within this time, or it is closed.
    public var requestTimeout: TimeAmount = .seconds(10)
    /// Other names the kiosks reach this server by (`--http-name`), besides 127.0.0.1, localhost,
    /// [::1] and `host`: the WebSocket's Host (and so its Origin) must be one of them.
    public var names: [String] = []

    /// Every name the page may be asked for by.
    var hostNames: [String] { ["127.0.0.1", "localhost", "[::1]", host.contains(":") ? "[\(host)]" : host] + names }

    public init(page: KioskPage) {
        self.page = page
    }
}

/// The kiosk line service: dialogs over TCP (JSON lines or plain text; see PROTOCOL.md), each
/// answer committed before its reply, sessions suspended when a client leaves, idles or the
/// server stops. Built on SwiftNIO's `NIOAsyncChannel`: one task per connection.
public final class KioskServer: Sendable {
    let context: ServerContext
    private let serverChannels = NIOLockedValueBox<[any Channel]>([])
    private let stopping = NIOLockedValueBox(false)

    /// `project` holds the dialogs and strings (already checked); `store` keeps the sessions.
    public init(project: Project, store: any Store, configuration: ServerConfiguration, logger: Logger) throws {
        guard project.dialogs[configuration.dialog] != nil else { throw ServerError.unknownDialog(configuration.dialog) }
        // One engine per dialog and furigana style: an engine renders every text with its catalog's
        // style, and a connection picks the style its client asked for (the record is the same).
        var styled: [FuriganaStyle: [String: SessionRunner]] = [:]
        var catalogs: [FuriganaStyle: Catalog] = [:]
        for style in [FuriganaStyle.brackets, .reading, .annotations] {
            var catalog = project.catalog
            catalog.furigana = style
            catalogs[style] = catalog
            for (id, dialog) in project.dialogs {
                var runner = SessionRunner(engine: Engine(dialog: dialog, catalog: catalog), store: store)
                runner.maxEvents = configuration.maxEventsPerSession
                styled[style, default: [:]][id] = runner
            }
        }
        context = ServerContext(runners: styled, store: store, catalogs: catalogs, configuration: configuration, logger: logger,
                                registry: Registry(maxConnections: configuration.maxConnections,
                                                   maxPerAddress: configuration.maxConnectionsPerAddress),
                                guesses: RateLimit(kind: "wrong_token", limit: configuration.maxWrongTokensPerAddress,
                                                   window: configuration.wrongTokenWindow.nanoseconds / 1_000_000),
                                starts: RateLimit(kind: "start", limit: configuration.maxStartsPerAddress,
                                                  window: configuration.startWindow.nanoseconds / 1_000_000),
                                inputs: InputBudget(limit: configuration.maxInputBytesPerAddress,
                                                    window: configuration.inputWindow.nanoseconds / 1_000_000))
    }

    /// Connections open now, and the most at once.
    public var connections: (open: Int, peak: Int) { (context.registry.count, context.registry.peak) }

    /// Binds, calls `onListening` with the bound address once it accepts, serves until `shutdown()`,
    /// then lets every connection suspend its session and say bye, and returns.
    public func run(onListening: @Sendable (SocketAddress) -> Void,
                    onHTTPListening: @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        let config = context.configuration
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client that sends its last line and half-closes (`nc -N`) still gets the replies.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: config.host, port: config.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(KioskLineDecoder(maximumLength: config.maxLineBytes)),
                        IdleStateHandler(readTimeout: config.idleTimeout),
                        KioskEventHandler(writeTimeout: config.writeTimeout, greetAfter: config.greetAfter))
                    return try NIOAsyncChannel<KioskFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        var web: NIOAsyncChannel<EventLoopFuture<FrontDoorConnection>, Never>?
        if let http = config.http {
            do {
                web = try await bindHTTP(http)
            } catch {
                server.channel.close(promise: nil)
                throw error
            }
        }
        serverChannels.withLockedValue { $0 = [server.channel] + (web.map { [$0.channel] } ?? []) }
        if stopping.withLockedValue({ $0 }) { shutdown() }
        if let address = server.channel.localAddress { onListening(address) }
        if let address = web?.channel.localAddress { onHTTPListening(address) }
        let logger = context.logger
        logger.info("listening", metadata: ["port": "\(server.channel.localAddress?.port ?? 0)",
                                             "max_connections": "\(config.maxConnections)",
                                             "max_connections_per_address": "\(config.maxConnectionsPerAddress)",
                                             "max_starts_per_address": "\(config.maxStartsPerAddress)/\(config.startWindow.nanoseconds / 1_000_000_000)s",
                                             "max_events_per_session": "\(config.maxEventsPerSession)"])
        let registry = context.registry
        let context = self.context
        let accepting = NIOLockedValueBox(true)
        await withDiscardingTaskGroup { group in
            // Sessions resumed by another process: their kiosks are told within a second.
            group.addTask {
                while accepting.withLockedValue({ $0 }) {
                    try? await Task.sleep(for: config.holderCheckInterval)
                    let live = registry.sessionIDs
                    guard !live.isEmpty else { continue }
                    for id in await context.heldElsewhere(live) { registry.checkHolder(of: id) }
                }
            }
            if let web {
                // The page and its WebSockets: accepted beside the line port, on the same registry.
                group.addTask {
                    do {
                        try await web.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { requests in
                                for try await negotiated in inbound {
                                    requests.addTask { await Self.serveHTTP(negotiated, context: context) }
                                }
                            }
                        }
                    } catch {
                        logger.error("HTTP accept loop ended", metadata: ["error": "\(type(of: error))"])
                    }
                }
            }
            do {
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        let executor: (any TaskExecutor)? = config.turnsOnEventLoop ? EventLoopTaskExecutor(connection.channel.eventLoop) : nil
                        group.addTask(executorPreference: executor) {
                            await Self.admit(connection, mode: .unknown, context: context)
                        }
                    }
                }
            } catch {
                logger.error("accept loop ended", metadata: ["error": "\(type(of: error))"])
            }
            accepting.withLockedValue { $0 = false }
            web?.channel.close(promise: nil)
            // No longer accepting: every connection suspends its session and says bye.
            logger.info("stopping", metadata: ["connections": "\(registry.count)"])
            registry.broadcastShutdown()
            // Those that cannot (a client that does not read) are closed after the grace period.
            let grace = config.shutdownGrace
            group.addTask {
                let deadline = ContinuousClock.now + .nanoseconds(grace.nanoseconds)
                while registry.count > 0, ContinuousClock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(20))
                }
                if registry.count > 0 {
                    logger.warning("closing connections after the grace period", metadata: ["connections": "\(registry.count)"])
                    registry.closeAll()
                }
            }
        }
        logger.info("stopped")
    }

    /// Stops accepting and ends `run` gracefully (from any thread or task; a signal handler).
    public func shutdown() {
        stopping.withLockedValue { $0 = true }
        for channel in serverChannels.withLockedValue({ $0 }) { channel.close(promise: nil) }
    }

    /// A connection of either transport, admitted under the server's limits (or refused politely)
    /// and served by one `Connection` until it closes.
    static func admit(_ connection: NIOAsyncChannel<KioskFrame, ByteBuffer>, mode: Connection.Mode, context: ServerContext) async {
        switch context.registry.admit(connection.channel) {
        case .admitted:
            await Connection(context: context, channel: connection.channel, mode: mode).serve(connection)
        case .full:
            await refuse(connection, context: context, json: mode == .json)
        case .addressFull:
            await refuse(connection, context: context, reason: "max_connections_per_address", message: "operations.serve.address_busy",
                         json: mode == .json)
        }
    }

    /// Past the connection limit: one polite line (the client's language is not known yet:
    /// Japanese, then English), and close.
    static func refuse(_ connection: NIOAsyncChannel<KioskFrame, ByteBuffer>, context: ServerContext,
                       reason: String = "max_connections", message: String = "serve.busy", json: Bool = false) async {
        var metadata: Logger.Metadata = ["reason": "\(reason)"]
        if reason == "max_connections_per_address" { metadata["address"] = "\(AddressKey.of(connection.channel.remoteAddress))" }
        context.logger.notice("connection refused", metadata: metadata)
        let text = context.catalog.text(message, "ja") + " / " + context.catalog.text(message, "en")
        // On the WebSocket, the same in the protocol's own shape: a `bye` message.
        let line = json
            ? JSON.object([("type", .string("bye")), ("reason", .string(reason)), ("message", .string(text))]).rendered()
            : text
        try? await connection.executeThenClose { _, outbound in
            try await outbound.write(ByteBuffer(string: line + "\n"))
        }
    }
}

public enum ServerError: Error, CustomStringConvertible {
    case unknownDialog(String)

    public var description: String {
        switch self {
        case .unknownDialog(let id): return "unknown dialog '\(id)'"
        }
    }
}

/// What every connection shares.
struct ServerContext: Sendable {
    /// By furigana style, then dialog id.
    let styledRunners: [FuriganaStyle: [String: SessionRunner]]
    let store: any Store
    /// By furigana style (each renders ja-easy's readings its way).
    let catalogs: [FuriganaStyle: Catalog]
    let configuration: ServerConfiguration
    let logger: Logger
    let registry: Registry
    /// Wrong resume tokens per client address, counted in the store (shared by every instance).
    let guesses: RateLimit
    /// Session starts per client address, counted in the store.
    let starts: RateLimit
    /// Bytes of input logged per client address, counted in this instance.
    let inputs: InputBudget
    private let counter = NIOLockedValueBox(0)

    init(runners: [FuriganaStyle: [String: SessionRunner]], store: any Store, catalogs: [FuriganaStyle: Catalog],
         configuration: ServerConfiguration, logger: Logger, registry: Registry, guesses: RateLimit, starts: RateLimit,
         inputs: InputBudget) {
        self.styledRunners = runners
        self.store = store
        self.catalogs = catalogs
        self.configuration = configuration
        self.logger = logger
        self.registry = registry
        self.guesses = guesses
        self.starts = starts
        self.inputs = inputs
    }

    /// The default style's catalog (brackets: 仕事（しごと）).
    var catalog: Catalog { catalogs[.brackets] ?? Catalog() }

    /// The dialogs' runners in the default style.
    var runners: [String: SessionRunner] { styledRunners[.brackets] ?? [:] }

    /// The runner of `dialog` whose texts carry readings in `style`.
    func runner(_ dialog: String, style: FuriganaStyle) -> SessionRunner? {
        styledRunners[style]?[dialog]
    }

    /// Which of `sessions` another process has resumed since this server took them (none when the
    /// database cannot be read: the next answer finds out).
    func heldElsewhere(_ sessions: [String]) async -> [String] {
        (try? await store.sessionsHeldElsewhere(sessions)) ?? []
    }

    /// One attempt from `address` against `rule`, counted in the store at the wall clock's time.
    /// A store that cannot count refuses (fail closed: a limit that cannot be checked is not lifted).
    func allowed(_ rule: RateLimit, _ address: String, _ counting: RateLimit.Counting) async -> Bool {
        do {
            return try await store.limit(rule, address: address, counting: counting, at: admission(rule, address).at)
        } catch {
            logger.error("rate limit could not be read", metadata: ["kind": "\(rule.kind)", "error": "\(storageErrorDescription(error))"])
            return false
        }
    }

    /// A session start from `address` now, to be admitted under `rule` (`SessionRunner.start`).
    func admission(_ rule: RateLimit, _ address: String) -> RateLimit.Admission {
        RateLimit.Admission(rule: rule, address: address, at: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
    }

    /// A number for each connection, for the logs.
    func nextConnectionNumber() -> Int {
        counter.withLockedValue { $0 += 1; return $0 }
    }
}
