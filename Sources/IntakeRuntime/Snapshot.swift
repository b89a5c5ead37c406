import Foundation
import IntakeEngine

/// A session's state saved beside its log, so that a resume replays only the entries after it
/// instead of the whole log (a 40,000-entry session took 1.3 s to replay). The runner writes one
/// every `SessionRunner.defaultSnapshotInterval` entries, in the same transaction as the entry it
/// follows: a snapshot never exists without its entries.
///
/// A snapshot is derived data, never the record of what happened: the log is. A store keeps it
/// bound to the log (its own hash covers the chain hash of the entry it follows, and that entry's
/// stored hash must be the one named); one that does not check, does not decode, was taken under
/// another dialog version or is followed by a move to a new version is ignored, and the resume
/// replays the whole log as it did before snapshots existed. So a damaged snapshot never changes
/// what is restored.
public struct SessionSnapshot: Sendable, Equatable {
    /// The entry the state follows: the state is the log up to and including it, replayed.
    public var seq: Int
    /// The session's `SessionState`, encoded as JSON (sealed at rest like every answer).
    public var state: Data

    public init(seq: Int, state: Data) {
        self.seq = seq
        self.state = state
    }
}

/// Why a snapshot was passed over (the resume replayed the whole log instead). Never carries any
/// of the snapshot's content.
public enum SnapshotProblem: String, Sendable, Equatable {
    /// Its row does not read, or its state does not open.
    case unreadable
    /// Its hash does not match, or the entry it names is not the log's entry (the chain differs).
    case chainMismatch = "chain mismatch"
    /// Its state does not decode into a `SessionState`.
    case undecodable
    /// It was taken under another version (or another dialog) than the session's now.
    case otherVersion = "other dialog version"
    /// The session moved to another dialog version after it.
    case migratedSince = "migrated since"
}

/// What a resume reads of a session: its newest snapshot that checks against the log, and the
/// log's entries after it (each checked against the chain, up to the session row's head); or, with
/// no usable snapshot, the whole log.
public struct ResumeLog: Sendable, Equatable {
    public var snapshot: SessionSnapshot?
    /// The entries after `snapshot.seq`, oldest first; the whole log when there is no snapshot.
    public var entries: [LogEntry]
    /// A newer snapshot the store passed over, and why.
    public var ignored: SnapshotProblem?

    public init(snapshot: SessionSnapshot?, entries: [LogEntry], ignored: SnapshotProblem? = nil) {
        self.snapshot = snapshot
        self.entries = entries
        self.ignored = ignored
    }
}

extension Store {
    /// A store that keeps no snapshots appends without one.
    public func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String,
                       record: JSON?, at: Int64, snapshot: SessionSnapshot?) async throws {
        try await append(entries, to: session, status: status, locale: locale, record: record, at: at)
    }

    /// A store that keeps no snapshots gives the whole log.
    public func resumeLog(of session: String) async throws -> ResumeLog {
        ResumeLog(snapshot: nil, entries: try await log(of: session))
    }
}
