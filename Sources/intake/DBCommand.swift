import ArgumentParser
import Foundation
import IntakeRuntime
import IntakeStore

/// `intake db …`: moving a database.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Moves an office's database into another (e.g. into the shared database of several offices), and says who may do what in a shared one.",
        subcommands: [Copy.self, Grant.self, Revoke.self, Staff.self]
    )

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copies every session, its log, its record and resume number, and the audit trail from one database into another, then checks the copy.",
            discussion: """
                Rows are copied exactly as stored (sealed values stay sealed, the log's hash chain is kept), so the \
                target must be sealed with the same key as the source, or neither sealed. Nothing is copied if the \
                source has a damaged session (see `intake records verify`) or if the target already holds a session \
                of the source. Afterwards every session's entry count and chain head are compared in both.
                """
        )

        @Option(help: "The database to copy from.")
        var from: String

        @Option(help: "The database to copy into: a SQLite file (created if it does not exist) or postgres://USER@HOST:PORT/DATABASE.")
        var to: String

        @Option(help: "The key file both databases are sealed with, when they are.")
        var key: String?

        func run() async throws {
            let messages = Messages()
            // Opening creates a database that is not there: the source must already be.
            if case .sqlite = StoreLocation(from), !FileManager.default.fileExists(atPath: from) {
                printError(messages.text("dbcopy.no_source", ["from": from]))
                throw ExitCode(66)  // EX_NOINPUT
            }
            let source = try await DatabaseOptions.openAny(from, key: key, access: .read, messages: messages)
            let target = try await DatabaseOptions.openAny(to, key: key, access: .write, messages: messages)
            do {
                let report = try await StoreCopy.copy(from: source, to: target, by: .counselor(target.identity),
                                                      at: Int64((Date().timeIntervalSince1970 * 1000).rounded()), describing: from)
                print(messages.text("dbcopy.done", ["sessions": String(report.sessions), "events": String(report.events),
                                                    "audit": String(report.auditEntries), "from": from, "to": to]))
                if report.unchained > 0 { print(messages.text("dbcopy.unchained", ["count": String(report.unchained)])) }
            } catch let failure as StoreCopy.Failure {
                switch failure {
                case .sourceDamaged(let ids):
                    printError(messages.text("dbcopy.source_damaged", ["from": from, "ids": ids.joined(separator: ", ")]))
                case .sealMismatch:
                    printError(messages.text("dbcopy.seal_mismatch", ["from": from, "to": to]))
                case .alreadyInTarget(let ids):
                    printError(messages.text("dbcopy.already_in_target", ["to": to, "count": String(ids.count),
                                                                          "ids": ids.prefix(10).joined(separator: ", ")]))
                case .checkFailed(let ids):
                    printError(messages.text("dbcopy.check_failed", ["to": to, "ids": ids.joined(separator: ", ")]))
                }
                throw ExitCode(1)
            } catch Cipher.Failure.needsKey {
                // A sealed source read without its key: checked before anything is copied.
                printError(messages.text("integrity.records_need_key"))
                throw ExitCode(StorageExit.keyRefused)
            } catch {
                if let message = IntegrityMessages.message(for: error, database: from, key: key) {
                    printError(message)
                    throw ExitCode(1)
                }
                printError(messages.text("dbcopy.failed", ["error": storageErrorDescription(error)]))
                throw ExitCode(1)
            }
        }
    }
}
