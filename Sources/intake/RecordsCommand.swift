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

    @Option(help: "A key file (from `intake new-key`): answers and records are sealed with it at rest.")
    var key: String?

    func open() throws -> IntakeDatabase {
        try DatabaseOptions.open(db, key: key)
    }

    static func open(_ path: String, key: String?) throws -> IntakeDatabase {
        let cipher: Cipher?
        do {
            cipher = try key.map { try Cipher(keyFile: $0) }
        } catch {
            throw ValidationError("cannot read the key file '\(key ?? "")' (it must hold 32 bytes in base64; make one with `intake new-key FILE`)")
        }
        do {
            return try IntakeDatabase.open(path: path, cipher: cipher)
        } catch {
            throw ValidationError("cannot open the database '\(path)'")
        }
    }
}

struct RecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Lists, shows, exports and deletes stored sessions and records.",
        subcommands: [List.self, Show.self, Sheet.self, Export.self, Delete.self]
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
            guard let record = try withRecords({ try db.record(of: id) }) else {
                throw ValidationError("session '\(id)' has no record yet (not finished)")
            }
            print(record)
        }
    }

    struct Sheet: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints a sheet of a stored, finished record as Markdown (record, trial, request, referral, inventory).")

        @Argument(help: "The session id.")
        var id: String

        @Option(help: "The sheet: record, trial, request, referral, inventory.")
        var kind: String

        @Option(help: "Language of the sheet: ja (default), en, ja-easy.")
        var locale = "ja"

        @Option(help: "Where the dialogs and sheets are.")
        var dialogs = "Dialogs"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func run() throws {
            let loaded = try project.loadRunnable([dialogs])
            let db = try database.open()
            guard try db.session(id) != nil else { throw ValidationError("no session '\(id)'") }
            guard let text = try withRecords({ try db.record(of: id) }) else {
                throw ValidationError("session '\(id)' has no record yet (not finished)")
            }
            guard let json = try? JSONDecoder().decode(JSON.self, from: Data(text.utf8)) else {
                throw ValidationError("session '\(id)' has a record that is not JSON")
            }
            try SheetCommand.print(kind, of: json, named: "session '\(id)'", locale: locale, loaded)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Exports the records of finished sessions.")

        enum Format: String, ExpressibleByArgument { case json, ndjson, csv, fhir }

        @Option(help: "json (one array), ndjson (one record a line), csv (one row a record, one column a question; repeat groups as numbered columns) or fhir (an R4 Bundle: the dialog's Questionnaire and a QuestionnaireResponse per record).")
        var format: Format = .ndjson

        @Option(help: "With csv and fhir: the dialog whose records to export.")
        var dialog = "intake"

        @Flag(help: "With csv: start with a UTF-8 byte-order mark (for spreadsheet programs that need it).")
        var bom = false

        @Option(help: "Where the dialogs are (for csv columns).")
        var dialogs = "Dialogs"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func run() throws {
            let db = try database.open()
            let sessions = try db.sessions().reversed()
            try withRecords { try exportRecords(db, Array(sessions)) }
        }

        private func exportRecords(_ db: IntakeDatabase, _ sessions: [SessionInfo]) throws {
            switch format {
            case .ndjson:
                for s in sessions { if let r = try db.record(of: s.id) { print(r) } }
            case .json:
                print("[" + (try sessions.compactMap { try db.record(of: $0.id) }).joined(separator: ",\n") + "]")
            case .csv, .fhir:
                let project = try self.project.loadRunnable([dialogs])
                guard let d = project.dialogs[dialog] else { throw ValidationError("unknown dialog '\(dialog)'") }
                let records: [(session: String, record: JSON)] = try sessions.filter { $0.dialogID == dialog }.compactMap { s in
                    guard let text = try db.record(of: s.id), let json = try? JSONDecoder().decode(JSON.self, from: Data(text.utf8)) else { return nil }
                    return (s.id, json)
                }
                if format == .csv {
                    print(CSVExport.table(dialog: d, records: records, bom: bom), terminator: "")
                } else {
                    print(FHIRExport.bundle(d, catalog: project.catalog, locale: "ja", records: records).rendered(pretty: true))
                }
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
        @OptionGroup var project: ProjectOptions

        func run() throws {
            let db = try database.open()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            do {
                guard try db.deleteSession(id, by: .counselor(by), at: now) else { throw ValidationError("no session '\(id)'") }
            } catch StoreError.checkpointBlocked {
                // Deleted, but the WAL could not be emptied while other processes kept using the file.
                let catalog = project.load(["Dialogs"]).catalog
                printError(catalog.text("shared_db.delete_checkpoint_blocked", project.messageLocale, ["id": id]))
                throw ExitCode(3)
            }
            print("deleted \(id)")
        }
    }
}

extension SessionInfo.Status: ExpressibleByArgument {}

/// Runs `body`, turning a sealed database read without (or with the wrong) key into a usage error.
func withRecords<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch Cipher.Failure.needsKey {
        throw ValidationError("the records in this database are sealed: give the key file with --key FILE")
    } catch Cipher.Failure.cannotOpen {
        throw ValidationError("the records do not open with this key file")
    }
}
