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
///
/// A snapshot names the engine it was taken under (`Engine.fingerprint`: the dialog's files, its
/// settings, the locales' strings): one taken before a dialog was edited without a new version, an
/// office's setting changed or a label reworded is passed over too, since a replay under the new
/// engine may not lead to the state it holds.
public struct SessionSnapshot: Sendable, Equatable {
    /// The entry the state follows: the state is the log up to and including it, replayed.
    public var seq: Int
    /// What is stored (sealed at rest like every answer): a first line
    /// `intake-snapshot 1 <engine fingerprint>`, then the session's `SessionState` as JSON.
    public var state: Data

    public init(seq: Int, state: Data) {
        self.seq = seq
        self.state = state
    }

    static let header = "intake-snapshot 1 "

    /// A snapshot of `state`, taken under the engine of `fingerprint`.
    public init(seq: Int, state: SessionState, engine fingerprint: String) throws {
        var data = Data((SessionSnapshot.header + fingerprint + "\n").utf8)
        data.append(try state.storedData())
        self.init(seq: seq, state: data)
    }

    /// The fingerprint of the engine it was taken under (nil: no header, a snapshot written before
    /// snapshots named their engine) and the state's JSON.
    public var parts: (engine: String?, state: Data) {
        let prefix = Data(SessionSnapshot.header.utf8)
        guard state.starts(with: prefix), let newline = state.firstIndex(of: UInt8(ascii: "\n")) else { return (nil, state) }
        let name = String(decoding: state[state.startIndex + prefix.count..<newline], as: UTF8.self)
        return (name, Data(state[(newline + 1)...]))
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
    /// It was taken under another engine: the dialog's files, its settings or the locales' strings
    /// changed since, or intake was upgraded to one whose steps go differently (or it names none:
    /// written before snapshots did).
    case otherEngine = "dialog, settings, strings or intake's steps changed since"
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
