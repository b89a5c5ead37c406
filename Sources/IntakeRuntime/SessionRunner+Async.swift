import IntakeEngine

/// The same operations as the synchronous ones, for async callers (the kiosk server): each event is
/// still logged durably before its effects are returned, but the calling task is suspended, not
/// blocked, while the disk syncs. With a store that is not an `AsyncSessionStore` they fall back to
/// the synchronous calls.
extension SessionRunner {

    public func start(id: String, token: ResumeToken, locale: String, mode: SessionState.Mode, actor: Actor,
                      clientID: String? = nil, office: String? = nil, carrying: Carried? = nil,
                      at now: Moment) async throws -> (RunningSession, [Effect]) {
        guard let asyncStore else {
            return try startSync(id: id, token: token, locale: locale, mode: mode, actor: actor, clientID: clientID,
                                 office: office, carrying: carrying, at: now)
        }
        let (info, first, step) = opening(id: id, locale: locale, mode: mode, actor: actor, clientID: clientID,
                                          office: office, carrying: carrying, at: now)
        try await asyncStore.create(info, first: first, token: token)
        return (RunningSession(id: id, state: step.state, seq: 1), step.effects)
    }

    public func handle(_ event: Event, in session: inout RunningSession, actor: Actor, at now: Moment) async throws -> [Effect] {
        guard let asyncStore else { return try handleSync(event, in: &session, actor: actor, at: now) }
        guard session.seq < maxEvents else { throw RuntimeError.tooLong }
        if let refused = engine.refusal(event, session.state) { return refused.effects }
        let step = engine.replaying(event, session.state, at: now)
        let entry = LogEntry(seq: session.seq, at: now, actor: actor, event: .input(event),
                             answers: LogEntry.changes(from: session.state.answers, to: step.state.answers))
        try await asyncStore.append([entry], to: session.id, status: status(step.state), locale: step.state.locale,
                                           record: recordIfFinished(step.state), at: now.epochMillis)
        session.state = step.state
        session.seq += 1
        return step.effects
    }

    public func suspend(_ session: inout RunningSession, actor: Actor, at now: Moment) async throws {
        guard let asyncStore else { return try suspendSync(&session, actor: actor, at: now) }
        guard !isFinished(session.state) else { return }
        let entry = LogEntry(seq: session.seq, at: now, actor: actor, event: .suspend)
        try await asyncStore.append([entry], to: session.id, status: .suspended, locale: session.state.locale,
                                           record: nil, at: now.epochMillis)
        session.seq += 1
    }

    public func resume(token: ResumeToken, mode: SessionState.Mode, actor: Actor, at now: Moment) async throws -> (RunningSession, [Effect]) {
        guard let asyncStore else { return try resumeSync(token: token, mode: mode, actor: actor, at: now) }
        guard let info = try await asyncStore.session(resuming: token) else { throw RuntimeError.unknownToken }
        return try await resume(info, mode: mode, actor: actor, at: now)
    }

    /// The session a token opens, without resuming it (a server checks first that no other
    /// connection holds it).
    public func session(resuming token: ResumeToken) async throws -> SessionInfo? {
        guard let asyncStore else { return try sessionSync(resuming: token) }
        return try await asyncStore.session(resuming: token)
    }

    /// Comes back to a session in the channel's `mode` (a kiosk server: `.kiosk`, whatever mode it started in).
    public func resume(_ info: SessionInfo, mode: SessionState.Mode, actor: Actor, at now: Moment) async throws -> (RunningSession, [Effect]) {
        guard let asyncStore else { return try resumeSync(info, mode: mode, actor: actor, at: now) }
        guard info.status != .complete && info.status != .stopped else { throw RuntimeError.finished }
        guard info.dialogID == engine.dialog.id else {
            throw RuntimeError.dialogChanged(from: info.dialogID, to: engine.dialog.id)
        }
        let log = try await asyncStore.log(of: info.id)
        guard log.count < maxEvents else { throw RuntimeError.tooLong }
        if info.dialogVersion != engine.dialog.version {
            let (session, effects, entry) = try migration(info, log, mode: mode, actor: actor, at: now)
            try await asyncStore.append([entry], to: info.id, status: status(session.state), locale: session.state.locale,
                                               record: recordIfFinished(session.state), at: now.epochMillis)
            try await asyncStore.setDialogVersion(engine.dialog.version, of: info.id)
            return (session, effects)
        }
        let (session, effects, entry) = try resumption(info, log, mode: mode, actor: actor, at: now)
        try await asyncStore.append([entry], to: info.id, status: status(session.state), locale: session.state.locale,
                                           record: recordIfFinished(session.state), at: now.epochMillis)
        return (session, effects)
    }

    // The synchronous calls, named apart: inside an async function the async overloads win.
    private func startSync(id: String, token: ResumeToken, locale: String, mode: SessionState.Mode, actor: Actor,
                           clientID: String?, office: String?, carrying: Carried?, at now: Moment) throws -> (RunningSession, [Effect]) {
        try start(id: id, token: token, locale: locale, mode: mode, actor: actor, clientID: clientID, office: office, carrying: carrying, at: now)
    }

    private func handleSync(_ event: Event, in session: inout RunningSession, actor: Actor, at now: Moment) throws -> [Effect] {
        try handle(event, in: &session, actor: actor, at: now)
    }

    private func suspendSync(_ session: inout RunningSession, actor: Actor, at now: Moment) throws {
        try suspend(&session, actor: actor, at: now)
    }

    private func resumeSync(token: ResumeToken, mode: SessionState.Mode, actor: Actor, at now: Moment) throws -> (RunningSession, [Effect]) {
        try resume(token: token, mode: mode, actor: actor, at: now)
    }

    private func resumeSync(_ info: SessionInfo, mode: SessionState.Mode, actor: Actor, at now: Moment) throws -> (RunningSession, [Effect]) {
        try resume(info, mode: mode, actor: actor, at: now)
    }

    private func sessionSync(resuming token: ResumeToken) throws -> SessionInfo? {
        try blocking.session(resuming: token)
    }

    /// The session info, first log entry and first step of a new session (shared by the sync and async paths).
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
                             answers: LogEntry.changes(from: [:], to: step.state.answers))
        return (info, first, step)
    }

    /// What a move to the dialog's new version computes, without writing it (each path writes it its own way).
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
                             answers: LogEntry.changes(from: [:], to: step.state.answers))
        return (RunningSession(id: info.id, state: step.state, seq: seq + 1), step.effects, entry)
    }
}
