import ArgumentParser
import Foundation
import IntakeEngine
import IntakeRuntime
import IntakeStore

/// Reading is audited: every command (and REPL command) that shows stored records first writes
/// who reads which records, when and as what kind of output (`Store.recordReads`: the store's
/// identity, never a name typed on the command line, and nothing of the data), then shows them.
/// When the entry cannot be written, nothing is shown (fail closed).
enum ReadAudit {
    /// The exit code of a read that could not be audited (EX_IOERR: the database took no write).
    static let notRecordedExit: Int32 = 74

    /// Records the read of `sessions` as `kind`; when that fails, says so on standard error and
    /// ends the command (nothing of the records is printed).
    static func record(_ sessions: [String], kind: String, in store: any Store, messages: Messages,
                       at now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) async throws {
        do {
            try await store.recordReads(sessions, kind: kind, by: store.identity, at: now)
        } catch {
            printError(messages.text("audit.not_recorded", ["reason": storageErrorDescription(error)]))
            throw ExitCode(notRecordedExit)
        }
    }

    /// The REPL's form (its loop runs on the main thread): true when the read is recorded; else
    /// the counselor is told, and the caller shows nothing.
    static func recordWaiting(_ sessions: [String], kind: String, in store: any Store, say: (String) -> Void,
                              text: (String, [String: String]) -> String, at now: Int64) -> Bool {
        do {
            try waitFor { try await store.recordReads(sessions, kind: kind, by: store.identity, at: now) }
            return true
        } catch {
            say(text("audit.not_recorded", ["reason": storageErrorDescription(error)]))
            return false
        }
    }

    /// One line of a session's access history: when (office time), who, what kind of output (the
    /// action for an entry that is not a read), each shown, never acted on, by a terminal.
    static func line(_ entry: AuditEntry) -> String {
        let kind = entry.action == AuditEntry.read ? entry.detail : entry.action
        return [Moment(epochMillis: entry.at).iso, entry.actor, kind].map { ControlCharacters.visible($0) }.joined(separator: "\t")
    }
}

extension RecordsCommand {
    struct Access: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists who read a session's record, when and as what (show, sheet, export, list, visit, resume, report), oldest first; kept after the session is deleted.")

        @Argument(help: "The session id.")
        var id: String

        @Option(help: "Where the dialogs are (for the messages' wording).")
        var dialogs = "Dialogs"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func run() async throws {
            let messages = project.messages(dialogs)
            // The audit trail is not sealed: a sealed database is read without its key.
            let store = try await database.openStore(messages)
            let history = try await reportingDamage(database: database.db) { try await store.accessHistory(of: id) }
            guard !history.isEmpty else {
                return printError(messages.text("audit.access.none", ["id": ControlCharacters.visible(id)]))
            }
            for entry in history { print(ReadAudit.line(entry)) }
        }
    }
}
