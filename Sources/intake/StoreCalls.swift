import ArgumentParser
import Foundation
import IntakeEngine
import IntakeRuntime

// The commands reach a database only through `any Store` (async). These are the async forms of
// `reportingDamage` and `withRecords`, and a bridge for the one synchronous caller left (the
// counselor's REPL, whose readline loop runs on the main thread).

/// Runs `body`; damage it meets is named on standard error (never the stored data) and ends the
/// command with exit 1 (as the synchronous `reportingDamage`).
func reportingDamage<T>(database path: String = "", _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw damageReported(error, database: path)
    }
}

/// Runs `body`, turning a sealed database read without (or with the wrong) key into its refusal
/// in `messages`' words (as the synchronous `withRecords`).
func withRecords<T>(_ messages: Messages = Messages(), _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw keyRefusal(error, messages)
    }
}

/// Waits, on a synchronous caller's thread, for a store call. Only for a thread outside the
/// cooperative pool (the REPL's main thread): the call runs on the pool (and a store does its
/// blocking work on threads of its own), so the wait cannot starve it.
func waitFor<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Outcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        outcome.set(result)
        done.signal()
    }
    done.wait()
    return try outcome.get()
}

/// One call's result, handed from the task to the waiting thread. `@unchecked Sendable`: `result`
/// is written once under `lock` before the semaphore is signalled, and read under it after.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?

    func set(_ r: Result<T, any Error>) {
        lock.lock()
        result = r
        lock.unlock()
    }

    func get() throws -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let result else { throw CancellationError() }
        return try result.get()
    }
}

/// The session runner's async calls, waited for by the REPL and line mode (see `waitFor`): one
/// runner, one store protocol, whatever the database.
extension SessionRunner {
    func startWaiting(id: String, token: ResumeToken, locale: String, mode: SessionState.Mode, actor: Actor, clientID: String?,
                      office: String?, carrying: Carried?, at now: Moment) throws -> (RunningSession, [Effect]) {
        try waitFor {
            try await self.start(id: id, token: token, locale: locale, mode: mode, actor: actor, clientID: clientID, office: office,
                                 carrying: carrying, at: now)
        }
    }

    func handleWaiting(_ event: Event, in session: inout RunningSession, actor: Actor, at now: Moment) throws -> [Effect] {
        let before = session
        let (effects, after) = try waitFor { () async throws -> ([Effect], RunningSession) in
            var s = before
            let effects = try await self.handle(event, in: &s, actor: actor, at: now)
            return (effects, s)
        }
        session = after
        return effects
    }

    func suspendWaiting(_ session: inout RunningSession, actor: Actor, at now: Moment) throws {
        let before = session
        session = try waitFor { () async throws -> RunningSession in
            var s = before
            try await self.suspend(&s, actor: actor, at: now)
            return s
        }
    }

    func resumeWaiting(token: ResumeToken, mode: SessionState.Mode, actor: Actor, at now: Moment) throws -> (RunningSession, [Effect]) {
        try waitFor { try await self.resume(token: token, mode: mode, actor: actor, at: now) }
    }

    func resumeWaiting(_ info: SessionInfo, mode: SessionState.Mode, actor: Actor, at now: Moment) throws -> (RunningSession, [Effect]) {
        try waitFor { try await self.resume(info, mode: mode, actor: actor, at: now) }
    }
}
