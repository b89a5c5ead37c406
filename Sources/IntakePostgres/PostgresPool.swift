import _ConnectionPoolModule
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// A postgres-nio pool that is put aside for a fresh one as soon as the database answers again
/// after the pool gave up on it.
///
/// postgres-nio 1.33.2's pool, once it has failed to connect for 60 s, refuses every lease at once
/// (its circuit breaker, `connectionCreationCircuitBreakerTripped`) and tries the server again
/// only after 100 ms × 1.25 per failed attempt, up to 60 s — and neither is configurable. After an
/// outage of a few minutes every kiosk of the instance was refused for up to a minute more once
/// the server was back. Here a lease refused by the breaker starts a probe of our own: a connection
/// every `probeInterval`; the first that opens puts a new pool in place for every lease after it.
/// The old pool had no connection when its breaker tripped (the breaker trips only then); it is
/// shut down after `retireAfter`, so that a lease it handed out meanwhile, on a retry of its own,
/// ends as it would have. Nothing is retried: a refused lease ran no work.
final class RenewingPool: Sendable {
    /// How often the probe tries the server while the pool refuses leases.
    static let probeInterval: Duration = .milliseconds(250)
    /// How long a replaced pool keeps running for the leases it handed out before it was replaced
    /// (a long read, an export, on a connection it opened on a retry of its own): it is given no
    /// lease after, and its idle connections close on their own.
    static let retireAfter: Duration = .seconds(300)

    private struct State {
        var client: PostgresClient
        var run: Task<Void, Never>
        /// The probe under way, and replaced pools still running out their leases.
        var background: [Task<Void, Never>] = []
        var probing = false
        var closed = false
        var renewals = 0
    }

    private let state: NIOLockedValueBox<State>
    private let configuration: PostgresClient.Configuration
    private let probe: PostgresConnection.Configuration
    private let logger: Logger
    private let label: String

    /// A pool that serves leases (its `run()` started before this returns).
    static func started(_ configuration: PostgresClient.Configuration, probe: PostgresConnection.Configuration,
                        label: String, logger: Logger) async -> RenewingPool {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let run = await launch(client)
        return RenewingPool(client: client, run: run, configuration: configuration, probe: probe, label: label, logger: logger)
    }

    private init(client: PostgresClient, run: Task<Void, Never>, configuration: PostgresClient.Configuration,
                 probe: PostgresConnection.Configuration, label: String, logger: Logger) {
        state = NIOLockedValueBox(State(client: client, run: run))
        self.configuration = configuration
        self.probe = probe
        self.label = label
        self.logger = logger
    }

    /// The pool serves leases once its `run()` runs: the task is handed back after it started.
    private static func launch(_ client: PostgresClient) async -> Task<Void, Never> {
        let (started, continuation) = AsyncStream<Void>.makeStream()
        let run = Task {
            continuation.finish()
            await client.run()
        }
        for await _ in started {}
        return run
    }

    /// How many times the pool was replaced (tests).
    var renewals: Int { state.withLockedValue { $0.renewals } }

    private var client: PostgresClient { state.withLockedValue { $0.client } }

    /// `PostgresClient.leasing` on the pool in place.
    func leasing<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client
        do {
            return try await client.leasing(body)
        } catch {
            noteRefusal(error, by: client)
            throw error
        }
    }

    /// `PostgresClient.withConnection` on the pool in place (the committer's own loop).
    func withConnection(isolation: isolated (any Actor)? = #isolation, _ body: nonisolated(nonsending) (PostgresConnection) async throws -> sending Void) async throws {
        let client = self.client
        do {
            try await client.withConnection(isolation: isolation, body)
        } catch {
            noteRefusal(error, by: client)
            throw error
        }
    }

    /// Closes the pool in place and the ones put aside (waits for them).
    func close() async {
        let tasks = state.withLockedValue { s -> [Task<Void, Never>] in
            s.closed = true
            return [s.run] + s.background
        }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
    }

    /// A lease `client` refused because its breaker tripped: probe the server, once at a time.
    private func noteRefusal(_ error: any Error, by client: PostgresClient) {
        guard let refusal = error as? ConnectionPoolError, refusal == .connectionCreationCircuitBreakerTripped else { return }
        state.withLockedValue { s in
            guard !s.closed, !s.probing, s.client === client else { return }
            s.probing = true
            s.background.append(Task { await self.renewOnceReachable(replacing: client) })
        }
    }

    /// Tries the server until a connection opens, then puts a new pool in place of `old`.
    private func renewOnceReachable(replacing old: PostgresClient) async {
        while !Task.isCancelled {
            do {
                let c = try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger)
                try? await c.close()
                break
            } catch {
                try? await Task.sleep(for: Self.probeInterval)
            }
        }
        guard !Task.isCancelled else { return }
        let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let run = await Self.launch(fresh)
        let replaced = state.withLockedValue { s -> Task<Void, Never>? in
            s.probing = false
            guard !s.closed, s.client === old else { return nil }
            let previous = s.run
            s.client = fresh
            s.run = run
            s.renewals += 1
            // The old pool runs out the leases it handed out, then ends; `close` ends it sooner.
            s.background.append(Task {
                try? await Task.sleep(for: Self.retireAfter)
                previous.cancel()
                await previous.value
            })
            return previous
        }
        if replaced == nil {
            run.cancel()
            await run.value
            return
        }
        logger.notice("PostgreSQL answers again: new connections replace a pool that had stopped trying", metadata: ["pool": "\(label)"])
    }
}
