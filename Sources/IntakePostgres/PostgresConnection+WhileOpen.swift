import NIOConcurrencyHelpers
import PostgresNIO

/// The connection under a piece of work closed before the work ended (the database server went
/// away): what was under way may or may not have been committed.
struct ConnectionLost: Error, CustomStringConvertible {
    var description: String { "the connection to PostgreSQL closed" }
}

extension PostgresConnection {
    /// How often `whileOpen` looks whether the connection has closed.
    static let closeCheck: Duration = .milliseconds(100)

    /// `body` on this connection; but once the connection is seen closed while `body` runs, the
    /// caller is told (`ConnectionLost`) at once instead of waiting on it.
    ///
    /// postgres-nio 1.33.2 writes each query into its channel without a promise: a query written
    /// just after the connection closed — a `ROLLBACK` after the database server went away, a
    /// `BEGIN` on a connection the pool leased as it was closing — is dropped, and its caller waits
    /// forever. IntakeCrash's database restarts found an instance whose committer waited so, and
    /// every answer of that instance with it. `body` runs in a task of its own, so that the caller
    /// is free to go on (such a dropped query's task never ends: it holds only its closure).
    func whileOpen<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            outcome.wait(done)
            let watch = Task { [self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.closeCheck)
                    // An error under way on the closing connection (its query failed) is told as it
                    // is; a query that was dropped is not, and this tells it instead.
                    if isClosed, !Task.isCancelled {
                        try? await Task.sleep(for: Self.closeCheck)
                        outcome.finish(.failure(ConnectionLost()))
                        return
                    }
                }
            }
            Task { [self] in
                let result: Result<T, any Error>
                do { result = .success(try await body(self)) } catch { result = .failure(error) }
                watch.cancel()
                outcome.finish(result)
            }
        }
    }
}

extension PostgresClient {
    /// `withConnection`, through `whileOpen`: no caller waits on a connection that has closed.
    func leasing<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { c in try await c.whileOpen(body) }
    }
}

/// The first of two outcomes (the work's, or the connection's closing) resumes the caller; the
/// other is dropped.
private final class Outcome<T: Sendable>: Sendable {
    private let waiting = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)

    /// Set before either outcome can come (`whileOpen` starts its tasks after).
    func wait(_ k: CheckedContinuation<T, any Error>) {
        waiting.withLockedValue { $0 = k }
    }

    func finish(_ result: Result<T, any Error>) {
        let k = waiting.withLockedValue { w in
            defer { w = nil }
            return w
        }
        k?.resume(with: result)
    }
}
