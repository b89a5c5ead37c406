import Foundation
import IntakeEngine
import Logging

/// Snapshots of a session's state, written with the log and read back at a resume
/// (`SessionSnapshot`).
extension SessionRunner {
    /// A session's state as its stored log gives it, and where that log stands.
    public struct Restored: Sendable {
        public var state: SessionState
        /// The sequence number the next entry takes.
        public var nextSeq: Int
        /// The entry of the snapshot it started from (nil: the whole log was replayed).
        public var snapshotSeq: Int?
        /// A snapshot passed over (the whole log was replayed instead), and why.
        public var ignored: SnapshotProblem?
    }

    /// The snapshot to write with the entry `seq` (which leads to `state`): every `snapshotInterval`
    /// (or `interval`) entries after the last one this session knows of; never for a finished session (it is not
    /// resumed), nor for a state a replay would not give (`RunningSession.stateIsReplayed`). nil
    /// when none is due.
    func snapshot(at seq: Int, _ state: SessionState, of session: RunningSession, every interval: Int? = nil) -> SessionSnapshot? {
        let interval = interval ?? snapshotInterval
        guard snapshotInterval > 0, interval > 0, session.stateIsReplayed, seq - (session.snapshotSeq ?? 0) >= interval,
              !isFinished(state) else { return nil }
        // A state that does not encode (a number JSON cannot hold, refused before it is logged)
        // has no snapshot: the resume replays.
        return try? SessionSnapshot(seq: seq, state: state, engine: engineFingerprint)
    }

    /// The state the stored log of `info` leads to, without writing anything: from its newest
    /// snapshot that checks (the store checks it against the chain; here, that it was taken under
    /// this engine (`engineFingerprint`), decodes, holds the session's dialog version and no move
    /// to another version follows it) plus
    /// the entries after it; else the whole log replayed. Either way the state is the one a
    /// replay of the whole log gives. A snapshot passed over is reported (`logger`: the session
    /// id and why). Throws `RuntimeError.tooLong` for a log at `maxEvents`.
    public func restore(_ info: SessionInfo) async throws -> Restored {
        let stored = try await store.resumeLog(of: info.id)
        var problem = stored.ignored
        if let snapshot = stored.snapshot {
            let parts = snapshot.parts
            if stored.entries.contains(where: { if case .migrate = $0.event { true } else { false } }) {
                problem = .migratedSince
            } else if parts.engine != engineFingerprint {
                problem = .otherEngine
            } else if let state = try? SessionState.decoding(stored: parts.state) {
                if state.dialogID == info.dialogID, state.dialogVersion == info.dialogVersion {
                    let next = (stored.entries.last?.seq ?? snapshot.seq) + 1
                    guard next < maxEvents else { throw RuntimeError.tooLong }
                    if let ignored = stored.ignored { report(ignored, of: info.id) }
                    return Restored(state: replay(stored.entries, from: state), nextSeq: next, snapshotSeq: snapshot.seq, ignored: stored.ignored)
                }
                problem = .otherVersion
            } else {
                problem = .undecodable
            }
        }
        if let problem { report(problem, of: info.id) }
        let log = stored.snapshot == nil ? stored.entries : try await store.log(of: info.id)
        guard log.count < maxEvents else { throw RuntimeError.tooLong }
        return Restored(state: try replay(log), nextSeq: (log.last?.seq ?? -1) + 1, snapshotSeq: nil, ignored: problem)
    }

    func report(_ problem: SnapshotProblem, of session: String) {
        logger.warning("snapshot passed over; the session's whole log was replayed",
                       metadata: ["session": "\(session)", "why": "\(problem.rawValue)"])
    }
}
