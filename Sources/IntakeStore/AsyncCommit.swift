import Foundation
import GRDB

/// Group commit, the one way a session is written (the kiosk server, the counselor's REPL, the
/// tools: all through `SQLiteStore`): a dedicated thread drains every queued write into ONE
/// transaction, commits it (WAL, synchronous = FULL: the fsync happens here, on this thread), then
/// resumes each caller. No event loop and no thread of Swift's cooperative pool ever waits for the
/// disk: an awaiting caller is suspended, not blocked.
///
/// If a batch fails, each of its writes is retried alone, so one bad write fails only its own
/// caller. Reads queued here run after the batch, on the same thread, so that an async caller
/// never blocks waiting for the database queue while a commit holds it.
///
/// The thread starts on the first request and ends after a few idle seconds (it starts again on the
/// next one), so a database opened by a command that never writes a session costs no thread.
///
/// `@unchecked Sendable`: every mutable property (`pending`, `running`, the counters) is read and
/// written only while holding `condition`; the continuations are resumed exactly once, by the
/// commit thread, after their job was taken out of `pending` under the lock.
final class AsyncCommitter: @unchecked Sendable {
    private struct Job {
        /// nil: a read, run on its own after the batch's transaction.
        let write: ((Database) throws -> Void)?
        let read: ((Database) throws -> Void)?
        let done: (Result<Void, any Error>) -> Void
    }

    private let writer: any DatabaseWriter
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var running = false
    private var commits = 0
    private var committedWrites = 0
    /// How long the thread waits for work before it ends.
    private let idleExit: TimeInterval

    init(_ writer: any DatabaseWriter, idleExit: TimeInterval = 5) {
        self.writer = writer
        self.idleExit = idleExit
    }

    /// Transactions committed so far, and the writes they carried (their ratio is the batch size).
    var stats: (commits: Int, writes: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (commits, committedWrites)
    }

    /// Runs `work` inside a write transaction shared with every write queued meanwhile; returns once
    /// that transaction has committed (or throws this write's own error).
    func write(_ work: @escaping @Sendable (Database) throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(Job(write: work, read: nil, done: { continuation.resume(with: $0) }))
        }
    }

    /// `write`, returning the value the write computed (in the transaction that committed).
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let box = ResultBox<T>()
        try await write { db in box.value = try work(db) }
        guard let value = box.value else { throw AsyncCommitError.noValue }
        return value
    }

    /// Runs a read on the commit thread (after the current batch), returning its value.
    func read<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        // The value travels through a box written once on the commit thread and read after the
        // continuation resumed (the resumption orders the two).
        let box = ResultBox<T>()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            enqueue(Job(write: nil, read: { db in box.value = try work(db) }, done: { continuation.resume(with: $0) }))
        }
        guard let value = box.value else { throw AsyncCommitError.noValue }
        return value
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        pending.append(job)
        if !running {
            running = true
            let thread = Thread { [self] in loop() }
            thread.name = "intake.commit"
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            var deadline = Date(timeIntervalSinceNow: idleExit)
            while pending.isEmpty {
                if !condition.wait(until: deadline) && pending.isEmpty {
                    // Idle: end; the next request starts a new thread.
                    running = false
                    condition.unlock()
                    return
                }
                deadline = Date(timeIntervalSinceNow: idleExit)
            }
            let batch = pending
            pending = []
            condition.unlock()
            run(batch)
        }
    }

    private func run(_ batch: [Job]) {
        let writes = batch.filter { $0.write != nil }
        var outcomes: [Result<Void, any Error>] = Array(repeating: .success(()), count: writes.count)
        var transactions = 0
        if !writes.isEmpty {
            do {
                try writer.write { db in
                    for job in writes { try job.write?(db) }
                }
                transactions = 1
            } catch {
                // One write's failure must not fail the others: each alone.
                for (i, job) in writes.enumerated() {
                    do {
                        try writer.write { db in try job.write?(db) }
                        transactions += 1
                    } catch {
                        outcomes[i] = .failure(error)
                    }
                }
            }
        }
        condition.lock()
        commits += transactions
        committedWrites += outcomes.filter { if case .success = $0 { true } else { false } }.count
        condition.unlock()
        for (job, outcome) in zip(writes, outcomes) { job.done(outcome) }
        for job in batch where job.write == nil {
            do {
                try writer.read { db in try job.read?(db) }
                job.done(.success(()))
            } catch {
                job.done(.failure(error))
            }
        }
    }
}

enum AsyncCommitError: Error {
    case noValue
}

/// A value handed from the commit thread to the awaiting caller. `@unchecked Sendable`: written
/// once on the commit thread before the caller's continuation is resumed, read only after it was;
/// the continuation's resumption is the synchronisation between the two.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
