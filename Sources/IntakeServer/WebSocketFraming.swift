import NIOCore
import NIOWebSocket

/// The WebSocket transport's framing, and nothing else: one protocol message per text frame. It
/// turns frames into the same `KioskFrame`s the line port's decoder makes, and a reply's lines (the
/// `ByteBuffer` of LF-terminated lines `Connection` writes) into one text frame per line. Everything
/// after it in the pipeline — idle timeout, write timeout, signals, the connection's task and its
/// protocol — is the line port's, unchanged.
///
/// Control frames are answered here: a ping gets its pong; a close gets the close echoed, then the
/// connection closes (its session is suspended, as when a line client disconnects). Fragmented
/// messages are joined by `NIOWebSocketFrameAggregator` before this handler.
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
        switch frame.opcode {
        case .text, .binary:
            guard !closing else { return }
            let payload = frame.unmaskedData
            context.fireChannelRead(wrapInboundOut(payload.readableBytes > maximumLength ? .tooLong : .line(payload)))
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            // The client's close, echoed with its code, then the connection ends.
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? ByteBuffer()
            close(context, data: code)
        default:
            // A continuation outside a message, or an opcode no version of the protocol defines.
            var code = ByteBuffer()
            code.write(webSocketErrorCode: .protocolError)
            close(context, data: code)
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

    /// Sends a close frame (once) and closes the connection when it is written.
    private func close(_ context: ChannelHandlerContext, data: ByteBuffer) {
        guard !closing else { return }
        closing = true
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
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
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in
            loopBound.value.close(mode: mode, promise: promise)
        }
    }
}

@available(*, unavailable)
extension WebSocketLineCodec: Sendable {}
