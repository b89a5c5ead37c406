import Foundation
import IntakeEngine
import IntakeStore
import IntakeTerminal
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing
@testable import IntakeServer

/// Issue 14, the plain-text mode a telnet user meets: connected and silent, she is told how to
/// begin (in Japanese, English and やさしい日本語); a prompt shows where she types; long lines are
/// wrapped at 72 columns as in the REPL. JSON clients, which speak first, see none of it.
@Suite struct PlainTextFrontDoorTests {
    static let greetingMarks = ["就労相談の受付です", "Employment support intake", "しごとの そうだんの うけつけです"]

    /// The server's default.
    static let greetAfter = ServerConfiguration().greetAfter

    @Test func aSilentConnectionIsShownHowToBeginInThreeLanguages() async throws {
        #expect(Self.greetAfter == .milliseconds(1500))
        let server = try await TestServer.start { $0.greetAfter = Self.greetAfter }
        // From before the connect: the client's connect may complete late on a busy event loop (it
        // shares the loops with the server), while the server's wait began at its accept.
        let opened = ContinuousClock.now
        let c = try await RawClient.connect(port: server.port)
        let greeting = try #require(await c.text(until: { $0.hasSuffix("> ") }, timeout: .seconds(30)),
                                    "no greeting within 15 s (1.5 s on an idle server; the full suite loads both cores)")
        let waited = ContinuousClock.now - opened
        #expect(waited >= .milliseconds(1200), "the greeting waits for a client to speak first: \(waited)")
        // Japanese, then English, then やさしい日本語: each says how to begin, resume and leave.
        let at = Self.greetingMarks.map { greeting.range(of: $0)?.lowerBound }
        #expect(at.allSatisfy { $0 != nil }, "\(greeting)")
        if let ja = at[0], let en = at[1], let easy = at[2] { #expect(ja < en && en < easy) }
        for words in ["Enter を押して", "再開番号を入力", ":quit", "type en", "resume number", "ja-easy と いれて", "さいかい ばんごう"] {
            #expect(greeting.contains(words), "\(words) in \(greeting)")
        }
        // The prompt ends it, with no newline: she types on that line.
        #expect(greeting.hasSuffix("\n> "))
        for line in greeting.split(separator: "\n") { #expect(TextWidth.of(line) <= 72, "\(line)") }

        // Enter alone begins in Japanese.
        try await c.send("")
        let started = try #require(await c.text(until: { $0.hasSuffix("> ") && $0.contains("問回答") }, timeout: .seconds(30), after: greeting.utf8.count))
        #expect(started.contains("受付を始めます"))
        #expect(started.contains("この相談の内容を記録して"))
        try await server.stop()
    }

    @Test func aJSONClientThatSpeaksAtOnceNeverSeesTheGreeting() async throws {
        let server = try await TestServer.start { $0.greetAfter = Self.greetAfter }
        // Its first line goes out as soon as the connection is up, as a kiosk app's does.
        let c = try await RawClient.connect(port: server.port, saying: #"{"op":"start","dialog":"intake","locale":"ja"}"#)
        // Its reply (the session and the first question), and then well past the greeting's 1.5 s
        // (however slowly a loaded machine answers).
        let began = ContinuousClock.now
        _ = await c.text(until: { $0.hasSuffix("\n") && $0.split(separator: "\n").count >= 2 }, timeout: .seconds(30))
        let waited = ContinuousClock.now - began
        if waited < .milliseconds(2500) { try await Task.sleep(for: .milliseconds(2500) - waited) }
        let text = c.text
        #expect(text.hasSuffix("\n"), "every message a whole line, no prompt")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 2, "\(text)")
        #expect(lines.first?.hasPrefix(#"{"type":"session""#) == true, "\(text)")
        for line in lines { #expect((try? JSON(parsing: String(line))) != nil, "not JSON: \(line)") }
        for mark in Self.greetingMarks { #expect(!text.contains(mark)) }
        try await server.stop()
    }

    @Test func aClientThatSendsJSONAfterTheGreetingStillGetsJSON() async throws {
        let server = try await TestServer.start { $0.greetAfter = .milliseconds(200) }
        let c = try await RawClient.connect(port: server.port)
        let greeting = try #require(await c.text(until: { $0.hasSuffix("> ") }, timeout: .seconds(30)))
        try await c.send(#"{"op":"start","dialog":"intake","locale":"en","id":1}"#)
        let after = try #require(await c.text(until: { $0.contains(#""type":"question""#) && $0.hasSuffix("\n") }, timeout: .seconds(30),
                                              after: greeting.utf8.count))
        // The greeting's prompt line is ended first; then JSON lines, each whole.
        #expect(after.hasPrefix("\n{"), "\(after)")
        let lines = after.dropFirst().split(separator: "\n")
        #expect(lines.first?.hasPrefix(#"{"type":"session","id":1,"#) == true, "\(after)")
        for line in lines { #expect((try? JSON(parsing: String(line))) != nil, "not JSON: \(line)") }
        #expect(!after.contains("> "))
        try await server.stop()
    }

    @Test func aPlainTextSessionEndsEveryReplyWithAPromptWhereSheTypes() async throws {
        let server = try await TestServer.start()
        let c = try await RawClient.connect(port: server.port)
        try await c.send("ja")
        var seen = 0
        // The first question.
        var reply = try #require(await c.reply(after: &seen))
        #expect(reply.contains("受付を始めます") && reply.contains("この相談の内容を記録して"))
        #expect(reply.hasSuffix("\n> "), "\(reply)")
        // A refused answer: the error, the question again, the prompt.
        try await c.send("たぶん")
        reply = try #require(await c.reply(after: &seen))
        #expect(reply.hasPrefix("! "), "\(reply)")
        #expect(reply.hasSuffix("\n> "), "\(reply)")
        // An answer: the next question, the prompt.
        try await c.send("はい")
        reply = try #require(await c.reply(after: &seen))
        #expect(reply.contains("問回答"))
        #expect(reply.hasSuffix("\n> "), "\(reply)")
        // The review, then the question again, the prompt.
        try await c.send(":review")
        reply = try #require(await c.reply(after: &seen))
        #expect(reply.contains("これまでの答え："))
        #expect(reply.hasSuffix("\n> "), "\(reply)")
        // An unknown command, help: the prompt.
        try await c.send(":nope")
        #expect(try #require(await c.reply(after: &seen)).hasSuffix("\n> "))
        // Leaving: the resume number, no prompt after it, and the connection closes.
        try await c.send(":quit")
        #expect(await c.waitClosed())
        let end = String(decoding: Array(c.text.utf8).dropFirst(seen), as: UTF8.self)
        #expect(end.contains("中断しました") && end.hasSuffix("\n"), "\(end)")
        try await server.stop()
    }

    @Test func quitBeforeASessionLeavesAndHelpShowsTheGreetingAgain() async throws {
        let server = try await TestServer.start()
        let c = try await RawClient.connect(port: server.port)
        try await c.send(":help")
        var seen = 0
        let help = try #require(await c.reply(after: &seen))
        for mark in Self.greetingMarks { #expect(help.contains(mark)) }
        try await c.send(":quit")
        #expect(await c.waitClosed())
        let end = String(decoding: Array(c.text.utf8).dropFirst(seen), as: UTF8.self)
        #expect(end == "ご利用ありがとうございました。\n")
        // Nothing was started.
        #expect(try await server.store.sessions().isEmpty)
        // `:lang en` (the command she will see in the help) starts in English.
        let d = try await RawClient.connect(port: server.port)
        try await d.send(":lang en")
        var dSeen = 0
        #expect(try #require(await d.reply(after: &dSeen)).contains("Let's begin"))
        try await server.stop()
    }

    @Test func aLongQuestionIsWrappedAtSeventyTwoColumnsAsInTheREPL() async throws {
        let server = try await TestServer.start()
        let c = try await RawClient.connect(port: server.port)
        try await c.send("en")
        var seen = 0
        let reply = try #require(await c.reply(after: &seen))
        let lines = reply.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in lines { #expect(TextWidth.of(line) <= 72, "over 72 columns: \(line)") }
        // The question (81 columns) is on two lines, its words whole.
        let question = project.catalog.text("consent.consent_record", "en")
        #expect(TextWidth.of(question) > 72)
        let start = try #require(lines.firstIndex { question.hasPrefix($0) && !$0.isEmpty }, "\(lines)")
        #expect(lines[start] + " " + lines[start + 1] == question)
        // Its help, indented, goes on under its first word.
        let help = project.catalog.text("consent.consent_record.help", "en")
        let helpStart = try #require(lines.firstIndex { $0.hasPrefix("  ") && help.hasPrefix($0.dropFirst(2)) }, "\(lines)")
        #expect(lines[helpStart + 1].hasPrefix("  ") && !lines[helpStart + 1].hasPrefix("   "))
        #expect((lines[helpStart...].prefix { $0.hasPrefix("  ") && !$0.hasPrefix("  1.") }).map { $0.dropFirst(2) }.joined(separator: " ") == help)
        // The resume number is never cut.
        let token = try #require(reply.firstMatch(of: /[0-9A-Z]{4}(-[0-9A-Z]{1,4}){6}/)?.output.0)
        #expect(lines.contains { $0.contains(token) })
        try await server.stop()
    }

    @Test func aWholeIntakeInPlainTextStaysWithinSeventyTwoColumns() async throws {
        let server = try await TestServer.start()
        let c = try await RawClient.connect(port: server.port)
        try await c.send("ja")
        for step in personaSteps { try await c.send(step.line) }
        #expect(await c.waitClosed(timeout: .seconds(60)))
        let text = c.text
        #expect(text.contains("受付が終わりました（完了）"))
        for line in text.split(separator: "\n") { #expect(TextWidth.of(line) <= 72, "over 72 columns: \(line)") }
        try await server.stop()
    }

    @Test func intakeServeGreetsAfterItsFlagAndNeverWithZero() async throws {
        // `--greet-after 0.3` (the helper passes 0 first: the later one counts).
        let (p, port, _, _) = try await ServeCommandTests.serve(db: tempDatabase(), ["--greet-after", "0.3"])
        defer { kill(p.processIdentifier, SIGKILL) }
        let c = try await RawClient.connect(port: port)
        let greeting = try #require(await c.text(until: { $0.hasSuffix("> ") }, timeout: .seconds(30)))
        for mark in Self.greetingMarks { #expect(greeting.contains(mark)) }
        // `--greet-after 0`: a silent connection is told nothing.
        let (q, port0, _, _) = try await ServeCommandTests.serve(db: tempDatabase())
        defer { kill(q.processIdentifier, SIGKILL) }
        let d = try await RawClient.connect(port: port0)
        try await Task.sleep(for: .milliseconds(2500))
        #expect(d.text.isEmpty)
    }

    /// The timer in the pipeline, on an embedded loop (its own clock): `.greet` exactly once,
    /// `greetAfter` after the connection opened, unless a byte was read by then.
    @Test func theGreetingFrameComesOnceAfterSilenceAndNeverAfterAByte() throws {
        func frames(_ channel: EmbeddedChannel) throws -> [String] {
            var out: [String] = []
            while let f = try channel.readInbound(as: KioskFrame.self) {
                switch f {
                case .greet: out.append("greet")
                case .line: out.append("line")
                default: out.append("other")
                }
            }
            return out
        }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 7070)
        // Silent: nothing before 1.5 s, the greeting at 1.5 s, nothing more after.
        let silent = EmbeddedChannel(handler: KioskEventHandler(writeTimeout: .seconds(30), greetAfter: .milliseconds(1500)))
        try silent.connect(to: address).wait()
        silent.embeddedEventLoop.advanceTime(by: .milliseconds(1499))
        #expect(try frames(silent).isEmpty)
        silent.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try frames(silent) == ["greet"])
        silent.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try frames(silent).isEmpty)
        // A line first: never greeted.
        let speaker = EmbeddedChannel(handler: KioskEventHandler(writeTimeout: .seconds(30), greetAfter: .milliseconds(1500)))
        try speaker.connect(to: address).wait()
        speaker.embeddedEventLoop.advanceTime(by: .milliseconds(1400))
        try speaker.writeInbound(KioskFrame.line(ByteBuffer(string: #"{"op":"start"}"#)))
        speaker.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(try frames(speaker) == ["line"])
        // Half a line (bytes read, no frame yet): not greeted either.
        let typing = EmbeddedChannel(handler: KioskEventHandler(writeTimeout: .seconds(30), greetAfter: .milliseconds(1500)))
        try typing.connect(to: address).wait()
        typing.pipeline.fireChannelReadComplete()
        typing.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(try frames(typing).isEmpty)
        // nil: never.
        let never = EmbeddedChannel(handler: KioskEventHandler(writeTimeout: .seconds(30), greetAfter: nil))
        try never.connect(to: address).wait()
        never.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(try frames(never).isEmpty)
    }

    @Test func plainTextLinesWrapWithTheREPLsHangingIndents() {
        #expect(PlainText.wrap("short line") == ["short line"])
        let choice = "  3. " + String(repeating: "word ", count: 20)
        let wrapped = PlainText.wrap(choice)
        #expect(wrapped.count == 2)
        #expect(wrapped[1].hasPrefix("     w"))
        let error = "! " + String(repeating: "とても長い説明です。", count: 5)
        #expect(PlainText.wrap(error).dropFirst().allSatisfy { $0.hasPrefix("  ") && !$0.hasPrefix("   ") })
        #expect(PlainText.hanging("    12. q → a") == "        ")
        #expect(PlainText.hanging("・やめる") == "  ")
    }

    @Test func aPromptIsWrittenAfterTheLinesWithoutANewline() {
        let json = [#"{"type":"notice"}"#]
        #expect(String(buffer: Connection.bytes(json)) == json[0] + "\n")
        #expect(String(buffer: Connection.bytes(["質問です。", "  1. はい"], prompt: "> ")) == "質問です。\n  1. はい\n> ")
    }
}

/// A raw TCP client: what was received so far, byte for byte (a prompt has no newline after it).
final class RawClient: Sendable {
    let channel: any Channel
    private let received: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

    /// `saying`: a first line sent the moment the connection is up (on its event loop).
    static func connect(port: Int, saying first: String? = nil) async throws -> RawClient {
        let received = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(received, first: first)) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawClient(channel: channel, received: received)
    }

    private init(channel: any Channel, received: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
        self.channel = channel
        self.received = received
    }

    var text: String { String(decoding: received.withLockedValue { $0.bytes }, as: UTF8.self) }

    func send(_ line: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: line + "\n")).get()
    }

    func send(bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    var bytes: [UInt8] { received.withLockedValue { $0.bytes } }
    var isClosed: Bool { received.withLockedValue { $0.closed } }

    /// What arrived after the first `after` bytes once it satisfies `condition` (nil: timed out).
    func text(until condition: (String) -> Bool, timeout: Duration, after: Int = 0) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let bytes = received.withLockedValue { $0.bytes }
            let text = String(decoding: bytes.dropFirst(after), as: UTF8.self)
            if condition(text) { return text }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// The next reply of a plain-text connection: what arrived after `seen` bytes, up to its
    /// prompt; `seen` moves past it.
    func reply(after seen: inout Int, timeout: Duration = .seconds(30)) async -> String? {
        guard let r = await text(until: { $0.hasSuffix("> ") }, timeout: timeout, after: seen) else { return nil }
        seen += r.utf8.count
        return r
    }

    func waitClosed(timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if received.withLockedValue({ $0.closed }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>
        let first: String?

        init(_ received: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>, first: String?) {
            self.received = received
            self.first = first
        }

        func channelActive(context: ChannelHandlerContext) {
            if let first { context.writeAndFlush(NIOAny(ByteBuffer(string: first + "\n")), promise: nil) }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLockedValue { $0.bytes += buffer.readableBytesView }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.withLockedValue { $0.closed = true }
            context.fireChannelInactive()
        }
    }
}
