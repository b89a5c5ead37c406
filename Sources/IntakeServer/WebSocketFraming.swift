import NIOCore
import NIOWebSocket

/// The WebSocket transport's framing, and nothing else: one protocol message per text frame. It
/// turns frames into the same `KioskFrame`s the line port's decoder makes, and a reply's lines (the
/// `ByteBuffer` of LF-terminated lines `Connection` writes) into one text frame per line. Everything
/// after it in the pipeline — idle timeout, write timeout, signals, the connection's task and its
/// protocol — is the line port's, unchanged.
///
/// Control frames are answered here: a ping gets its pong (unless the client is not reading); a
/// close gets the close echoed, then the connection closes (its session is suspended, as when a
/// line client disconnects). Fragmented messages are joined by `NIOWebSocketFrameAggregator` before this handler, after
/// `WebSocketFrameCheck` has checked each frame as it came.
final class WebSocketLineCodec: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = KioskFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    /// Longest message accepted, in bytes, as on the line port (`line_too_long` past it).
    private let maximumLength: Int
    private var closing = false

    init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !closing else { return }
        // (Masks and reserved bits were checked frame by frame before the aggregator, which hands
        // on a joined message as one new frame with no mask: WebSocketFrameCheck.)
        switch frame.opcode {
        case .text:
            let payload = frame.unmaskedData
            context.fireChannelRead(wrapInboundOut(payload.readableBytes > maximumLength ? .tooLong : .line(payload)))
        case .binary:
            // One JSON message per text frame: binary data is not understood (1003).
            close(context, code: .unacceptableData)
        case .ping:
            // Answered here, not by the connection's task, so the task's backpressure does not
            // hold it back: a client that sends pings and reads nothing would have its pongs
            // queue in memory until the write timeout (hundreds of MB from one socket). While
            // the socket is full a ping goes unanswered (RFC 6455 §5.5.3 lets an endpoint
            // answer only the latest).
            guard context.channel.isWritable else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            // The client's close, echoed with its code (a code no endpoint may send: 1002), then
            // the connection ends. A body starts with a two-byte code (RFC 6455 §5.5.1): a body of
            // one byte is a protocol error too; no body at all is echoed without one.
            var data = frame.unmaskedData
            if let code = data.readInteger(as: UInt16.self) {
                close(context, code: Self.mayBeSent(code) ? WebSocketErrorCode(codeNumber: Int(code)) : .protocolError)
            } else if data.readableBytes > 0 {
                close(context, code: .protocolError)
            } else {
                close(context, data: ByteBuffer())
            }
        default:
            // A continuation outside a message, or an opcode no version of the protocol defines.
            close(context, code: .protocolError)
        }
    }

    /// A fragmented message over the limit, or fragments out of order (SwiftNIO's aggregator):
    /// 1009 (message too big) or 1002 (protocol error), then close.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        switch error {
        case is WebSocketFrameCheck.Violation:
            close(context, code: .protocolError)
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge, NIOWebSocketFrameAggregator.Error.tooManyFragments:
            close(context, code: .messageTooLarge)
        case is NIOWebSocketFrameAggregator.Error:
            close(context, code: .protocolError)
        default:
            context.fireErrorCaught(error)
        }
    }

    /// Close codes an endpoint may put in a close frame (RFC 6455 §7.4).
    static func mayBeSent(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1011, 3000...4999: return true
        default: return false
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        guard !closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        // Lines never contain a LF of their own (JSON escapes it), so each LF ends one message.
        var frames: [WebSocketFrame] = []
        while let lf = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = lf - buffer.readerIndex
            if let line = buffer.readSlice(length: length) {
                frames.append(WebSocketFrame(fin: true, opcode: .text, data: line))
            }
            buffer.moveReaderIndex(forwardBy: 1)
        }
        if buffer.readableBytes > 0 {
            frames.append(WebSocketFrame(fin: true, opcode: .text, data: buffer))
        }
        guard let last = frames.popLast() else {
            promise?.succeed(())
            return
        }
        for frame in frames { context.write(wrapOutboundOut(frame), promise: nil) }
        context.write(wrapOutboundOut(last), promise: promise)
    }

    private func close(_ context: ChannelHandlerContext, code: WebSocketErrorCode) {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: code)
        close(context, data: data)
    }

    /// Sends a close frame (once) and closes the connection when it is written.
    private func close(_ context: ChannelHandlerContext, data: ByteBuffer) {
        guard !closing else { return }
        closing = true
        sendClose(context, data: data) { $0.close(promise: nil) }
    }

    /// The server's side of a close: when the connection's task closes after its `bye`, a close
    /// frame (1000, normal) goes first, so a browser sees a clean close, not an abnormal one.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, !closing else {
            context.close(mode: mode, promise: promise)
            return
        }
        closing = true
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .normalClosure)
        sendClose(context, data: code) { $0.close(mode: mode, promise: promise) }
    }

    /// Writes the close frame, then closes — at once when the client is not reading (the write
    /// timeout closed it, or the frame would queue behind what it did not read), and at most a
    /// second later in any case: a client that never reads cannot hold the connection open.
    private func sendClose(_ context: ChannelHandlerContext, data: ByteBuffer, then finish: @escaping (ChannelHandlerContext) -> Void) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let finished = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        let once = {
            guard !finished.value else { return }
            finished.value = true
            finish(loopBound.value)
        }
        guard context.channel.isWritable else {
            once()
            return
        }
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in once() }
        context.eventLoop.scheduleTask(in: .seconds(1)) { once() }
    }
}

@available(*, unavailable)
extension WebSocketLineCodec: Sendable {}

/// RFC 6455's checks on every frame as it arrives, before `NIOWebSocketFrameAggregator` joins a
/// fragmented message into one new frame (unmasked, so the checks cannot be made after it): a
/// client masks every frame (§5.1) and sets no reserved bit unless an extension was agreed (none
/// is, §5.2). A frame that fails them goes no further; its `Violation` reaches
/// `WebSocketLineCodec`, which fails the connection (1002).
final class WebSocketFrameCheck: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    struct Violation: Error {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.maskKey != nil, frame.reservedBits.isEmpty else {
            context.fireErrorCaught(Violation())
            return
        }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension WebSocketFrameCheck: Sendable {}
