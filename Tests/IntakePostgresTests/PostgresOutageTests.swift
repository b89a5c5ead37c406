import Foundation
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A long outage of the database server, for one store only: the store connects through a relay
/// that can be cut (its connections closed, new ones closed as they come) and restored, while the
/// server itself keeps serving every other test.
///
/// postgres-nio's pool, after 60 s of failed connections, refuses every lease at once and tries the
/// server again only after its backoff (100 ms × 1.25 per failed attempt, about 10 s by then, up to
/// 60 s after a few minutes). The store puts such a pool aside for a fresh one as soon as a
/// connection of its own opens: the kiosks are served again within a second of the server's return.
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresOutageTests {
    @Test func afterAnOutageLongEnoughForThePoolToGiveUpTheStoreIsServedAsSoonAsTheServerIsBack() async throws {
        let db = try await PostgresTestDatabase.database()
        guard var components = URLComponents(string: db.url), let host = components.host, let port = components.port else {
            await db.drop()
            Issue.record("INTAKE_TEST_POSTGRES is not a host:port URL")
            return
        }
        let relay = try await Relay.start(to: host, port: port)
        components.port = relay.port
        let store: PostgresStore
        do {
            // The password the server's own port has (the password file names that port).
            let password = try PostgresTarget.resolve(url: db.url).password
            store = try await PostgresStore.open(url: components.string, environment: password.map { ["PGPASSWORD": $0] } ?? [:],
                                                 maximumConnections: 2)
        } catch {
            await relay.stop()
            await db.drop()
            throw error
        }
        let at: Int64 = 1_795_000_000_000
        @Sendable func create(_ id: String) async throws {
            let info = SessionInfo(id: id, clientID: nil, dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress,
                                   startedAt: at, updatedAt: at, office: "川越")
            let first = LogEntry(seq: 0, at: Moment(epochMillis: at, utcOffsetMinutes: 540), actor: .client,
                                 event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk))
            try await store.create(info, first: first, token: .random())
        }
        try await create("before")
        #expect(try await store.session("before")?.id == "before")

        // The outage, until both pools give up on the server (a minute of failed connections):
        // a read and a write are then refused at once.
        relay.cut()
        let cutAt = ContinuousClock.now
        @Sendable func untilRefusedAtOnce(_ attempt: @Sendable () async -> Bool) async -> Bool {
            while ContinuousClock.now - cutAt < .seconds(240) {
                let tried = ContinuousClock.now
                if await attempt() { return false }
                if ContinuousClock.now - cutAt > .seconds(60), ContinuousClock.now - tried < .seconds(1) { return true }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return false
        }
        async let readsRefused = untilRefusedAtOnce { (try? await store.session("before")) != nil }
        async let writesRefused = untilRefusedAtOnce { (try? await create("during")) != nil }
        let refused = await (readsRefused, writesRefused)
        #expect(refused == (true, true), "nothing is served while the server is away, and after a minute both pools refuse at once")

        relay.restore()
        let back = ContinuousClock.now
        var readBack: Duration?, wroteBack: Duration?
        while ContinuousClock.now - back < .seconds(90), readBack == nil || wroteBack == nil {
            if readBack == nil, (try? await store.session("before"))?.id == "before" { readBack = ContinuousClock.now - back }
            if wroteBack == nil, (try? await create("after")) != nil { wroteBack = ContinuousClock.now - back }
            try await Task.sleep(for: .milliseconds(100))
        }
        print("  after the outage (\(ContinuousClock.now - back) since the server was back): read served after \(readBack.map { "\($0)" } ?? "—"), write after \(wroteBack.map { "\($0)" } ?? "—")")
        let served = [readBack, wroteBack].compactMap { $0 }
        #expect(served.count == 2, "both reads and writes are served again")
        #expect(served.allSatisfy { $0 < .seconds(3) },
                "served again within seconds of the server's return, not after the pool's own backoff (read \(String(describing: readBack)), write \(String(describing: wroteBack)))")
        #expect(store.poolRenewals == 2, "both pools were put aside for fresh ones")
        #expect(try await store.session("after")?.id == "after")
        #expect(try await store.session("during") == nil, "the write refused during the outage was not stored")

        await store.close()
        await relay.stop()
        await db.drop()
    }
}

/// A TCP relay to a server, on one event loop, that can be cut and restored.
final class Relay: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let server: any Channel
    private let state = NIOLockedValueBox<(cut: Bool, open: [ObjectIdentifier: any Channel])>((false, [:]))
    var port: Int { server.localAddress?.port ?? 0 }

    private init(group: MultiThreadedEventLoopGroup, server: any Channel) {
        self.group = group
        self.server = server
    }

    static func start(to host: String, port: Int) async throws -> Relay {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = NIOLockedValueBox<Relay?>(nil)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard let relay = box.withLockedValue({ $0 }), relay.admit(inbound) else { return inbound.close() }
                let toServer = Pipe()
                let toClient = Pipe()
                return inbound.pipeline.addHandler(toServer).flatMap {
                    ClientBootstrap(group: group)
                        .channelInitializer { outbound in outbound.pipeline.addHandler(toClient) }
                        .connect(host: host, port: port)
                }.map { outbound in
                    _ = relay.admit(outbound)
                    toServer.connect(outbound)
                    toClient.connect(inbound)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let relay = Relay(group: group, server: server)
        box.withLockedValue { $0 = relay }
        return relay
    }

    /// Tracks a channel while the relay is not cut; false (to be closed) while it is.
    private func admit(_ channel: any Channel) -> Bool {
        let admitted = state.withLockedValue { s -> Bool in
            guard !s.cut else { return false }
            s.open[ObjectIdentifier(channel)] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [weak self] _ in
                _ = self?.state.withLockedValue { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return admitted
    }

    /// Every connection through the relay closed, and every new one closed as it comes.
    func cut() {
        let open = state.withLockedValue { s -> [any Channel] in
            s.cut = true
            return Array(s.open.values)
        }
        for c in open { c.close(promise: nil) }
    }

    func restore() {
        state.withLockedValue { $0.cut = false }
    }

    func stop() async {
        cut()
        try? await server.close()
        try? await group.shutdownGracefully()
    }

    /// What one side reads, written to the other; closing one side closes the other.
    private final class Pipe: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        // Touched only on the relay's one event loop.
        private var other: (any Channel)?
        private var waiting: [ByteBuffer] = []
        private var closed = false

        func connect(_ channel: any Channel) {
            other = channel
            if closed { channel.close(promise: nil) }
            for b in waiting { channel.write(b, promise: nil) }
            waiting = []
            channel.flush()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            if let other { other.writeAndFlush(bytes, promise: nil) } else { waiting.append(bytes) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed = true
            other?.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
