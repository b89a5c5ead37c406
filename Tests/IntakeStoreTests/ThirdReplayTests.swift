import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore
@testable import IntakeTesting
import Testing

/// The third replay of a test conversation (through a store, restored after every step) fails a
/// conversation whose restored session is not the live one, naming the step and the fields that
/// differ — never their values.
@Suite struct ThirdReplayTests {
    /// A store that keeps everything as the SQLite store does, but whose every snapshot comes back
    /// a second later than it was taken (checked and decoding: a restore that believes it is wrong).
    struct ShiftingSnapshots: Store {
        let inner: SQLiteStore
        var instance: String { inner.instance }
        var identity: String { inner.identity }

        func resumeLog(of session: String) async throws -> ResumeLog {
            var log = try await inner.resumeLog(of: session)
            if let snapshot = log.snapshot {
                let parts = snapshot.parts
                var state = try JSONDecoder().decode(SessionState.self, from: parts.state)
                state.updated.epochMillis += 1_000
                log.snapshot = try SessionSnapshot(seq: snapshot.seq, state: state, engine: parts.engine ?? "")
            }
            return log
        }

        func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws { try await inner.create(info, first: first, token: token) }
        func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String, record: JSON?, at: Int64) async throws {
            try await inner.append(entries, to: session, status: status, locale: locale, record: record, at: at)
        }
        func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String, record: JSON?, at: Int64,
                    snapshot: SessionSnapshot?) async throws {
            try await inner.append(entries, to: session, status: status, locale: locale, record: record, at: at, snapshot: snapshot)
        }
        func setDialogVersion(_ version: String, of session: String) async throws { try await inner.setDialogVersion(version, of: session) }
        func log(of session: String) async throws -> [LogEntry] { try await inner.log(of: session) }
        func session(_ id: String) async throws -> SessionInfo? { try await inner.session(id) }
        func session(resuming token: ResumeToken) async throws -> SessionInfo? { try await inner.session(resuming: token) }
        func listSessions(_ filter: SessionFilter) async throws -> SessionList { try await inner.listSessions(filter) }
        func markPrivate(_ session: String, at: Int64) async throws { try await inner.markPrivate(session, at: at) }
        func privacy(of session: String) async throws -> Privacy? { try await inner.privacy(of: session) }
        func holder(of session: String) async throws -> String? { try await inner.holder(of: session) }
        func sessionsHeldElsewhere(_ sessions: [String]) async throws -> [String] { try await inner.sessionsHeldElsewhere(sessions) }
        func record(of session: String) async throws -> JSON? { try await inner.record(of: session) }
        func records(ofClient client: ClientKey) async throws -> [FinishedRecord] { try await inner.records(ofClient: client) }
        func audit() async throws -> [AuditEntry] { try await inner.audit() }
        func recordReads(_ sessions: [String], kind: String, by actor: String, at: Int64) async throws {
            try await inner.recordReads(sessions, kind: kind, by: actor, at: at)
        }
        func accessHistory(of session: String) async throws -> [AuditEntry] { try await inner.accessHistory(of: session) }
        func deleteSession(_ id: String, by actor: IntakeRuntime.Actor, at: Int64) async throws -> Bool { try await inner.deleteSession(id, by: actor, at: at) }
        func abandonedSessions(updatedBefore: Int64) async throws -> [String] { try await inner.abandonedSessions(updatedBefore: updatedBefore) }
        func abandonedSessions(startedFrom from: Int64, to: Int64) async throws -> Set<String> {
            try await inner.abandonedSessions(startedFrom: from, to: to)
        }
        func purgeAbandoned(olderThanDays days: Int, by actor: IntakeRuntime.Actor, at: Int64) async throws -> Int {
            try await inner.purgeAbandoned(olderThanDays: days, by: actor, at: at)
        }
        func limit(_ rule: RateLimit, address: String, counting: RateLimit.Counting, at: Int64) async throws -> Bool {
            try await inner.limit(rule, address: address, counting: counting, at: at)
        }
        func checkStorage() async throws { try await inner.checkStorage() }
        func verify() async throws -> Verification { try await inner.verify() }
    }

    /// The first conversation of the intake dialog that passes and runs long enough for snapshots.
    static func conversation() throws -> (Conversation, ConversationRunner, Engine) {
        let project = StoreTestProject.project
        let runner = ConversationRunner(project: project)
        let engine = Engine(dialog: try #require(project.dialogs["intake"]), catalog: project.catalog)
        for file in project.conversationFiles.sorted() {
            for c in ConversationParser.parse(file: file).0 where project.dialog(c.dialog)?.id == "intake" && c.previous == nil && c.steps.count > 20 {
                if runner.run(c).passed { return (c, runner, engine) }
            }
        }
        throw NoConversation()
    }

    struct NoConversation: Error {}

    @Test func aRestoreThatDiffersFromTheLiveSessionFailsTheConversationNamingTheStep() async throws {
        let (c, runner, engine) = try Self.conversation()
        let fed = runner.pass(c, engine, carrying: nil, restoring: false).fed
        // Through the real store: every restore is the live session.
        #expect(try await ConversationRunner.storedPass(c, engine, carrying: nil, fed) == nil)
        // Through a store whose snapshots are wrong: the first restore from one fails, at its step.
        let lying = ShiftingSnapshots(inner: try IntakeDatabase.inMemory().store)
        let problem = try #require(try await ConversationRunner.storedPass(c, engine, carrying: nil, fed, store: lying))
        #expect(problem.contains(c.file), "the step is named by its place in the conversation file: \(problem)")
        #expect(problem.contains("differs from the live session in updated"), "\(problem)")
        #expect(problem.contains("snapshot after entry \(ConversationRunner.storedSnapshotInterval)"), "\(problem)")
    }

    @Test func theEngineAndTheRunnerDisagreeingFailsTheConversationNamingTheStep() async throws {
        let (c, runner, engine) = try Self.conversation()
        var fed = runner.pass(c, engine, carrying: nil, restoring: false).fed
        // The engine's state after the third step, as if it had given another language.
        guard case .event(let e, let at, let step, var state) = fed[2] else { Issue.record("no event"); return }
        state.locale = state.locale == "en" ? "ja" : "en"
        fed[2] = .event(e, at, step, state)
        let problem = try #require(try await ConversationRunner.storedPass(c, engine, carrying: nil, fed))
        #expect(problem.hasPrefix(step + ": the runner's session differs from the engine's in locale"), "\(problem)")
    }
}
