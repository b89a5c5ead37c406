import IntakeEngine
import IntakeRuntime

extension Store {
    /// The records of `sessions` (nil: none, or not finished), each result at the place of its
    /// session. A few calls are in flight at once (`overlapping`): a SQLite store reads each on a
    /// thread of its own, a database server answers each in a round trip, and one after the other
    /// a month of records would wait for every one in turn.
    public func records(of sessions: [String], overlapping width: Int = 8) async -> [Result<JSON?, any Error>] {
        var results = [Result<JSON?, any Error>?](repeating: nil, count: sessions.count)
        await withTaskGroup(of: (Int, Result<JSON?, any Error>).self) { group in
            var next = 0
            func read(_ i: Int) -> @Sendable () async -> (Int, Result<JSON?, any Error>) {
                let id = sessions[i]
                return {
                    do { return (i, .success(try await self.record(of: id))) } catch { return (i, .failure(error)) }
                }
            }
            while next < min(max(width, 1), sessions.count) {
                group.addTask(operation: read(next))
                next += 1
            }
            while let (i, result) = await group.next() {
                results[i] = result
                if next < sessions.count {
                    group.addTask(operation: read(next))
                    next += 1
                }
            }
        }
        return results.map { $0 ?? .failure(CancellationError()) }
    }
}
