import Logging
import PostgresNIO

/// Group commit on PostgreSQL: every write waiting when a transaction begins goes into that one
/// transaction, so concurrent sessions' answers share one commit (one WAL flush under
/// `synchronous_commit = on`) instead of paying one each. The callers are suspended, never blocked,
/// until their transaction has committed (or failed).
///
/// A batch runs its writes ordered by session id (stable: one session's writes keep their order),
/// so two instances' batches lock session rows in the same order and do not deadlock each other.
/// If a batch fails, each of its writes is retried alone, so one bad write (a takeover, an
/// out-of-order entry, damage) fails only its own caller.
actor PostgresCommitter {
    struct Job {
        let key: String
        let work: @Sendable (PostgresConnection) async throws -> Void
        let done: CheckedContinuation<Void, any Error>
    }

    private let client: PostgresClient
    private let logger: Logger
    private var pending: [Job] = []
    private var draining = false
    private var commits = 0
    private var committedWrites = 0

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Transactions committed so far and the writes they carried (writes / commits is the batch size).
    var stats: (commits: Int, writes: Int) { (commits, committedWrites) }

    /// Runs `work` in a transaction shared with every write queued meanwhile; returns once it committed.
    func write(key: String, _ work: @escaping @Sendable (PostgresConnection) async throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append(Job(key: key, work: work, done: done))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            // Writes that arrive while this batch commits wait for the next one.
            let batch = pending
            pending = []
            let outcomes = await run(batch)
            for (job, outcome) in zip(batch, outcomes) { job.done.resume(with: outcome) }
        }
        draining = false
    }

    private func run(_ batch: [Job]) async -> [Result<Void, any Error>] {
        let order = batch.indices.sorted { (batch[$0].key, $0) < (batch[$1].key, $1) }
        let client = self.client, logger = self.logger
        let works = order.map { batch[$0].work }
        do {
            try await client.withConnection { c in
                try await PostgresStore.transaction(c, logger: logger) { c in
                    for work in works { try await work(c) }
                }
            }
            commits += 1
            committedWrites += batch.count
            return Array(repeating: .success(()), count: batch.count)
        } catch {
            if batch.count == 1 { return [.failure(error)] }
        }
        // One write's failure must not fail the others: each alone.
        var outcomes: [Result<Void, any Error>] = Array(repeating: .success(()), count: batch.count)
        for i in order {
            let work = batch[i].work
            do {
                try await client.withConnection { c in
                    try await PostgresStore.transaction(c, logger: logger) { c in try await work(c) }
                }
                commits += 1
                committedWrites += 1
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        return outcomes
    }
}
