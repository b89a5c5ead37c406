// Load generator for the kiosk line service: `swift run -c release IntakeLoad --help`.
//
// For each C, two phases in the same run, on the same machine and event loops:
//   kiosk — C concurrent JSON-lines sessions against a kiosk server (started in this process on a
//           fresh database, or --connect HOST:PORT), each answering a real dialog as a client would
//           (typed text), every answer durable before its reply; a finished session reconnects and
//           starts the next one;
//   websocket — the same kiosk sessions over the page's WebSocket (`intake serve --http`), one JSON
//           message per frame (in-process server only);
//   kiosk pg ×N — with --postgres: the same kiosk sessions against N `intake serve` processes (the
//           release binary beside this one) on one scratch PostgreSQL database, the C clients spread
//           over the instances (client i on instance i mod N);
//   echo  — C connections to a tiny NIO line echo server using the same framing (KioskLineDecoder),
//           each sending a line and waiting for it back: the physical baseline.
// A turn is one client line and the server's reply up to where the session stands (the next
// question, the final review, or done). Prints turns/s and turn latency p50/p99 per phase.
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import IntakeServer
import IntakeStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import PostgresNIO

struct Options {
    var sessions = [1, 100, 1000]
    var seconds = 5.0
    var dialog = "followup"
    var connect: (host: String, port: Int)?
    var db: String?
    var dialogs = "Dialogs"
    /// Run only this phase, e.g. under a profiler.
    var only: Phase?
    /// Run the servers' connection tasks on their event loops instead of Swift's global executor (kiosk and echo).
    var onLoop = false
    /// Offered turns per second over all sessions (open loop); nil: each session sends its next line
    /// as soon as the reply came (closed loop, the default).
    var rate: Double?
    /// A PostgreSQL URL whose user may create databases: the kiosk pg phases run on a scratch
    /// database beside it (dropped at the end).
    var postgres: String?
    /// How many `intake serve` instances the kiosk pg phases run (each count its own phase).
    var instances = [1, 2]
    /// The serve instances connect as a kiosk login (a member of intake_kiosk only): the roles and
    /// row-level security are in force, as in an office that follows README.
    var kioskRole = false
}

/// The help text; exits with `code` (2: the command line was wrong).
func usage(_ code: Int32 = 0) -> Never {
    print("""
    usage: IntakeLoad [--sessions 1,100,1000] [--seconds 5] [--dialog followup|intake] [--connect HOST:PORT]
                      [--db FILE] [--dialogs DIR] [--only PHASE] [--on-loop] [--rate TURNS_PER_SECOND]
                      [--postgres ADMIN_URL [--instances 1,2] [--kiosk-role]]
      --sessions  the values of C (concurrent sessions), each run in turn
      --seconds   how long each phase measures (after every connection is open)
      --dialog    the dialog each kiosk session answers (default followup)
      --connect   an `intake serve` already running (default: a server in this process, fresh database)
      --db        the database of the in-process server (default: a new file in the temporary folder);
                  never a real one: each run adds its test sessions (and the durable echo's) to it
      --only      kiosk|websocket|pg1|pg2|durable|echo: run only that phase (for profiling one of them)
      --on-loop   run each server connection's task on its event loop, not Swift's global executor
      --rate      offer this many turns per second over all C sessions (open loop: each session sends
                  at random gaps, a Poisson stream, and a turn's latency counts from when it was due,
                  so a server that falls behind is charged for the wait); default: closed loop, each
                  session's next line as soon as the reply came
      --postgres  also run the kiosk sessions on PostgreSQL: a scratch database beside the one this URL
                  names (its user needs CREATEDB; the password from PGPASSWORD or PGPASSFILE), with
                  `intake serve` processes (the binary beside this one: build it with the same -c) on it
      --instances 1, 2 or 1,2 (default): a kiosk pg phase with that many serve instances each
      --kiosk-role the serve instances connect as a login made for the run, a member of intake_kiosk
                  only (the admin URL's user needs CREATEROLE), so that row-level security is in force
    """)
    exit(code)
}

func parseOptions() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        switch a {
        case "--help", "-h": usage()
        case "--sessions": o.sessions = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
        case "--seconds": o.seconds = Double(args.popFirst() ?? "") ?? o.seconds
        case "--dialog": o.dialog = args.popFirst() ?? o.dialog
        case "--db": o.db = args.popFirst()
        case "--dialogs": o.dialogs = args.popFirst() ?? o.dialogs
        case "--only":
            guard let only = args.popFirst().flatMap(Phase.init(rawValue:)) else { usage(2) }
            o.only = only
        case "--on-loop": o.onLoop = true
        case "--rate": o.rate = Double(args.popFirst() ?? "").flatMap { $0 > 0 ? $0 : nil }
        case "--postgres":
            guard let url = args.popFirst() else { usage(2) }
            o.postgres = url
        case "--kiosk-role": o.kioskRole = true
        case "--instances":
            let counts = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
            guard !counts.isEmpty, counts.allSatisfy({ $0 == 1 || $0 == 2 }) else { usage(2) }
            o.instances = counts
        case "--connect":
            let parts = (args.popFirst() ?? "").split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { usage(2) }
            o.connect = (String(parts[0]), port)
        default:
            FileHandle.standardError.write(Data("unknown option \(a)\n".utf8))
            exit(2)
        }
    }
    return o
}

/// What one phase measured.
struct PhaseResult {
    var turns = 0
    var errors = 0
    var latencies: [Int] = []   // nanoseconds
    /// The latencies of session starts alone (also in `latencies`): a start counts the address's
    /// start limit and creates the session's row before its reply.
    var startLatencies: [Int] = []
    /// The latencies of every other turn (also in `latencies`).
    var otherLatencies: [Int] = []
    /// What the phase's sampler counted over the measured window (end minus start), e.g. other
    /// processes' CPU seconds and the database's counters.
    var sampled: [Double] = []
    var elapsed = 0.0
    var sessionsDone = 0
    /// CPU seconds the process used during the measured window.
    var cpu = 0.0

    /// CPU microseconds per completed turn.
    var cpuPerTurn: Double { turns > 0 ? cpu * 1e6 / Double(turns) : .nan }

    mutating func merge(_ o: PhaseResult) {
        turns += o.turns
        errors += o.errors
        latencies += o.latencies
        startLatencies += o.startLatencies
        otherLatencies += o.otherLatencies
        sessionsDone += o.sessionsDone
    }

    var perSecond: Double { elapsed > 0 ? Double(turns) / elapsed : 0 }

    func percentile(_ p: Double) -> Double { Self.percentile(p, of: latencies) }

    static func percentile(_ p: Double, of latencies: [Int]) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let sorted = latencies.sorted()
        let i = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        return Double(sorted[max(0, i)]) / 1e6
    }

    /// "starts p50/p99 (n); other turns p50/p99" for the kiosk phases.
    var byKind: String? {
        guard !startLatencies.isEmpty else { return nil }
        let others = otherLatencies
        return "starts p50 \(fmt(Self.percentile(0.5, of: startLatencies), 2)) / p99 \(fmt(Self.percentile(0.99, of: startLatencies), 2)) ms "
            + "(\(startLatencies.count) of \(latencies.count) turns); other turns p50 \(fmt(Self.percentile(0.5, of: others), 2)) / "
            + "p99 \(fmt(Self.percentile(0.99, of: others), 2)) ms"
    }
}

/// What a run measures, in this order for each C.
enum Phase: String, CaseIterable {
    /// The kiosk server: every answer durable before its reply.
    case kiosk
    /// The same, over the page's WebSocket.
    case websocket
    /// The kiosk on PostgreSQL, one `intake serve` process.
    case pg1
    /// The kiosk on PostgreSQL, two `intake serve` processes on the same database.
    case pg2
    /// A line echoed once it is committed to the same store (no engine, no JSON).
    case durable
    /// A line echoed (the physical baseline).
    case echo

    var label: String {
        switch self {
        case .durable: return "durable echo"
        case .websocket: return "kiosk ws"
        case .pg1: return "kiosk pg ×1"
        case .pg2: return "kiosk pg ×2"
        default: return rawValue
        }
    }
}

typealias Client = NIOAsyncChannel<KioskFrame, ByteBuffer>

/// `address` is resolved once, before the run: a client that looked its server's name up for every
/// session would spend the event loops' time in the resolver.
func connectClient(to address: SocketAddress) async throws -> Client {
    try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .connect(to: address) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KioskLineDecoder(maximumLength: 1 << 20)))
                return try Client(wrappingChannelSynchronously: channel)
            }
        }
}

/// A client on the page's WebSocket, framed as a browser frames it (one masked text frame per
/// message), seen by the session script as the same lines as on the line port.
func connectWebSocketClient(to address: SocketAddress) async throws -> Client {
    enum Upgrade: Sendable { case upgraded(Client), refused }
    let host = "\(address.ipAddress ?? "127.0.0.1"):\(address.port ?? 0)"
    let negotiated: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .connect(to: address) { channel in
            channel.eventLoop.makeCompletedFuture {
                let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: 1 << 22, upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(BrowserFraming())
                        return .upgraded(try Client(wrappingChannelSynchronously: channel))
                    }
                })
                let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws",
                                           headers: HTTPHeaders([("Host", host), ("Origin", "http://" + host)]))
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                    configuration: .init(upgradeConfiguration: .init(upgradeRequestHead: head, upgraders: [upgrader],
                                                                     notUpgradingCompletionHandler: { channel in
                                                                         channel.eventLoop.makeSucceededFuture(.refused)
                                                                     })))
            }
        }
    guard case .upgraded(let client) = try await negotiated.get() else { throw ChannelError.inappropriateOperationForState }
    return client
}

/// Text frames in → lines; lines out → one masked text frame each.
final class BrowserFraming: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = KioskFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text: context.fireChannelRead(wrapInboundOut(.line(frame.unmaskedData)))
        case .connectionClose: context.close(promise: nil)
        default: break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var buffer = unwrapOutboundIn(data)
        if buffer.readableBytesView.last == UInt8(ascii: "\n") { buffer.moveWriterIndex(to: buffer.writerIndex - 1) }
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: promise)
    }
}

@available(*, unavailable)
extension BrowserFraming: Sendable {}

/// When a session's turns are due. Closed loop (no rate): a turn is due when the previous reply
/// came. Open loop: each session's turns are due at random (exponential) gaps averaging C / rate, so
/// the C sessions together offer `rate` turns per second as independent people would (a Poisson
/// stream; sessions that started together drift apart instead of reaching the same question at the
/// same moment). A late turn is sent at once and its latency still counts from when it was due, so
/// a server that falls behind is charged for the wait. The gaps come from a generator seeded by the
/// session's index: runs offer the same schedule.
struct Pacer {
    let meanGap: Double?
    var next: ContinuousClock.Instant
    var seed: UInt64

    init(rate: Double?, index: Int, count: Int, start: ContinuousClock.Instant) {
        seed = 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1)
        next = start
        meanGap = rate.map { Double(count) / $0 }
        if meanGap != nil { next = start + .seconds(gap()) }
    }

    /// An exponential gap in seconds (SplitMix64 for the uniform draw).
    mutating func gap() -> Double {
        guard let meanGap else { return 0 }
        seed &+= 0x9E37_79B9_7F4A_7C15
        var z = seed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = (Double(z >> 11) + 0.5) / Double(1 << 53)   // in (0, 1)
        return -log(u) * meanGap
    }

    /// Waits for the next turn's slot; returns the instant its latency counts from.
    mutating func due() async -> ContinuousClock.Instant {
        guard meanGap != nil else { return ContinuousClock.now }
        let slot = next
        next = slot + .seconds(gap())
        await sleep(until: slot)
        return slot
    }
}

/// Waits until `instant` (all tasks start measuring together).
func sleep(until instant: ContinuousClock.Instant) async {
    let now = ContinuousClock.now
    if instant > now { try? await Task.sleep(for: instant - now) }
}

func nanos(_ d: Duration) -> Int {
    Int(d.components.seconds) * 1_000_000_000 + Int(d.components.attoseconds / 1_000_000_000)
}

// MARK: - The kiosk client: answers whatever is asked, as a person would type it.

/// Where the session stands after a reply.
enum Standing {
    /// `refused`: the last answer was invalid and this is the same question again.
    case question(id: String, kind: String, min: String?, max: String?, refused: Bool)
    case review
    case done
    case warning
    case error
    case closed
}

/// Reads lines up to the one saying where the session stands (the type is the first member, so a
/// prefix tells it; only questions are parsed).
func readStanding(_ it: inout NIOAsyncChannelInboundStream<KioskFrame>.AsyncIterator) async throws -> Standing {
    var sawWarning = false, sawInvalid = false
    while let frame = try await it.next() {
        guard case .line(let buffer) = frame else { continue }
        let text = String(buffer: buffer)
        if text.hasPrefix("{\"type\":\"question\"") {
            // A soft check warned: the answer waits for a confirmation.
            if sawWarning { return .warning }
            guard let o = try? JSON(parsing: text) else { return .error }
            func member(_ key: String) -> String? { if case .string(let s)? = o[key] { s } else { nil } }
            return .question(id: member("question") ?? "", kind: member("kind") ?? "text",
                             min: member("min"), max: member("max"), refused: sawInvalid)
        }
        if text.hasPrefix("{\"type\":\"review\"") {
            if text.contains("\"final\":true") { return sawWarning ? .warning : .review }
            continue
        }
        if text.hasPrefix("{\"type\":\"done\"") { return .done }
        if text.hasPrefix("{\"type\":\"warning\"") { sawWarning = true; continue }
        if text.hasPrefix("{\"type\":\"invalid\"") { sawInvalid = true; continue }
        if text.hasPrefix("{\"type\":\"error\"") { return .error }
        if text.hasPrefix("{\"type\":\"bye\"") { return .closed }
    }
    return .closed
}

/// Answers a person in the personas would give where a generic one would not do.
let typical: [String: String] = [
    "hours_from": "9", "hours_to": "17", "days_per_week": "5", "desired_pay": "200000", "lifework": "3",
    "commute_minutes": "30", "children_count": "1", "age": "4", "years_since_job": "3", "birth_date": "平成6年7月15日",
    "job_from": "平成28年4月", "job_to": "令和3年5月",
]

/// The line a client types for a question (attempt 0), or a fallback after it was refused.
func answerLine(kind: String, id: String, min: String?, max: String?, attempt: Int) -> String {
    if attempt >= 2 { return attempt == 2 ? "{\"op\":\"skip\"}" : "{\"op\":\"decline\"}" }
    let base = id.split(separator: ".").last.map(String.init) ?? id
    if attempt == 0, let t = typical[base] {
        return "{\"op\":\"answer\",\"question\":\"\(id)\",\"text\":\"\(t)\"}"
    }
    let text: String
    switch kind {
    case "yesno": text = id.hasSuffix("+") || attempt == 1 ? "いいえ" : "はい"   // no further repeat instances
    case "choice", "multi": text = "1"
    case "integer", "decimal": text = attempt == 0 ? (min ?? "1") : (max ?? "2")
    case "date": text = attempt == 0 ? "令和8年11月1日" : "2026-10-01"
    case "month": text = "2020-04"
    case "time": text = attempt == 0 ? "9" : "17時半"
    default: text = attempt == 0 ? "テスト入力" : "1"
    }
    return "{\"op\":\"answer\",\"question\":\"\(id)\",\"text\":\"\(text)\"}"
}

func kioskSession(address: SocketAddress, dialog: String, pacer: Pacer, start: ContinuousClock.Instant,
                  end: ContinuousClock.Instant, webSocket: Bool = false) async -> PhaseResult {
    var r = PhaseResult()
    var pacer = pacer
    var first = true
    while ContinuousClock.now < end {
        do {
            let client = webSocket ? try await connectWebSocketClient(to: address) : try await connectClient(to: address)
            try await client.executeThenClose { inbound, outbound in
                var it = inbound.makeAsyncIterator()
                if first {
                    first = false
                    await sleep(until: start)
                }
                func turn(_ line: String, starts: Bool = false) async throws -> Standing {
                    let t0 = await pacer.due()
                    try await outbound.write(ByteBuffer(string: line + "\n"))
                    let s = try await readStanding(&it)
                    if trace { print("> \(line)\n< \(s)") }
                    let t1 = ContinuousClock.now
                    if t1 <= end && t0 >= start {
                        r.turns += 1
                        r.latencies.append(nanos(t1 - t0))
                        if starts { r.startLatencies.append(nanos(t1 - t0)) } else { r.otherLatencies.append(nanos(t1 - t0)) }
                    }
                    return s
                }
                var standing = try await turn("{\"op\":\"start\",\"dialog\":\"\(dialog)\",\"locale\":\"ja\"}", starts: true)
                var attempt = 0
                while ContinuousClock.now < end {
                    switch standing {
                    case .question(let id, let kind, let min, let max, let refused):
                        attempt = refused ? attempt + 1 : 0
                        if attempt > 3 { r.errors += 1; return }
                        standing = try await turn(answerLine(kind: kind, id: id, min: min, max: max, attempt: attempt))
                    case .warning:
                        standing = try await turn("{\"op\":\"confirm\"}")
                    case .review:
                        standing = try await turn("{\"op\":\"finish\"}")
                    case .done:
                        r.sessionsDone += 1
                        return
                    case .error, .closed:
                        r.errors += 1
                        return
                    }
                }
                // Time is up mid-session: leave it suspended, as a client walking away would.
                try await outbound.write(ByteBuffer(string: "{\"op\":\"quit\"}\n"))
            }
        } catch {
            if ContinuousClock.now < end { r.errors += 1 }
        }
    }
    return r
}

// MARK: - The echo baseline

func startEchoServer() async throws -> (NIOAsyncChannel<Client, Never>, Int) {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 4096)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KioskLineDecoder(maximumLength: 8192)))
                return try Client(wrappingChannelSynchronously: channel)
            }
        }
    return (server, server.channel.localAddress?.port ?? 0)
}

/// Runs `handle` for every connection the server accepts, each in its own task (on the
/// connection's event loop with `onLoop`, as the kiosk server's with --on-loop).
func serveConnections(_ server: NIOAsyncChannel<Client, Never>, onLoop: Bool,
                      _ handle: @escaping @Sendable (Client) async throws -> Void) async {
    await withDiscardingTaskGroup { group in
        try? await server.executeThenClose { inbound in
            for try await connection in inbound {
                let executor: (any TaskExecutor)? = onLoop ? EventLoopTaskExecutor(connection.channel.eventLoop) : nil
                group.addTask(executorPreference: executor) { try? await handle(connection) }
            }
        }
    }
}

/// The echo: each line written back.
func serveEcho(_ server: NIOAsyncChannel<Client, Never>, onLoop: Bool) async {
    await serveConnections(server, onLoop: onLoop) { connection in
        try await connection.executeThenClose { inbound, outbound in
            for try await frame in inbound {
                guard case .line(var line) = frame else { continue }
                line.writeString("\n")
                try await outbound.write(line)
            }
        }
    }
}

/// The durable echo: the echo server, but each line is first appended to a session's log in the same
/// store, through the same commit thread (group commit, `synchronous = FULL`), and echoed only once it
/// is on disk — a line server with durable answers and no engine, no JSON and no rendering: what
/// "every answer durable before its reply" costs on this machine by itself.
func serveDurableEcho(_ server: NIOAsyncChannel<Client, Never>, store: IntakeDatabase, onLoop: Bool) async {
    await serveConnections(server, onLoop: onLoop) { connection in
        let id = UUID().uuidString
        // Times in Japan (UTC+9): what they say does not matter here, only that they are written.
        func now() -> Moment { Moment(epochMillis: Int64(Date().timeIntervalSince1970 * 1000), utcOffsetMinutes: 540) }
        let opened = now()
        let info = SessionInfo(id: id, dialogID: "echo", dialogVersion: "1", mode: .kiosk, locale: "ja",
                               status: .inProgress, startedAt: opened.epochMillis, updatedAt: opened.epochMillis)
        var seq = 0
        try await connection.executeThenClose { inbound, outbound in
            try await store.createDurably(info, first: LogEntry(seq: seq, at: opened, actor: .client,
                                                                event: .start(dialog: "echo", version: "1", locale: "ja", mode: .kiosk)),
                                          token: ResumeToken.random())
            for try await frame in inbound {
                guard case .line(var line) = frame else { continue }
                seq += 1
                let at = now()
                let entry = LogEntry(seq: seq, at: at, actor: .client, event: .input(.answer(String(buffer: line))))
                try await store.appendDurably([entry], to: id, status: .inProgress, locale: "ja", record: nil, at: at.epochMillis)
                line.writeString("\n")
                try await outbound.write(line)
            }
        }
    }
}

func echoSession(port: Int, pacer: Pacer, start: ContinuousClock.Instant, end: ContinuousClock.Instant) async -> PhaseResult {
    var r = PhaseResult()
    var pacer = pacer
    do {
        let client = try await connectClient(to: try SocketAddress(ipAddress: "127.0.0.1", port: port))
        try await client.executeThenClose { inbound, outbound in
            var it = inbound.makeAsyncIterator()
            await sleep(until: start)
            let line = ByteBuffer(string: "{\"op\":\"answer\",\"question\":\"days_per_week\",\"text\":\"5\"}\n")
            while ContinuousClock.now < end {
                let t0 = await pacer.due()
                try await outbound.write(line)
                guard case .line? = try await it.next() else { r.errors += 1; return }
                let t1 = ContinuousClock.now
                if t1 <= end && t0 >= start {
                    r.turns += 1
                    r.latencies.append(nanos(t1 - t0))
                }
            }
        }
    } catch {
        r.errors += 1
    }
    return r
}

// MARK: - Running the phases

/// One phase at C sessions: each runs `body` with its own pacer, all measuring the same window.
/// `sample` is read when the window opens and when it closes (the differences land in `sampled`).
func measure(_ c: Int, seconds: Double, rate: Double?, sample: @escaping @Sendable () async -> [Double] = { [] },
           _ body: @escaping @Sendable (Int, Pacer, ContinuousClock.Instant, ContinuousClock.Instant) async -> PhaseResult) async -> PhaseResult {
    // Time to open every connection first (they are opened concurrently), then measure.
    let start = ContinuousClock.now + .milliseconds(500 + c * 3)
    let end = start + .milliseconds(Int(seconds * 1000))
    var total = PhaseResult()
    // The process's CPU time (user + system) over the measured window: clients, server and
    // kernel work of this process together, a steadier figure on a shared machine than turns/s.
    let cpu = Task {
        await sleep(until: start)
        let before = processCPUSeconds()
        let sampledBefore = await sample()
        await sleep(until: end)
        let after = processCPUSeconds()
        let sampledAfter = await sample()
        return (after - before, zip(sampledAfter, sampledBefore).map { $0 - $1 })
    }
    await withTaskGroup(of: PhaseResult.self) { group in
        for i in 0..<c {
            let pacer = Pacer(rate: rate, index: i, count: c, start: start)
            group.addTask { await body(i, pacer, start, end) }
        }
        for await r in group { total.merge(r) }
    }
    total.elapsed = seconds
    (total.cpu, total.sampled) = await cpu.value
    return total
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func fmt(_ x: Double, _ digits: Int = 1) -> String {
    x.isNaN ? "—" : String(format: "%.\(digits)f", x)
}

let options = parseOptions()
/// INTAKE_LOAD_TRACE=1: every turn printed (for checking the script against a dialog).
let trace = ProcessInfo.processInfo.environment["INTAKE_LOAD_TRACE"] != nil
var logger = Logger(label: "intake.serve", factory: { _ in SwiftLogNoOpLogHandler() })

var target: (host: String, port: Int)
var store: IntakeDatabase?
var kiosk: KioskServer?
var kioskTask: Task<Void, any Error>?
var httpTarget: Int?
if let connect = options.connect {
    target = connect
} else {
    let project = Project.load(paths: [options.dialogs])
    let errors = project.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty else {
        FileHandle.standardError.write(Data("the dialogs have \(errors.count) errors (run intake lint)\n".utf8))
        exit(1)
    }
    let path = options.db ?? FileManager.default.temporaryDirectory.appendingPathComponent("intake-load-\(UUID().uuidString).sqlite").path
    let db = try IntakeDatabase.open(path: path)
    store = db
    var config = ServerConfiguration()
    config.port = 0
    config.dialog = options.dialog
    config.maxConnections = 100_000
    // Every simulated kiosk comes from 127.0.0.1: the per-address limits would measure themselves.
    config.maxConnectionsPerAddress = 100_000
    config.maxStartsPerAddress = Int.max
    config.maxInputBytesPerAddress = Int.max
    config.turnsOnEventLoop = options.onLoop
    if let folder = KioskPage.defaultDirectory() {
        var http = HTTPConfiguration(page: try KioskPage(directory: folder, catalog: project.catalog, settings: .init()))
        http.port = 0
        config.http = http
    }
    let server = try KioskServer(project: project, store: db.store, configuration: config, logger: logger)
    kiosk = server
    let (stream, continuation) = AsyncStream<Int>.makeStream()
    let (httpStream, httpContinuation) = AsyncStream<Int>.makeStream()
    let withHTTP = config.http != nil
    kioskTask = Task {
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
    if withHTTP { for await p in httpStream { httpTarget = p } }
    target = ("127.0.0.1", port)
    print("kiosk server in this process on port \(port), database \(path) (WAL, synchronous = FULL)")
}
let (echoServer, echoPort) = try await startEchoServer()
let echoTask = Task { await serveEcho(echoServer, onLoop: options.onLoop) }
// The durable echo writes to the in-process server's store (not available with --connect).
let durableEcho = store == nil ? nil : try await startEchoServer()
let durableTask = Task {
    if let (server, _) = durableEcho, let store { await serveDurableEcho(server, store: store, onLoop: options.onLoop) }
}

// The kiosk on PostgreSQL: a scratch database, and `intake serve` processes on it (their logs in a
// folder of the run's own, removed at the end: the table is the result, the logs are for a crash).
var postgresRun: PostgresRun?
var serveLogFolder = FileManager.default.temporaryDirectory
/// With --kiosk-role, the login the instances use (dropped at the end, after its database).
var kioskLogin: String?
var serveProcesses: [Process] = []
if let admin = options.postgres {
    let binary = (Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("intake").path) ?? "intake"
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        FileHandle.standardError.write(Data("no intake binary beside IntakeLoad (\(binary)): build it with the same -c first\n".utf8))
        exit(1)
    }
    let database = try await PostgresScratch.create(admin: admin)
    serveLogFolder = FileManager.default.temporaryDirectory.appendingPathComponent("intake-load-\(database.name)")
    try? FileManager.default.createDirectory(at: serveLogFolder, withIntermediateDirectories: true)
    var addresses: [SocketAddress] = []
    var pids: [Int32] = []
    var serveURL = database.url, serveEnvironment: [String: String] = [:]
    if options.kioskRole {
        // Migrated by its owner first (a kiosk login may not change the schema), then a login of the run's own.
        kioskLogin = "load_kiosk_" + UUID().uuidString.prefix(8).lowercased()
        let password = UUID().uuidString
        let owner = try await database.open()
        _ = try await database.sql("CREATE ROLE \(kioskLogin ?? "") LOGIN PASSWORD '\(password)'")
        try await owner.grant(.kiosk, to: kioskLogin ?? "", office: nil, at: Int64(Date().timeIntervalSince1970 * 1000))
        await owner.close()
        var components = URLComponents(string: database.url)
        components?.user = kioskLogin
        serveURL = components?.string ?? database.url
        serveEnvironment = ["PGPASSWORD": password]
        print("intake serve instances connect as the kiosk login \(kioskLogin ?? "") (a member of intake_kiosk only)")
    }
    for i in 0..<(options.instances.max() ?? 1) {
        let log = serveLogFolder.appendingPathComponent("serve-\(i + 1).log").path
        let (process, address) = try launchServe(binary: binary, url: serveURL, dialog: options.dialog, dialogs: options.dialogs, log: log,
                                                 environment: serveEnvironment)
        serveProcesses.append(process)
        addresses.append(address)
        pids.append(process.processIdentifier)
        print("intake serve \(i + 1) (pid \(process.processIdentifier)) on \(address), log \(log)")
    }
    let statements = (try? await database.sql("SELECT count(*) FROM pg_stat_statements")) != nil
    let postmaster = await findPostmaster(database)
    postgresRun = PostgresRun(database: database, addresses: addresses, servePIDs: pids, postmaster: postmaster, statements: statements)
    print("PostgreSQL: scratch database \(database.name) (synchronous_commit on), postmaster "
          + (postmaster.map { "pid \($0)" } ?? "not on this machine (its CPU not counted)")
          + (statements ? ", pg_stat_statements on" : ", no pg_stat_statements (statements per turn not counted)"))
}

print("dialog \(options.dialog), \(options.seconds) s per phase, \(ProcessInfo.processInfo.activeProcessorCount) cores, "
      + (options.rate.map { "open loop: \(fmt($0, 0)) turns/s offered over the C sessions" } ?? "closed loop"))
print("""
phases: kiosk = the kiosk server, every answer durable before its reply; kiosk ws = the same over the
page's WebSocket (one JSON message per frame); kiosk pg ×N = the kiosk on PostgreSQL, N intake serve
processes (CPU µs/turn there: clients, serve processes and PostgreSQL together; writes/commit: turns
per write transaction); durable echo = a line echoed once it is committed to the same store (no
engine, no JSON); echo = a line echoed (the physical baseline).
""")
print("    C | phase        | turns/s | p50 ms | p99 ms | errors | sessions done | writes/commit | CPU µs/turn | of echo")
print("------|--------------|---------|--------|--------|--------|---------------|---------------|-------------|--------")
let address = try SocketAddress.makeAddressResolvingHost(target.host, port: target.port), dialog = options.dialog
let phases = Phase.allCases.filter { options.only == nil || options.only == $0 }
for c in options.sessions {
    var rows: [(phase: Phase, result: PhaseResult, batch: String)] = []
    for phase in phases {
        let before = store?.asyncCommitStats
        let result: PhaseResult
        switch phase {
        case .kiosk:
            result = await measure(c, seconds: options.seconds, rate: options.rate) { _, pacer, start, end in
                await kioskSession(address: address, dialog: dialog, pacer: pacer, start: start, end: end)
            }
        case .websocket:
            guard let httpTarget else { continue }
            let web = try SocketAddress(ipAddress: "127.0.0.1", port: httpTarget)
            result = await measure(c, seconds: options.seconds, rate: options.rate) { _, pacer, start, end in
                await kioskSession(address: web, dialog: dialog, pacer: pacer, start: start, end: end, webSocket: true)
            }
        case .pg1, .pg2:
            let n = phase == .pg1 ? 1 : 2
            guard let pg = postgresRun, options.instances.contains(n), pg.addresses.count >= n else { continue }
            let addresses = Array(pg.addresses.prefix(n))
            result = await measure(c, seconds: options.seconds, rate: options.rate, sample: { await pg.sample() }) { i, pacer, start, end in
                await kioskSession(address: addresses[i % n], dialog: dialog, pacer: pacer, start: start, end: end)
            }
        case .durable:
            guard let (_, durablePort) = durableEcho else { continue }
            result = await measure(c, seconds: options.seconds, rate: options.rate) { _, pacer, start, end in
                await echoSession(port: durablePort, pacer: pacer, start: start, end: end)
            }
        case .echo:
            result = await measure(c, seconds: options.seconds, rate: options.rate) { _, pacer, start, end in
                await echoSession(port: echoPort, pacer: pacer, start: start, end: end)
            }
        }
        // Let quitting sessions' suspensions land before the next phase runs.
        try await Task.sleep(for: .milliseconds(500))
        var batch = "—"
        if phase == .pg1 || phase == .pg2 {
            let transactions = result.sampled[PostgresRun.Sampled.transactions.rawValue]
            if transactions > 0 { batch = fmt(Double(result.turns) / transactions) }
        } else if phase != .echo, let before, let after = store?.asyncCommitStats, after.commits > before.commits {
            batch = fmt(Double(after.writes - before.writes) / Double(after.commits - before.commits))
        }
        rows.append((phase: phase, result: result, batch: batch))
    }
    let echo = rows.first { $0.phase == .echo }?.result
    var costs: [String] = []
    for (phase, r, batch) in rows {
        var cpuPerTurn = r.cpuPerTurn
        if phase == .pg1 || phase == .pg2, r.turns > 0 {
            func perTurn(_ s: PostgresRun.Sampled, _ scale: Double = 1e6) -> Double { r.sampled[s.rawValue] * scale / Double(r.turns) }
            let serve = perTurn(.serve1) + perTurn(.serve2), postgres = perTurn(.postgres)
            cpuPerTurn += serve + postgres
            let transactions = r.sampled[PostgresRun.Sampled.transactions.rawValue] / r.elapsed
            costs.append("\(String(repeating: " ", count: max(0, 5 - String(c).count)) + String(c)) | \(phase.label): CPU µs/turn "
                         + "clients \(fmt(r.cpuPerTurn, 0)), intake serve \(fmt(serve, 0)), postgres \(fmt(postgres, 0)); "
                         + "write transactions/s \(fmt(transactions, 0)); statements/turn \(fmt(perTurn(.statements, 1), 2)); "
                         + "statement execution µs/turn \(fmt(perTurn(.executionMillis, 1e3), 0)); WAL bytes/turn \(fmt(perTurn(.walBytes, 1), 0))")
        }
        // Open loop: every phase is offered the same turns, so only latency compares.
        let ofEcho = options.rate == nil ? echo.map { $0.perSecond > 0 ? fmt(r.perSecond / $0.perSecond, 2) : "—" } ?? "—" : "—"
        let cells = [
            String(repeating: " ", count: max(0, 5 - String(c).count)) + String(c),
            phase.label.padding(toLength: 12, withPad: " ", startingAt: 0),
            fmt(r.perSecond, 0), fmt(r.percentile(0.5), 2), fmt(r.percentile(0.99), 2), String(r.errors),
            phase == .kiosk || phase == .websocket || phase == .pg1 || phase == .pg2 ? String(r.sessionsDone) : "—", batch,
            fmt(cpuPerTurn, 0), ofEcho,
        ]
        print(cells.joined(separator: " | "))
        if let split = r.byKind { costs.append("\(String(repeating: " ", count: max(0, 5 - String(c).count)) + String(c)) | \(phase.label): \(split)") }
    }
    for line in costs { print(line) }
    fflush(nil)
}
kiosk?.shutdown()
_ = try? await kioskTask?.value
echoServer.channel.close(promise: nil)
if let (server, _) = durableEcho { server.channel.close(promise: nil) }
await echoTask.value
await durableTask.value
var instanceFailed = false
for process in serveProcesses {
    if !process.isRunning { instanceFailed = true }
    process.terminate()
    process.waitUntilExit()
}
await postgresRun?.database.drop()
if let login = kioskLogin, let admin = options.postgres {
    _ = try? await PostgresScratch.texts(admin, ["DROP ROLE IF EXISTS \(login)"])
}
if postgresRun != nil {
    if instanceFailed {
        print("an intake serve instance ended before the run did: its log is in \(serveLogFolder.path)")
    } else {
        try? FileManager.default.removeItem(at: serveLogFolder)
    }
}
