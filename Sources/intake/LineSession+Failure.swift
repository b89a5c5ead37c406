import ArgumentParser
import IntakeDialogs
import IntakeEngine
import IntakeRuntime

/// A stored session whose write failed, at the counselor's terminal or in `intake run`: what was
/// shown stays true (nothing is shown as saved that is not), the session is suspended where it can
/// be, and the person is told how to come back — the program never just dies with a database error.
extension LineSession {
    /// The exit status after another process took the session over.
    static let exitTakenOver: Int32 = 4
    /// The exit status after an answer could not be saved.
    static let exitNotSaved: Int32 = 5

    /// Says what happened to a failed write and how to go on; returns the exit status to end with.
    mutating func stop(after error: any Error, actor: Actor, at now: Moment, catalog: Catalog, say: (String) -> Void) -> Int32 {
        let locale = state.locale
        if case RuntimeError.takenOver = error {
            // Another process runs it now: nothing to suspend here, and its token is the other's business.
            say(catalog.text("shared_db.taken_over", locale))
            return Self.exitTakenOver
        }
        say(catalog.text("shared_db.not_saved", locale))
        do {
            _ = try suspend(actor: actor, at: now)
        } catch RuntimeError.takenOver {
            say(catalog.text("shared_db.taken_over", locale))
            return Self.exitTakenOver
        } catch {
            // Not suspended: it stays in progress, and its token resumes it all the same.
        }
        sayHowToResume(catalog: catalog, say: say)
        return Self.exitNotSaved
    }

    /// The token that resumes the session (or, resumed by id, the list it is in).
    func sayHowToResume(catalog: Catalog, say: (String) -> Void) {
        if let token {
            say(catalog.text("shared_db.resume_later", state.locale, ["token": token.description]))
        } else {
            say(catalog.text("shared_db.resume_later_listed", state.locale))
        }
    }
}
