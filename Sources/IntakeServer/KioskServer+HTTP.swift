import IntakeEngine
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// What an HTTP connection became: a WebSocket carrying the kiosk protocol, or a plain request.
enum FrontDoorConnection: Sendable {
    case webSocket(NIOAsyncChannel<KioskFrame, ByteBuffer>)
    case request(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>)
}

extension KioskServer {
    /// Binds the HTTP side: SwiftNIO's HTTP/1 server pipeline with its WebSocket upgrader. A
    /// WebSocket to `/ws` whose Origin is the page's own becomes a kiosk connection with the line
    /// port's pipeline after its framing (idle timeout, write timeout, signals) and the same
    /// `Connection`; anything else is one request, answered by `KioskPage`, then closed.
    func bindHTTP(_ http: HTTPConfiguration) async throws -> NIOAsyncChannel<EventLoopFuture<FrontDoorConnection>, Never> {
        let config = context.configuration
        let logger = context.logger
        // Connections that have not finished asking yet, per address and in all: a client that opens
        // connections and sends half a request cannot hold more than its share, nor for long.
        let gate = HTTPGate(perAddress: config.maxConnectionsPerAddress, total: config.maxConnections)
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: http.host, port: http.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let ticket = gate.enter(AddressKey.of(channel.remoteAddress)) else {
                        logger.notice("HTTP connection refused", metadata: ["reason": "too_many_unfinished_requests",
                                                                             "address": "\(AddressKey.of(channel.remoteAddress))"])
                        // (A failed initializer is not closed for us: close it, then say so.)
                        channel.close(promise: nil)
                        throw ChannelError.inappropriateOperationForState
                    }
                    // A whole request head within the time, or the connection is closed.
                    let deadline = channel.eventLoop.scheduleTask(in: http.requestTimeout) { channel.close(promise: nil) }
                    channel.closeFuture.whenComplete { _ in
                        deadline.cancel()
                        ticket.release()
                    }
                    let port = channel.localAddress?.port ?? http.port
                    let upgrader = NIOTypedWebSocketServerUpgrader<FrontDoorConnection>(
                        maxFrameSize: http.maxFrameBytes,
                        shouldUpgrade: { channel, head in
                            guard Self.mayUpgrade(head, hosts: http.hostNames, port: port) else {
                                logger.notice("WebSocket refused", metadata: ["reason": "\(head.uri.hasPrefix("/ws") ? "origin" : "path")"])
                                return channel.eventLoop.makeSucceededFuture(nil)
                            }
                            return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandlers(
                                    WebSocketFrameCheck(),
                                    NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 256,
                                                                maxAccumulatedFrameSize: http.maxFrameBytes),
                                    WebSocketLineCodec(maximumLength: config.maxLineBytes),
                                    IdleStateHandler(readTimeout: config.idleTimeout),
                                    KioskEventHandler(writeTimeout: config.writeTimeout))
                                return .webSocket(try NIOAsyncChannel<KioskFrame, ByteBuffer>(wrappingChannelSynchronously: channel))
                            }
                        })
                    let upgrade = NIOTypedHTTPServerUpgradeConfiguration<FrontDoorConnection>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                // A request that is not a WebSocket (or a refused one) is answered
                                // whole within the idle time, or the connection is closed.
                                try channel.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: .seconds(30)))
                                try channel.pipeline.syncOperations.addHandler(CloseOnIdle())
                                return .request(try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                                    wrappingChannelSynchronously: channel))
                            }
                        })
                    let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: upgrade))
                    negotiated.whenComplete { result in
                        deadline.cancel()
                        switch result {
                        // A WebSocket is a kiosk connection now, counted by the server's registry.
                        case .success(.webSocket): ticket.release()
                        // A request is answered and closed (its ticket released then).
                        case .success(.request): break
                        // A request SwiftNIO could not read (it answered 400): closed.
                        case .failure: channel.close(promise: nil)
                        }
                    }
                    return negotiated
                }
            }
    }

    /// Only `/ws`, and only from the page this server serves: a browser sends the Origin of the
    /// page that opens the socket, so another site's page (or a file) open on the kiosk cannot
    /// drive a session. The page's origin is `http://` + the Host the browser asked for, and that
    /// Host must be one of this server's own names with its port (`hosts`: 127.0.0.1, localhost,
    /// [::1], `--http-host` and `--http-name`) — so a site whose name was made to point at the kiosk
    /// (DNS rebinding) is refused too. One Host and one Origin header.
    static func mayUpgrade(_ head: HTTPRequestHead, hosts: [String], port: Int) -> Bool {
        let path = head.uri.prefix { $0 != "?" }
        let hostFields = head.headers["Host"], originFields = head.headers["Origin"]
        guard path == "/ws", head.method == .GET, hostFields.count == 1, originFields.count == 1,
              let host = hostFields.first?.lowercased(), let origin = originFields.first?.lowercased() else { return false }
        let allowed = hosts.map { $0.lowercased() + ":" + String(port) } + (port == 80 ? hosts.map { $0.lowercased() } : [])
        return allowed.contains(host) && origin == "http://" + host
    }

    /// One HTTP connection: a WebSocket is served as a kiosk connection; a request is answered.
    static func serveHTTP(_ negotiated: EventLoopFuture<FrontDoorConnection>, context: ServerContext) async {
        let connection: FrontDoorConnection
        do {
            connection = try await negotiated.get()
        } catch {
            return
        }
        switch connection {
        case .webSocket(let socket):
            await admit(socket, mode: .json, context: context)
        case .request(let request):
            guard let page = context.configuration.http?.page else { return }
            await answer(request, page: page, logger: context.logger)
        }
    }

    /// Answers the connection's first request (its body, if any, is not read) and closes it.
    static func answer(_ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, page: KioskPage, logger: Logger) async {
        try? await channel.executeThenClose { inbound, outbound in
            for try await part in inbound {
                let status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, version: HTTPVersion
                switch part {
                case .head(let head) where !head.uri.hasPrefix("/ws"):
                    (status, headers, body) = page.response(method: head.method, uri: head.uri)
                    version = head.version
                case .head, .end:
                    // A WebSocket request the upgrader refused (not `/ws`, or another page's Origin):
                    // SwiftNIO's upgrader keeps its head, so what arrives here is its end.
                    (status, headers, body) = KioskPage.plain(.forbidden, KioskPage.securityHeaders())
                    version = .http1_1
                case .body:
                    continue
                }
                logger.debug("http", metadata: ["status": "\(status.code)"])
                try await outbound.write(.head(HTTPResponseHead(version: version, status: status, headers: headers)))
                if body.readableBytes > 0 { try await outbound.write(.body(.byteBuffer(body))) }
                try await outbound.write(.end(nil))
                return
            }
        }
    }
}

/// HTTP connections not yet upgraded or answered, by address: each gets a ticket, released once
/// (when it closes, or when it becomes a WebSocket and the registry counts it instead).
final class HTTPGate: Sendable {
    private let state = NIOLockedValueBox<(total: Int, perAddress: [String: Int])>((0, [:]))
    let perAddress: Int
    let total: Int

    init(perAddress: Int, total: Int) {
        self.perAddress = perAddress
        self.total = total
    }

    final class Ticket: Sendable {
        private let released = NIOLockedValueBox(false)
        private let gate: HTTPGate
        private let address: String

        init(gate: HTTPGate, address: String) {
            self.gate = gate
            self.address = address
        }

        func release() {
            guard released.withLockedValue({ was in defer { was = true }; return !was }) else { return }
            gate.leave(address)
        }
    }

    func enter(_ address: String) -> Ticket? {
        let admitted = state.withLockedValue { s -> Bool in
            guard s.total < total, s.perAddress[address, default: 0] < perAddress else { return false }
            s.total += 1
            s.perAddress[address, default: 0] += 1
            return true
        }
        return admitted ? Ticket(gate: self, address: address) : nil
    }

    private func leave(_ address: String) {
        state.withLockedValue { s in
            s.total -= 1
            let left = s.perAddress[address, default: 1] - 1
            s.perAddress[address] = left > 0 ? left : nil
        }
    }

    var open: Int { state.withLockedValue { $0.total } }
}

/// Closes an HTTP connection that sits idle (a client that opens and never asks).
final class CloseOnIdle: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

@available(*, unavailable)
extension CloseOnIdle: Sendable {}
