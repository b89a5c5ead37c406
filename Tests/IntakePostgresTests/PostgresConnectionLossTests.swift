import Foundation
import IntakeEngine
@testable import IntakePostgres
import IntakeRuntime
import PostgresNIO
import Testing

/// The database server ending a connection under a transaction (as a restart of the server does):
/// the caller is told at once, and the store goes on with new connections. With postgres-nio
/// 1.33.2 the `ROLLBACK` after such a failure was written to the closed connection, dropped, and
/// waited on forever; under `intake serve` the committer waited so, and every kiosk of that
/// instance with it (found by IntakeCrash's database restarts).
@Suite(.enabled(if: PostgresTestDatabase.enabled, PostgresTestDatabase.disabledReason), .timeLimit(.minutes(10)))
struct PostgresConnectionLossTests {
    /// `body`'s result, or nil when it has not finished within `seconds` (it is then left running).
    static func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
        let first = FirstOf<T?>()
        return await withCheckedContinuation { k in
            first.wait(k)
            Task { first.finish(await body()) }
            Task {
                try? await Task.sleep(for: .seconds(seconds))
                first.finish(nil)
            }
        }
    }

    /// How `work` ended within 30 s: "done", the name of the error it threw, or nil while it
    /// still waits.
    static func outcome(_ work: @escaping @Sendable () async throws -> Void) async -> String? {
        await within(30) {
            do {
                try await work()
                return "done"
            } catch {
                return String(describing: type(of: error))
            }
        }
    }

    static let terminateOwnBackend: PostgresQuery = "SELECT pg_terminate_backend(pg_backend_pid())"

    struct Refused: Error {}

    @Test func aWriteWhoseConnectionTheServerEndsFailsAtOnceAndTheStoreGoesOn() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        let logger = PostgresTestDatabase.logger
        let outcome = await Self.outcome {
            _ = try await store.write { c in try await c.query(Self.terminateOwnBackend, logger: logger).collect().count }
        }
        #expect(outcome != nil && outcome != "done", "the write should fail at once, not wait on a closed connection (nil: still waiting after 30 s)")
        // The next write and read get new connections.
        let id = "s-after-loss"
        let info = SessionInfo(id: id, clientID: nil, dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja", status: .inProgress,
                               startedAt: 1_795_000_000_000, updatedAt: 1_795_000_000_000, office: "川越")
        let first = LogEntry(seq: 0, at: Moment(epochMillis: 1_795_000_000_000, utcOffsetMinutes: 540), actor: .client,
                             event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk))
        let created = await Self.within(30) {
            do {
                try await store.create(info, first: first, token: .random())
                return try await store.session(id)?.id
            } catch {
                return "error: \(type(of: error))"
            }
        }
        #expect(created == id)
        await cleanup()
    }

    /// A transaction that fails after its connection closed (the case of a database server that
    /// went away mid-COMMIT): no `ROLLBACK` is written to the closed connection, and the caller is told.
    @Test func aTransactionThatFailsOnAClosedConnectionIsToldAtOnce() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        let outcome = await Self.outcome {
            _ = try await store.write { c in
                try await c.close()
                throw Refused()
            }
        }
        #expect(outcome == "Refused", "nil: still waiting after 30 s")
        await cleanup()
    }

    /// A query written to a connection that has closed is never answered by postgres-nio; the
    /// caller is told `ConnectionLost` instead of waiting.
    @Test func aQueryOnAClosedConnectionIsToldAtOnce() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        let logger = PostgresTestDatabase.logger
        let outcome = await Self.outcome {
            _ = try await store.read { c in
                try await c.close()
                return try await c.query("SELECT 1", logger: logger).collect().count
            }
        }
        #expect(outcome == "ConnectionLost", "nil: still waiting after 30 s")
        await cleanup()
    }

    @Test func aReadWhoseConnectionTheServerEndsFailsAtOnce() async throws {
        let (store, cleanup) = try await PostgresTestDatabase.make()
        let logger = PostgresTestDatabase.logger
        let outcome = await Self.outcome {
            _ = try await store.read { c in try await c.query(Self.terminateOwnBackend, logger: logger).collect().count }
        }
        #expect(outcome != nil && outcome != "done", "nil: still waiting after 30 s")
        await cleanup()
    }
}

/// The first of two outcomes resumes the waiting test.
private final class FirstOf<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: CheckedContinuation<T, Never>?

    func wait(_ k: CheckedContinuation<T, Never>) {
        lock.withLock { waiting = k }
    }

    func finish(_ value: T) {
        let k = lock.withLock { () -> CheckedContinuation<T, Never>? in
            defer { waiting = nil }
            return waiting
        }
        k?.resume(returning: value)
    }
}
