import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore

/// Where the database is: `./intake.sqlite` unless `--db` says otherwise; created on first use.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "The database file (created on first use).")
    var db = "intake.sqlite"

    func open() throws -> IntakeDatabase {
        do {
            return try IntakeDatabase.open(path: db)
        } catch {
            throw ValidationError("cannot open the database '\(db)'")
        }
    }
}

struct RecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Lists, shows, exports and deletes stored sessions and records.",
        subcommands: [List.self, Show.self, Export.self, Delete.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists sessions, newest first (no answers).")

        @Option(help: "Only sessions of this status: in_progress, suspended, complete, stopped.")
        var status: SessionInfo.Status?

        @Option(help: "Only sessions of this counselor.")
        var counselor: String?

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let db = try database.open()
            for s in try db.sessions(status: status, counselor: counselor) {
                let started = Moment(epochMillis: s.startedAt).iso
                print([s.id, started, s.status.rawValue, s.dialogID, s.dialogVersion, s.mode.rawValue, s.locale, s.counselor ?? "-"]
                    .joined(separator: "\t"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints a finished session's record as JSON.")

        @Argument(help: "The session id.")
        var id: String

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let db = try database.open()
            guard try db.session(id) != nil else { throw ValidationError("no session '\(id)'") }
            guard let record = try db.record(of: id) else { throw ValidationError("session '\(id)' has no record yet (not finished)") }
            print(record)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Exports the records of finished sessions.")

        enum Format: String, ExpressibleByArgument { case json, ndjson }

        @Option(help: "json (one array) or ndjson (one record a line).")
        var format: Format = .ndjson

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let db = try database.open()
            let records = try db.sessions().compactMap { try db.record(of: $0.id) }
            switch format {
            case .ndjson: for r in records { print(r) }
            case .json: print("[" + records.joined(separator: ",\n") + "]")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes a session and its log at the client's request; the audit trail says what, when and by whom.")

        @Argument(help: "The session id.")
        var id: String

        @Option(help: "Who deletes (a counselor's name), for the audit trail.")
        var by: String

        @OptionGroup var database: DatabaseOptions

        func run() throws {
            let db = try database.open()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            guard try db.deleteSession(id, by: .counselor(by), at: now) else { throw ValidationError("no session '\(id)'") }
            print("deleted \(id)")
        }
    }
}

extension SessionInfo.Status: ExpressibleByArgument {}
