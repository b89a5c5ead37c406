import Foundation
import GRDB
import IntakeRuntime

/// One database file, several processes: the kiosk server, counselors' REPLs, `records`, `export`
/// and `report` all open the same file.
///
/// - A write waits its turn: while another process holds SQLite's write lock, SQLite calls
///   `waitForTurn`, which polls every millisecond (a kiosk server's transaction lasts milliseconds,
///   and the poll must find the short gap between two of them), then every 10 ms, for 30 s in all.
///   Every write transaction is IMMEDIATE (GRDB 7's default for writes), so it takes the write lock
///   when it begins and never fails half-way on an upgrade from a read lock, which no wait can cure.
/// - A session is live in one process at a time: `session.holder` names the opening of the database
///   (`instance`) that last started or resumed it. Starting or resuming a session writes the holder
///   (resuming one live elsewhere takes it over); every other append succeeds only for the holder,
///   checked by the same UPDATE that each append already makes, so the old holder's next answer is
///   refused with `RuntimeError.takenOver` (nothing written) and its client is told. Inside one
///   process (one server's connections) the server's registry keeps one connection per session.
extension IntakeDatabase {
    /// SQLite's busy handler for every connection (`numberOfTries` counts from 0 in each wait).
    static let waitForTurn: Database.BusyCallback = { tries in
        if tries < 2_000 {
            usleep(1_000)
            return true
        }
        if tries < 2_000 + 2_800 {
            usleep(10_000)
            return true
        }
        return false
    }

    /// Does an append take the session over (a resumption or a move to a new dialog version),
    /// rather than continue it?
    static func takesOver(_ entries: [LogEntry]) -> Bool {
        entries.contains { entry in
            switch entry.event {
            case .resume, .migrate: return true
            default: return false
            }
        }
    }

    /// Copies the WAL into the database file and empties it, so that deleted pages (overwritten by
    /// `secure_delete`) leave no copy in the WAL. With other processes reading and writing, a
    /// TRUNCATE checkpoint can be blocked (the pragma then reports busy instead of failing): it is
    /// tried again for up to 10 s, then `StoreError.checkpointBlocked` is thrown (the deletion itself
    /// is committed; the next checkpoint completes it).
    func checkpointAfterDeletion() throws {
        let deadline = Date(timeIntervalSinceNow: 10)
        while true {
            let busy = try writer.writeWithoutTransaction { db in
                try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)").flatMap { $0[0] as Int? } ?? 0
            }
            if busy == 0 { return }
            if Date() > deadline { throw StoreError.checkpointBlocked }
            usleep(20_000)
        }
    }

    /// Which of `sessions` (live in this opening) another opening has resumed since: one indexed
    /// read on the commit thread, for a server that tells its kiosks at once.
    public func sessionsHeldElsewhere(_ sessions: [String]) async throws -> [String] {
        let instance = self.instance
        return try await commitThread.read { db in
            var found: [String] = []
            for start in stride(from: 0, to: sessions.count, by: 500) {
                let ids = Array(sessions[start..<min(start + 500, sessions.count)])
                found += try String.fetchAll(db, sql: "SELECT id FROM session WHERE id IN (\(databaseQuestionMarks(count: ids.count))) AND holder IS NOT ?",
                                             arguments: StatementArguments(ids + [instance]))
            }
            return found
        }
    }

    /// The holder a session has now (nil: nobody runs it), for tests and diagnostics.
    public func holder(of session: String) throws -> String? {
        try writer.read { db in try String.fetchOne(db, sql: "SELECT holder FROM session WHERE id = ?", arguments: [session]) }
    }
}
