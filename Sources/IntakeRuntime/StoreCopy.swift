import Foundation

/// One event row exactly as stored: its fields (sealed text as it is) and its hash.
package struct StoredEventCopy: Sendable {
    package var event: Chain.Event
    package var hash: Data?

    package init(event: Chain.Event, hash: Data?) {
        self.event = event
        self.hash = hash
    }
}

/// A session exactly as a store holds it — its row, its client, its log's rows with their hashes,
/// sealed text as it is — so that `intake db copy` moves it to another store without opening,
/// re-sealing or re-chaining anything: the copy's chain is the original's, and `verify` on the
/// target finds the same heads. Snapshots of a session's state (`SessionSnapshot`) are not copied:
/// the copy has none, so its first resume replays the whole log (as before snapshots existed),
/// and the next answer after it saves one.
package struct StoredSessionCopy: Sendable {
    package var row: Chain.Session
    package var hash: Data?
    /// Recorded before hash chains existed (not checked, in either store).
    package var unchained: Bool
    /// When the client the session names (her office and number) was first seen, from her row
    /// (nil: the session names none, or her row is missing: the session's start stands in).
    package var clientSince: Int64?
    package var events: [StoredEventCopy]
    /// Private to its counselor (`Store.markPrivate`), since when (nil: not private).
    package var privacy: Privacy?
    package var privateSince: Int64?

    package init(row: Chain.Session, hash: Data?, unchained: Bool, clientSince: Int64?, events: [StoredEventCopy],
                 privacy: Privacy? = nil, privateSince: Int64? = nil) {
        self.privacy = privacy
        self.privateSince = privateSince
        self.row = row
        self.hash = hash
        self.unchained = unchained
        self.clientSince = clientSince
        self.events = events
    }
}

/// What a store adds so that a whole database can be moved into it (`intake db copy`).
package protocol StoreCopying: Store {
    /// The fingerprint of the key the store is sealed with (nil: not sealed). A copy goes only
    /// between stores that agree: sealed values open only under their own key.
    var sealFingerprint: String? { get }
    /// Every session's id, in the order written.
    func sessionIDs() async throws -> [String]
    /// A session as stored (nil: none). A row that does not read is `RuntimeError.damaged`.
    func storedCopy(of session: String) async throws -> StoredSessionCopy?
    /// Writes a session exactly as given, in one transaction (its client row if it has none yet).
    func insertCopy(_ copy: StoredSessionCopy) async throws
    /// Appends entries to the audit trail as they are (their own times and actors).
    func appendAudit(_ entries: [AuditEntry]) async throws
}

/// Moving one store's database into another (an office's SQLite file into the shared PostgreSQL
/// database), then checking the result.
package enum StoreCopy {
    package enum Failure: Error, Equatable {
        /// The source has damaged sessions (copying would hide them): `records verify` names them.
        case sourceDamaged([String])
        /// The two stores are not sealed alike (or with different keys).
        case sealMismatch
        /// Sessions with these ids are already in the target (nothing was copied).
        case alreadyInTarget([String])
        /// After the copy, the target does not hold what the source holds (these sessions differ).
        case checkFailed([String])
    }

    package struct Report: Sendable, Equatable {
        package var sessions: Int
        package var events: Int
        package var auditEntries: Int
        /// Sessions recorded before hash chains (copied, not checked).
        package var unchained: Int
    }

    /// Copies every session and the audit trail from `source` into `target`, and checks afterwards
    /// that the target holds each session with the same entry count and the same chain head as the
    /// source (`verify` on both). Refuses, with nothing copied, a damaged source, stores sealed
    /// differently, and ids the target already has. `actor` and `at` sign the target's audit entry.
    package static func copy(from source: any StoreCopying, to target: any StoreCopying, by actor: Actor, at: Int64,
                             describing origin: String) async throws -> Report {
        guard source.sealFingerprint == target.sealFingerprint else { throw Failure.sealMismatch }
        let before = try await source.verify()
        let damaged = before.damaged + before.orphans
        guard damaged.isEmpty else { throw Failure.sourceDamaged(damaged) }
        let ids = try await source.sessionIDs()
        var existing: [String] = []
        for id in ids where try await target.session(id) != nil { existing.append(id) }
        guard existing.isEmpty else { throw Failure.alreadyInTarget(existing) }
        var events = 0
        for id in ids {
            guard let copy = try await source.storedCopy(of: id) else { continue }
            try await target.insertCopy(copy)
            events += copy.events.count
        }
        let audit = try await source.audit()
        try await target.appendAudit(audit + [AuditEntry(at: at, actor: actor.stored, action: "copy-in",
                                                         detail: "\(ids.count) sessions and their \(events) events, \(audit.count) audit entries, from \(origin)")])
        // The check: every intact session of the source is intact in the target, with the same
        // number of entries and the same head.
        let after = try await target.verify()
        let heads = Dictionary(after.intact.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var differ: [String] = []
        for s in before.intact where heads[s.id] != s { differ.append(s.id) }
        let unchainedThere = Set(after.unchained)
        differ += before.unchained.filter { !unchainedThere.contains($0) }
        differ += after.damaged.filter { Set(ids).contains($0) }
        guard differ.isEmpty else { throw Failure.checkFailed(differ) }
        return Report(sessions: ids.count, events: events, auditEntries: audit.count, unchained: before.unchained.count)
    }
}
