import NIOCore
import NIOExtras

/// What a connection's task reads: a line, or something the pipeline noticed.
public enum KioskFrame: Sendable {
    /// One line without its LF (or CRLF).
    case line(ByteBuffer)
    /// A line went over the limit: its bytes were dropped up to the next LF (the next line is read
    /// normally). Sent once per overlong line.
    case tooLong
    /// The client sent nothing for the idle timeout.
    case idle
    /// The connection closed in the middle of a line (the partial line is dropped).
    case unterminated
    /// The server is shutting down.
    case shutdown
    /// The session this connection runs was resumed on another connection.
    case takenOver
    /// The database says another process (a counselor's terminal) may have resumed the session:
    /// the connection checks, and if so ends it.
    case heldElsewhere
    /// Nothing was read for `ServerConfiguration.greetAfter` after the connection opened: a
    /// person at `nc` or `telnet` waits to be told how to begin (a JSON client speaks first).
    case greet
}

/// Line framing with a maximum length: swift-nio-extras' `LineBasedFrameDecoder` (LF, CRLF
/// accepted) does the splitting; this wrapper bounds what a connection can make the server buffer.
/// When more than `maximumLength` bytes arrive without a LF, they are dropped, `.tooLong` is
/// emitted once, and everything up to the next LF is dropped too; reading then goes on. So a
/// connection holds at most `maximumLength` + one read's bytes, whatever the client sends.
public struct KioskLineDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = KioskFrame

    public let maximumLength: Int
    private var lines = LineBasedFrameDecoder()
    /// Dropping the rest of an overlong line.
    private var discarding = false

    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> KioskFrame? {
        if discarding {
            guard let lf = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                buffer.moveReaderIndex(to: buffer.writerIndex)
                return nil
            }
            buffer.moveReaderIndex(to: lf + 1)
            discarding = false
            lines = LineBasedFrameDecoder()
        }
        if let line = try lines.decode(buffer: &buffer) {
            return line.readableBytes > maximumLength ? .tooLong : .line(line)
        }
        if buffer.readableBytes > maximumLength {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            discarding = true
            lines = LineBasedFrameDecoder()
            return .tooLong
        }
        return nil
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> KioskFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        guard buffer.readableBytes > 0 || discarding else { return nil }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        discarding = false
        return .unterminated
    }
}

/// Signals the server sends into a connection's pipeline from outside (any thread).
enum KioskSignal: Sendable {
    case shutdown
    case takenOver
    case heldElsewhere
}

/// Turns pipeline events into frames the connection's task reads in order with its lines: the
/// read-idle timeout, the server's shutdown, a takeover, and the greeting: `greetAfter` after the
/// connection opens, `.greet` once, unless a byte was read by then (decided here, on the event
/// loop, so a client whose first bytes arrive before the timer never gets it). Also the write
/// timeout: a client that stops reading makes the channel unwritable; if it stays so for
/// `writeTimeout`, the connection is closed (its task's pending write then fails, and the session
/// is suspended), so a client that never reads cannot hold the server's memory or a task forever.
final class KioskEventHandler: ChannelInboundHandler {
    typealias InboundIn = KioskFrame
    typealias InboundOut = KioskFrame

    private let writeTimeout: TimeAmount
    private var unwritable: Scheduled<Void>?
    /// nil: never greet.
    private let greetAfter: TimeAmount?
    private var greeting: Scheduled<Void>?
    private var greetingArmed = false
    /// A read completed (a byte, not necessarily a line, came in).
    private var heard = false

    init(writeTimeout: TimeAmount, greetAfter: TimeAmount? = nil) {
        self.writeTimeout = writeTimeout
        self.greetAfter = greetAfter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { armGreeting(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        armGreeting(context)
        context.fireChannelActive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        heard = true
        greeting?.cancel()
        greeting = nil
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        greeting?.cancel()
        greeting = nil
        context.fireChannelInactive()
    }

    /// The greeting's one-shot timer, from the moment the connection is open.
    private func armGreeting(_ context: ChannelHandlerContext) {
        guard let greetAfter, !greetingArmed else { return }
        greetingArmed = true
        scheduleGreeting(context, at: context.eventLoop.now + greetAfter, lateChecks: 0)
    }

    /// Greets at `deadline` if nothing was read by then. A timer that fires late (the loop was busy
    /// or the process starved) may run before the loop has read bytes that came in before the
    /// deadline: it looks again a little later, so a client that spoke in time is not greeted.
    private func scheduleGreeting(_ context: ChannelHandlerContext, at deadline: NIODeadline, lateChecks: Int) {
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        greeting = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.greeting = nil
            guard !handler.heard, context.channel.isActive else { return }
            if context.eventLoop.now - deadline > .milliseconds(50), lateChecks < 20 {
                handler.scheduleGreeting(context, at: context.eventLoop.now + .milliseconds(100), lateChecks: lateChecks + 1)
                return
            }
            handler.deliver(.greet, context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let idle as IdleStateHandler.IdleStateEvent where idle == .read:
            deliver(.idle, context)
            // A task stuck writing to a client that does not read would never see the frame.
            if !context.channel.isWritable { context.close(promise: nil) }
        case let signal as KioskSignal:
            switch signal {
            case .shutdown: deliver(.shutdown, context)
            case .takenOver: deliver(.takenOver, context)
            case .heldElsewhere: deliver(.heldElsewhere, context)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A frame of its own: NIOAsyncChannel hands reads to the task at "read complete", so one is sent after it.
    private func deliver(_ frame: KioskFrame, _ context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(frame))
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritable?.cancel()
            unwritable = nil
        } else if unwritable == nil {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            unwritable = context.eventLoop.scheduleTask(in: writeTimeout) {
                loopBound.value.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        unwritable?.cancel()
        greeting?.cancel()
    }
}

@available(*, unavailable)
extension KioskEventHandler: Sendable {}
