import IntakeEngine
import Logging
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
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: http.host, port: http.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketServerUpgrader<FrontDoorConnection>(
                        maxFrameSize: http.maxFrameBytes,
                        shouldUpgrade: { channel, head in
                            guard Self.mayUpgrade(head) else {
                                logger.notice("WebSocket refused", metadata: ["reason": "\(head.uri.hasPrefix("/ws") ? "origin" : "path")"])
                                return channel.eventLoop.makeSucceededFuture(nil)
                            }
                            return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandlers(
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
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: upgrade))
                }
            }
    }

    /// Only `/ws`, and only from the page this server serves: a browser sends the Origin of the
    /// page that opens the socket, so another site's page (or a file) open on the kiosk cannot
    /// drive a session. The page's origin is `http://` + the Host the browser asked for.
    static func mayUpgrade(_ head: HTTPRequestHead) -> Bool {
        let path = head.uri.prefix { $0 != "?" }
        guard path == "/ws", head.method == .GET,
              let host = head.headers.first(name: "Host"), !host.isEmpty,
              let origin = head.headers.first(name: "Origin") else { return false }
        return origin == "http://" + host
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
