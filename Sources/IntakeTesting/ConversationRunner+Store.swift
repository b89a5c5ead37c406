import Foundation
import IntakeEngine
import IntakeRuntime
import IntakeStore

/// The third replay of every test conversation: the way production restores a session. The same
/// events as the straight run go through the session runner into a store (an in-memory SQLite
/// database), and after every step the session is restored from what the store holds — its newest
/// snapshot and the entries after it, or its whole log — and must be the live session exactly.
/// Snapshots are taken every `storedSnapshotInterval` entries here, so that restoring from one
/// (and replaying the entries after it) is what is proven, not only the whole log's replay. At the
/// end an unfinished session is suspended and resumed through the runner, as a person coming back
/// would be.
extension ConversationRunner {
    /// What the straight run gave the engine: an event at its moment, from a step (its place in the
    /// conversation file), and the state the engine then had; or `:quit`.
    enum Fed: Sendable {
        case event(Event, Moment, String, SessionState)
        case quit(Moment)
    }

    /// Entries between snapshots in the third replay (production: `SessionRunner.defaultSnapshotInterval`).
    static let storedSnapshotInterval = 3

    /// The third replay of `fed`; nil when every restored state was the live one, else what
    /// differed and at which step (names of the state's fields, never its values).
    func throughStore(_ c: Conversation, _ engine: Engine, carrying: Carried?, _ fed: [Fed]) -> String? {
        guard #available(macOS 15.0, *) else { return nil }
        do {
            return try CallerThreadExecutor.run { try await Self.storedPass(c, engine, carrying: carrying, fed) }
        } catch {
            return "the session could not be stored or restored: \(error)"
        }
    }

    /// `store`: where the session is kept (nil: a new in-memory SQLite database).
    static func storedPass(_ c: Conversation, _ engine: Engine, carrying: Carried?, _ fed: [Fed],
                           store given: (any Store)? = nil) async throws -> String? {
        let store = try given ?? IntakeDatabase.inMemory().store
        var runner = SessionRunner(engine: engine, store: store)
        runner.snapshotInterval = storedSnapshotInterval
        // As long as a conversation is: the limit is the runner's, not the test's.
        runner.maxEvents = max(runner.maxEvents, 2 * fed.count + 10)
        let actor: IntakeRuntime.Actor = c.mode == .counselor ? .counselor("test") : .client
        let id = "conversation"
        var now = Moment.noon(of: c.today)
        var (session, _) = try await runner.start(id: id, token: ResumeToken(bytes: Array(repeating: 7, count: 16)), locale: c.locale,
                                                  mode: c.mode, actor: actor, carrying: carrying, at: now)
        var snapshots = 0
        func restored(after step: String) async throws -> String? {
            guard let info = try await store.session(id) else { return "\(step): the store has no session" }
            let back = try await runner.restore(info)
            if back.snapshotSeq != nil { snapshots += 1 }
            if let problem = back.ignored { return "\(step): the store's snapshot was passed over (\(problem.rawValue))" }
            guard back.state == session.state else {
                let from = back.snapshotSeq.map { "its snapshot after entry \($0) and the entries after it" } ?? "its whole log"
                return "\(step): the session restored from the store (\(from)) differs from the live session in "
                    + differingFields(back.state, session.state).joined(separator: ", ")
            }
            return nil
        }
        if let problem = try await restored(after: "the start") { return problem }
        for f in fed {
            switch f {
            case .event(let event, let at, let step, let expected):
                now = at
                _ = try await runner.handle(event, in: &session, actor: actor, at: at)
                guard session.state == expected else {
                    return "\(step): the runner's session differs from the engine's in " + differingFields(session.state, expected).joined(separator: ", ")
                }
                if let problem = try await restored(after: step) { return problem }
            case .quit(let at):
                now = at
                try await runner.suspend(&session, actor: actor, at: at)
            }
        }
        // A session that did not finish comes back through the runner (its snapshot, the entries
        // after it, the resume written) where it stood.
        if case .done = session.state.phase {} else {
            now.epochMillis += 60_000
            try await runner.suspend(&session, actor: actor, at: now)
            guard let info = try await store.session(id) else { return "the store has no session to resume" }
            let (resumed, _) = try await runner.resume(info, mode: c.mode, actor: actor, at: now)
            let expected = engine.continuing(in: c.mode, session.state, at: now).state
            guard resumed.state == expected else {
                return "the session resumed from the store differs from the live session in " + differingFields(resumed.state, expected).joined(separator: ", ")
            }
        }
        if fed.count > 2 * storedSnapshotInterval, snapshots == 0 { return "no restore started from a snapshot" }
        return nil
    }

    /// The names of the fields in which two states differ (never their values: a conversation's
    /// answers are the fixture's, but a message names only where to look).
    static func differingFields(_ a: SessionState, _ b: SessionState) -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ name: String, _ x: T, _ y: T) { if x != y { out.append(name) } }
        check("dialogID", a.dialogID, b.dialogID)
        check("dialogVersion", a.dialogVersion, b.dialogVersion)
        check("earlierVersions", a.earlierVersions, b.earlierVersions)
        check("locale", a.locale, b.locale)
        check("mode", a.mode, b.mode)
        check("started", a.started, b.started)
        check("updated", a.updated, b.updated)
        check("finished", a.finished, b.finished)
        check("phase", a.phase, b.phase)
        check("answers", a.answers, b.answers)
        check("trail", a.trail, b.trail)
        check("reopened", a.reopened, b.reopened)
        check("current", a.current, b.current)
        check("answersAfterCurrent", a.answersAfterCurrent, b.answersAfterCurrent)
        check("pending", a.pending, b.pending)
        check("warnings", a.warnings, b.warnings)
        check("notes", a.notes, b.notes)
        check("revisit", a.revisit, b.revisit)
        return out.isEmpty ? ["(a field not named here)"] : out
    }
}

/// Runs async work to its end on the calling thread: the work's every job runs here, in turn,
/// and the thread waits (blocked) between them. A synchronous caller (a test conversation run by
/// `intake test`, or by a test of the suite on a thread of Swift's cooperative pool) can so wait for
/// a store without asking the pool for a thread it may not have: nothing of the work needs another
/// thread of the pool (the store's commits run on its own thread and resume the work here).
///
/// `@unchecked Sendable`: `jobs`, `finished` and the result are read and written only while
/// holding `condition`.
@available(macOS 15.0, *)
final class CallerThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let executor = CallerThreadExecutor()
        let outcome = Outcome<T>()
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            executor.finish { outcome.result = result }
        }
        executor.drain()
        return try executor.locked { outcome.result }?.get() ?? { throw CancellationError() }()
    }

    private func finish(_ body: () -> Void) {
        condition.lock()
        body()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func locked<R>(_ body: () -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    private func drain() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs = []
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    /// The work's result, handed from its task to the waiting thread under `condition`.
    private final class Outcome<T: Sendable>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }
}
