import IntakeEngine
import Logging

/// A session being run: its engine state and where its log stands.
public struct RunningSession: Sendable {
    public let id: String
    public internal(set) var state: SessionState
    /// The next log sequence number (the entries this session's runner knows are before it).
    public internal(set) var seq: Int
    /// Whose session it is (from its row): the office, and the client's number there. The record
    /// names them.
    public internal(set) var office: String? = nil
    public internal(set) var clientID: String? = nil
    /// The store was told the session is private (the dialog's `private_when` held).
    public internal(set) var isPrivate = false
    /// The counselor (her identity) who started the session, from its row; the record names her
    /// (the 就労相談記録票's 相談員).
    public internal(set) var counselor: String? = nil
    /// The entry the newest snapshot of this session's state follows, as far as this runner knows
    /// (nil: none known); the next is written `SessionRunner.snapshotInterval` entries after it.
    public internal(set) var snapshotSeq: Int? = nil
    /// The state is the one a replay of the stored log gives, so it may be saved as a snapshot.
    /// Not after a move to a new dialog version in this run: the replay of a log after a move
    /// rebuilds the state from the answers the move carried, not from the ones it moved, and can
    /// differ (the answers it set aside, the order of the trail) from the state the move made.
    public internal(set) var stateIsReplayed = true
}

public enum RuntimeError: Error, Equatable, Sendable {
    /// No session for this token (a mistyped or guessed token).
    case unknownToken
    /// The session is finished and cannot be resumed.
    case finished
    /// The dialog changed since the session started (migration on resume is not done yet).
    case dialogChanged(from: String, to: String)
    /// The log could not be replayed into a state (a corrupt or foreign log).
    case corruptLog
    /// The session's log has reached `SessionRunner.maxEvents`: it takes no more input, and it is
    /// not resumed (replaying an endless log would hold the store for every resume).
    case tooLong
    /// What the store holds of this session is not what was written (a broken hash chain, a value
    /// of the wrong type, one that does not decode): reported with the session's id, never its content.
    case damaged(session: String)
    /// Another process resumed the session (a kiosk, another counselor's terminal): this one no
    /// longer runs it, and nothing was written.
    case takenOver
}

/// Runs sessions over a store: each event is logged (durably) before its effects are returned,
/// so nothing a person was shown as accepted can be lost; a session comes back by replaying its log.
/// Every call is async: the calling task is suspended, never blocked, while the store commits (a
/// synchronous caller, the counselor's REPL, waits for it on a thread of its own).
public struct SessionRunner: Sendable {
    public let engine: Engine
    /// The store every call goes through (SQLite or PostgreSQL).
    public let store: any Store
    /// The most log entries a session may have before it takes no more input. A whole intake of
    /// about 200 questions, with going back and editing, stays far below the default.
    public var maxEvents = SessionRunner.defaultMaxEvents
    public static let defaultMaxEvents = 2_000
    /// How many entries apart the runner saves a snapshot of the session's state with its log, so
    /// that a resume replays at most about this many (`SessionSnapshot`); 0: never.
    public var snapshotInterval = SessionRunner.defaultSnapshotInterval
    public static let defaultSnapshotInterval = 64
    /// A suspension also saves a snapshot, with its own entry, when at least this many entries
    /// came after the last one: the resume that follows (the usual way back) then replays nothing.
    /// Only after a killed process does a resume replay up to `snapshotInterval` entries. 0: never.
    public var suspendSnapshotGap = SessionRunner.defaultSuspendSnapshotGap
    public static let defaultSuspendSnapshotGap = 8
    /// Where a snapshot passed over at a resume is reported (the session id and why, nothing of
    /// its content).
    public var logger = Logger(label: "intake.runtime")

    /// `engine.fingerprint`, kept: a snapshot is written with it and used only under the same one.
    public let engineFingerprint: String

    public init(engine: Engine, store: any Store) {
        self.engine = engine
        self.store = store
        engineFingerprint = engine.fingerprint
    }

    /// Starts a session. `id` and `token` come from the caller (random in production, fixed in tests).
    /// `carrying`: a later visit, starting from the client's last record (see `Engine.start`).
    /// `admitting`: the start counts against its address's limit, and past it throws
    /// `RateLimit.Refused` with nothing stored.
    public func start(id: String, token: ResumeToken, locale: String, mode: SessionState.Mode, actor: Actor,
                      clientID: String? = nil, office: String? = nil, carrying: Carried? = nil,
                      admitting: RateLimit.Admission? = nil, at now: Moment) async throws -> (RunningSession, [Effect]) {
        let (info, first, step) = opening(id: id, locale: locale, mode: mode, actor: actor, clientID: clientID,
                                          office: office, carrying: carrying, at: now)
        if let admitting {
            try await store.create(info, first: first, token: token, admitting: admitting)
        } else {
            try await store.create(info, first: first, token: token)
        }
        var session = RunningSession(id: id, state: step.state, seq: 1, office: office, clientID: clientID, counselor: info.counselor)
        try await markIfPrivate(&session, at: now)
        return (session, step.effects)
    }

    /// Tells the store the session is private once the dialog's `private_when` holds over `state`
    /// (before the answer that made it hold is written: if this fails, that answer is not taken).
    func markIfPrivate(_ session: inout RunningSession, state: SessionState? = nil, at now: Moment) async throws {
        guard !session.isPrivate, engine.isPrivate(state ?? session.state) else { return }
        try await store.markPrivate(session.id, at: now.epochMillis)
        session.isPrivate = true
    }

    /// Handles one event: logs it, then returns what to show. If logging fails, the session is
    /// unchanged and the error is thrown: nothing is shown as accepted that is not on disk.
    public func handle(_ event: Event, in session: inout RunningSession, actor: Actor, at now: Moment) async throws -> [Effect] {
        guard session.seq < maxEvents else { throw RuntimeError.tooLong }
        // Refused text (control characters) changes nothing and is not logged.
        if let refused = engine.refusal(event, session.state) { return refused.effects }
        let step = engine.replaying(event, session.state, at: now)
        let saved = snapshot(at: session.seq, step.state, of: session)
        try await markIfPrivate(&session, state: step.state, at: now)
        let entry = LogEntry(seq: session.seq, at: now, actor: actor, event: .input(event),
                             answers: LogEntry.changes(step))
        try await store.append([entry], to: session.id, status: status(step.state), locale: step.state.locale,
                               record: recordIfFinished(step.state, of: session, effects: step.effects), at: now.epochMillis, snapshot: saved)
        session.state = step.state
        session.seq += 1
        if let saved { session.snapshotSeq = saved.seq }
        return step.effects
    }

    /// Suspends (the person leaves, the terminal closes, a kiosk times out).
    public func suspend(_ session: inout RunningSession, actor: Actor, at now: Moment) async throws {
        guard !isFinished(session.state) else { return }
        let entry = LogEntry(seq: session.seq, at: now, actor: actor, event: .suspend)
        // A suspension changes nothing of the state: the snapshot with its entry is the state now.
        let saved = snapshot(at: session.seq, session.state, of: session, every: min(snapshotInterval, suspendSnapshotGap))
        try await store.append([entry], to: session.id, status: .suspended, locale: session.state.locale,
                               record: nil, at: now.epochMillis, snapshot: saved)
        session.seq += 1
        if let saved { session.snapshotSeq = saved.seq }
    }

    /// Comes back to a suspended session by its token: replays the log, logs the resumption, and
    /// shows where it stood. `mode` is the channel's (a kiosk server passes `.kiosk`, a counselor's
    /// terminal `.counselor`): the session runs in it from here on, whatever mode it started in.
    public func resume(token: ResumeToken, mode: SessionState.Mode, actor: Actor, at now: Moment) async throws -> (RunningSession, [Effect]) {
        guard let info = try await store.session(resuming: token) else { throw RuntimeError.unknownToken }
        return try await resume(info, mode: mode, actor: actor, at: now)
    }

    /// The session a token opens, without resuming it (a server checks first that no other
    /// connection holds it).
    public func session(resuming token: ResumeToken) async throws -> SessionInfo? {
        try await store.session(resuming: token)
    }

    /// Comes back to a session by id (a counselor choosing it from the list), in the channel's
    /// `mode` (a kiosk server: `.kiosk`, whatever mode it started in). If the dialog changed while
    /// the session was suspended, its answers (from the log's changes) move to the new version, and
    /// the log says so.
    public func resume(_ info: SessionInfo, mode: SessionState.Mode, actor: Actor, at now: Moment) async throws -> (RunningSession, [Effect]) {
        guard info.status != .complete && info.status != .stopped else { throw RuntimeError.finished }
        guard info.dialogID == engine.dialog.id else {
            throw RuntimeError.dialogChanged(from: info.dialogID, to: engine.dialog.id)
        }
        if info.dialogVersion != engine.dialog.version {
            // A move to a new version reads the whole log, as it always did (its answers, who gave them).
            let log = try await store.log(of: info.id)
            guard log.count < maxEvents else { throw RuntimeError.tooLong }
            var (session, effects, entry) = try migration(info, log, mode: mode, actor: actor, at: now)
            session.stateIsReplayed = false
            try await markIfPrivate(&session, at: now)
            try await store.append([entry], to: info.id, status: status(session.state), locale: session.state.locale,
                                   record: recordIfFinished(session.state, of: session), at: now.epochMillis)
            try await store.setDialogVersion(engine.dialog.version, of: info.id)
            return (session, effects)
        }
        // The newest snapshot that checks, and the entries after it (else the whole log).
        let restored = try await restore(info)
        var (session, effects, entry) = resumption(info, restored, mode: mode, actor: actor, at: now)
        try await markIfPrivate(&session, at: now)
        try await store.append([entry], to: info.id, status: status(session.state), locale: session.state.locale,
                               record: recordIfFinished(session.state, of: session), at: now.epochMillis)
        return (session, effects)
    }

    /// The session info, first log entry and first step of a new session.
    func opening(id: String, locale: String, mode: SessionState.Mode, actor: Actor, clientID: String?, office: String?,
                 carrying: Carried?, at now: Moment) -> (SessionInfo, LogEntry, Engine.Step) {
        let step = engine.start(locale: locale, mode: mode, carrying: carrying, at: now)
        let counselor: String? = { if case .counselor(let n) = actor { return n } else { return nil } }()
        let info = SessionInfo(id: id, clientID: clientID, dialogID: engine.dialog.id, dialogVersion: engine.dialog.version,
                               mode: mode, locale: step.state.locale, status: status(step.state), startedAt: now.epochMillis,
                               updatedAt: now.epochMillis, counselor: counselor, office: office)
        let first = LogEntry(seq: 0, at: now, actor: actor,
                             event: .start(dialog: engine.dialog.id, version: engine.dialog.version, locale: locale, mode: mode,
                                           previous: carrying?.previous, previousDate: carrying?.previousDate),
                             answers: LogEntry.changes(step))
        return (info, first, step)
    }

    /// What a resumption computes, before it is written: the replayed state going on in the
    /// channel's mode, and the log entry that says so.
    func resumption(_ info: SessionInfo, _ restored: Restored, mode: SessionState.Mode, actor: Actor,
                    at now: Moment) -> (RunningSession, [Effect], LogEntry) {
        let state = restored.state
        let step = engine.continuing(in: mode, state, at: now)
        let seq = restored.nextSeq
        let entry = LogEntry(seq: seq, at: now, actor: actor, event: .resume(mode: mode),
                             answers: LogEntry.changes(step))
        return (RunningSession(id: info.id, state: step.state, seq: seq + 1, office: info.office, clientID: info.clientID,
                               counselor: info.counselor ?? Self.counselor(actor), snapshotSeq: restored.snapshotSeq), step.effects, entry)
    }

    /// The counselor an actor is (a session started at a kiosk and taken over at a counselor's
    /// terminal: its record names the counselor who took it over).
    static func counselor(_ actor: Actor) -> String? {
        if case .counselor(let name) = actor, !name.isEmpty { return name }
        return nil
    }

    /// What a move to the dialog's new version computes, before it is written.
    /// The move is made in the channel's `mode`, and the entry says which (replay makes it the same way).
    func migration(_ info: SessionInfo, _ log: [LogEntry], mode: SessionState.Mode, actor: Actor,
                   at now: Moment) throws -> (RunningSession, [Effect], LogEntry) {
        guard let first = log.first, case .start(_, _, let locale, _, _, _) = first.event else { throw RuntimeError.corruptLog }
        var base = SessionState(dialog: engine.dialog, locale: locale, mode: mode, at: first.at)
        base.revisit = try replay([first]).revisit
        base.dialogVersion = info.dialogVersion
        let chain = versions(log)
        base.earlierVersions = chain.count > 1 ? Array(chain.dropLast()) : nil
        let step = engine.migrate(answers: answers(log), from: base, at: now, clientGiven: clientGiven(log))
        let seq = (log.last?.seq ?? -1) + 1
        let entry = LogEntry(seq: seq, at: now, actor: actor, event: .migrate(from: info.dialogVersion, to: engine.dialog.version, mode: mode),
                             answers: LogEntry.all(step.state.answers))
        return (RunningSession(id: info.id, state: step.state, seq: seq + 1, office: info.office, clientID: info.clientID,
                               counselor: info.counselor ?? Self.counselor(actor)), step.effects, entry)
    }

    /// Every answer as the log leaves it: the last migration's answers, then each change after it.
    func answers(_ log: [LogEntry]) -> [Path: AnswerEntry] {
        var out: [Path: AnswerEntry] = [:]
        for entry in log {
            if case .migrate = entry.event { out = [:] }
            for change in entry.answers ?? [] { out[change.path] = change.entry }
        }
        return out
    }

    /// The paths whose answer, as the log leaves it, the client gave herself (the last change to
    /// each was hers; the answers a move to a new version carried keep who gave them).
    func clientGiven(_ log: [LogEntry]) -> Set<Path> {
        var out: Set<Path> = []
        for entry in log {
            if case .migrate = entry.event { continue }
            for change in entry.answers ?? [] {
                if entry.actor == .client && change.entry != nil { out.insert(change.path) } else { out.remove(change.path) }
            }
        }
        return out
    }

    /// The versions a log was taken under, oldest first.
    func versions(_ log: [LogEntry]) -> [String] {
        log.compactMap { entry -> String? in
            switch entry.event {
            case .start(_, let v, _, _, _, _): return v
            case .migrate(_, let to, _): return to
            default: return nil
            }
        }
    }

    /// The state a log leads to: its events replayed through the engine at their own moments.
    public func replay(_ log: [LogEntry]) throws -> SessionState {
        guard let first = log.first, case .start(_, _, let locale, let mode, let previous, let date) = first.event else {
            throw RuntimeError.corruptLog
        }
        // A later visit starts from the answers its first entry carried.
        let carried = previous.map { previous in
            Carried(previous: previous, previousDate: date,
                    answers: (first.answers ?? []).reduce(into: [:]) { $0[$1.path] = $1.entry?.answer })
        }
        var engine = engine
        engine.renders = false
        var state = engine.start(locale: locale, mode: mode, carrying: carried, at: first.at).state
        var from = 1
        // After a move to a new version, the old events mean nothing to this dialog: start from
        // the answers the move carried.
        if let m = log.lastIndex(where: { if case .migrate = $0.event { true } else { false } }),
           case .migrate(let old, _, let mode) = log[m].event {
            var base = state
            base.dialogVersion = old
            // The move was made in the mode of the channel that resumed (older logs: the first mode).
            if let mode { base.mode = mode }
            let chain = versions(Array(log[...m]))
            base.earlierVersions = chain.count > 2 ? Array(chain.dropLast(2)) : nil
            // The answers as the log held them before the move, as the move itself read them
            // (not with the move's own entry: that would move them twice).
            state = engine.migrate(answers: answers(Array(log[..<m])), from: base, at: log[m].at,
                                   clientGiven: clientGiven(Array(log[..<m]))).state
            from = m + 1
        }
        return replay(log[from...], from: state)
    }

    /// `state` with `entries` (which follow it in the log, none of them a move to a new version)
    /// replayed through the engine at their own moments.
    public func replay<S: Sequence<LogEntry>>(_ entries: S, from state: SessionState) -> SessionState {
        var state = state
        // Nobody sees a replay's effects: the state alone, nothing rendered.
        var engine = engine
        engine.renders = false
        for entry in entries {
            switch entry.event {
            case .input(let event): _ = engine.apply(event, to: &state, at: entry.at)
            // A resumption in the channel the session is in changes nothing a replay keeps (the
            // step would only show the question again); in another channel it moves the session.
            case .resume(let mode?) where mode != state.mode: state = engine.continuing(in: mode, state, at: entry.at).state
            case .start, .suspend, .resume, .migrate: continue
            }
        }
        return state.settled
    }

    func status(_ state: SessionState) -> SessionInfo.Status {
        switch state.phase {
        case .done(let s): return s == "complete" ? .complete : .stopped
        case .asking, .reviewing: return .inProgress
        }
    }

    func isFinished(_ state: SessionState) -> Bool {
        if case .done = state.phase { return true }
        return false
    }

    /// The record of a finished `state` of `session`, naming whose it is: her office and her
    /// number there, and the counselor who took it (after `mode`; none of them when the session
    /// names none, as in a test conversation).
    /// `effects`: those of the step that finished it, whose `done` carries the record already
    /// built (the step that finishes is the slowest of a session: its record is not built twice).
    func recordIfFinished(_ state: SessionState, of session: RunningSession, effects: [Effect] = []) -> JSON? {
        guard isFinished(state) else { return nil }
        for case .done(let r) in effects { return named(r.typed, of: session).json }
        return record(state, of: session)
    }

    /// The record of `state` as it stands (finished or not: a sheet printed mid-interview), naming
    /// whose it is and who took it, as the stored record will.
    public func record(_ state: SessionState, of session: RunningSession) -> JSON {
        typedRecord(state, of: session).json
    }

    /// The record of `state` as a typed value, naming whose it is and who took it.
    public func typedRecord(_ state: SessionState, of session: RunningSession) -> IntakeRecord {
        named(engine.intakeRecord(state), of: session)
    }

    /// `record` naming whose it is and who took it.
    func named(_ record: IntakeRecord, of session: RunningSession) -> IntakeRecord {
        var record = record
        record.office = session.office
        record.client = session.clientID
        record.counselor = session.counselor.flatMap { $0.isEmpty ? nil : $0 }
        return record
    }
}
