import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeRecords
import IntakeStore

/// Where the database is: `./intake.sqlite` unless `--db` says otherwise; created on first use.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "The database: a SQLite file (created on first use; default intake.sqlite, or $INTAKE_DB), or postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ~/.pgpass, never in the URL).")
    var db = StoreLocation.defaultDB

    @Option(help: "A key file (from `intake new-key`): answers and records are sealed with it at rest.")
    var key: String?

    /// Opens for `access`: a command that may write a sealed database needs its key.
    func open(_ messages: Messages = Messages(), access: DatabaseAccess = .read) throws -> IntakeDatabase {
        try DatabaseOptions.open(db, key: key, access: access, messages: messages)
    }

    /// Opens for `access`, and from there on the database is reached only through the `Store`
    /// protocol (whichever database is behind it).
    func openStore(_ messages: Messages = Messages(), access: DatabaseAccess = .read) async throws -> any Store {
        try await DatabaseOptions.openAny(db, key: key, access: access, messages: messages)
    }

    /// Opens the database; when it cannot, says why on standard error in the user's language (no
    /// usage text: the command line was right) and exits with a code for the cause (`StorageExit`).
    static func open(_ path: String, key: String?, access: DatabaseAccess = .write, messages: Messages = Messages()) throws -> IntakeDatabase {
        let cipher: Cipher?
        do {
            cipher = try key.map { try Cipher(keyFile: $0) }
        } catch {
            if let message = IntegrityMessages.message(for: error, database: path, key: key) {
                printError(message)
                throw ExitCode(StorageExit.keyRefused)
            }
            throw messages.error("integrity.key_unreadable", ["key": key ?? ""])
        }
        let database: IntakeDatabase
        do {
            database = try IntakeDatabase.open(path: path, cipher: cipher, access: access)
        } catch let error as StoreOpenError {
            printError(messages.text("operations.storage." + error.code,
                                     ["path": path, "code": error.sqliteCode.map { String($0) } ?? "-"]))
            throw ExitCode(StorageExit.code(for: error.cause))
        } catch {
            // Sealed without the key, a wrong key, a key for a database in clear: said as such.
            if let message = IntegrityMessages.message(for: error, database: path, key: key) {
                printError(message)
                throw ExitCode(StorageExit.code(for: error))
            }
            printError(messages.text("operations.storage.other", ["path": path, "code": "-"]))
            throw ExitCode(StorageExit.code(for: .other))
        }
        if database.permissionsTightened {
            printError(messages.text("operations.storage.tightened", ["path": path]))
        }
        return database
    }
}

/// Exit codes of a database that does not open (sysexits.h): a script can tell a usage error (64,
/// ArgumentParser's) from a runtime one, and a wait-and-retry (75) from a call for help.
enum StorageExit {
    static func code(for cause: StoreOpenError.Cause) -> Int32 {
        switch cause {
        case .locked: return 75        // EX_TEMPFAIL: try again later
        case .notIntake, .damaged: return 65  // EX_DATAERR: the file is not (or no longer) an intake database
        case .noPermission: return 77  // EX_NOPERM
        case .noFolder: return 73      // EX_CANTCREAT
        case .diskFull, .other: return 74  // EX_IOERR
        }
    }

    /// A key that does not open this database (none for a sealed one, another one, one open to others).
    static let keyRefused: Int32 = 77  // EX_NOPERM

    /// The exit code for what the store refused after opening the file.
    static func code(for error: any Error) -> Int32 {
        switch error {
        case StoreError.sealedNeedsKey, StoreError.wrongKey, Cipher.Failure.keyFileOpenToOthers: return keyRefused
        default: return 65  // EX_DATAERR: damaged, or a database in clear given a key
        }
    }
}

/// A command's own messages, from Locales/ (beside the dialogs, or `--locales`) in the language of
/// `--lang`, else LANG (ja when it says Japanese, else en). Read only when a message is needed.
struct Messages: Sendable {
    private let catalog: @Sendable () -> Catalog
    let locale: String

    init(catalog: Catalog, locale: String) {
        self.catalog = { catalog }
        self.locale = locale
    }

    init(dialogs: [String] = ["Dialogs"], locales: String? = nil, language: String? = nil) {
        catalog = { Project.loadCatalog(paths: dialogs, localesDirectory: locales) }
        let lang = ProcessInfo.processInfo.environment["LANG"] ?? ""
        locale = language ?? (lang.hasPrefix("ja") ? "ja" : "en")
    }

    func text(_ key: String, _ args: [String: String] = [:]) -> String {
        // Without the Locales folder: the message's key and its values, rather than nothing.
        catalog().optionalText(key, locale, args) ?? ([key] + args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }

    /// A usage error in these words (ArgumentParser shows it after "Error:", with the usage, exit 64).
    func error(_ key: String, _ args: [String: String] = [:]) -> ValidationError {
        ValidationError(text(key, args))
    }
}

extension ProjectOptions {
    /// Messages for a command that has these options, its dialogs in `dialogs`.
    func messages(_ dialogs: String = "Dialogs") -> Messages {
        Messages(dialogs: [dialogs], locales: locales, language: language)
    }
}

struct RecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "Lists, shows, exports and deletes stored sessions and records.",
        subcommands: [List.self, Show.self, Sheet.self, Export.self, Access.self, Delete.self, Verify.self, Purge.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists sessions, newest first, with the client's number, name and kana (no other answers); finds a client by number or name.",
            discussion: "Columns (TAB): id, started, status, dialog, version, mode, locale, counselor, office (— for the unnamed office), client number, name, kana. A client is her office and her number there: two offices' client 1024 are two lines, each naming its office. A list that shows a client's number or name is a read in the audit trail (kind \"list\"), written before it is printed.")

        @Argument(help: "Find a client: her number, or part of her name or kana (hiragana or katakana, either width).")
        var search: String?

        @Option(help: "Only sessions of this status: in_progress, suspended, complete, stopped.")
        var status: SessionInfo.Status?

        @Option(help: "Only sessions of this counselor: her database login (PostgreSQL) or operating-system account (SQLite).")
        var counselor: String?

        @Option(help: "Only this client's sessions: her number in the office.")
        var client: String?

        @Option(help: "The office: only its sessions, and a client's number (--client, or a number searched) is this office's (two offices' same number are two clients; '' is the unnamed office).")
        var office: String?

        @Option(help: "Only clients whose name or kana holds this (hiragana or katakana, either width).")
        var name: String?

        @Option(help: "Where the dialogs are (for the messages' wording).")
        var dialogs = "Dialogs"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func run() async throws {
            let messages = project.messages(dialogs)
            let store = try await database.openStore(messages)
            // A damaged session is named on standard error (exit 1); the others are listed.
            let list = try await store.listSessions(SessionFilter(status: status, counselor: counselor))
            let found = try await ClientListing.names(of: list.sessions, in: store)
            let query = search.map { TextFolding.fold($0) }.flatMap { $0.isEmpty ? nil : $0 }
            if found.sealed && (name != nil || query.map { !$0.allSatisfy(\.isNumber) } == true) {
                // A name cannot be searched in answers that do not open.
                throw keyRefusal(Cipher.Failure.needsKey, messages)
            }
            let damaged = Set(found.damaged)
            let shown = list.sessions.filter {
                !damaged.contains($0.id)
                    && ClientListing.matches($0, found.names[$0.id], office: office, client: client, nameQuery: name, any: query)
            }
            // A row that names a client (her number, her name) is a read, audited before it is printed.
            let naming = shown.filter { $0.clientID != nil || found.names[$0.id] != nil }.map(\.id)
            try await ReadAudit.record(naming, kind: "list", in: store, messages: messages)
            let unnamed = messages.text("terminal.records.unnamed_office")
            for s in shown {
                let started = Moment(epochMillis: s.startedAt).iso
                let who = found.names[s.id]
                // Her office beside her number: two offices' client 1024 are two people.
                print([s.id, started, s.status.rawValue, s.dialogID, s.dialogVersion, s.mode.rawValue, s.locale, s.counselor ?? "-",
                       ClientListing.office(of: s, unnamed: unnamed), s.clientID ?? "-", who?.name ?? "-", who?.kana ?? "-"]
                    .map { ControlCharacters.visible($0) }.joined(separator: "\t"))
            }
            if found.sealed { printError(messages.text("terminal.records.names_sealed")) }
            if shown.isEmpty && (client != nil || name != nil || query != nil) {
                printError(messages.text("terminal.records.none_found"))
            }
            let allDamaged = list.damaged + found.damaged
            if !allDamaged.isEmpty { throw IntegrityMessages.damaged(allDamaged) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints a finished session's record as JSON.")

        @Argument(help: "The session id.")
        var id: String

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let messages = Messages()
            let store = try await database.openStore(messages)
            guard let record = try await reportingDamage({
                guard try await store.session(id) != nil else { throw messages.error("operations.cli.no_session", ["id": id]) }
                return try await withRecords(messages) { try await store.record(of: id) }
            }) else {
                throw messages.error("operations.cli.no_record_yet", ["id": id])
            }
            // Who reads it is in the audit trail before anything of it is shown.
            try await ReadAudit.record([id], kind: "show", in: store, messages: messages)
            // The same JSON, with what a terminal would act on written as escapes.
            print(ControlCharacters.escapingInJSON(record.rendered()))
        }
    }

    struct Sheet: AsyncParsableCommand {
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

        func run() async throws {
            let loaded = try project.loadRunnable([dialogs])
            let messages = project.messages(dialogs)
            let store = try await database.openStore(messages)
            // A record that does not read as JSON is damage (`RuntimeError.damaged`), named as such.
            guard let json = try await reportingDamage({
                guard try await store.session(id) != nil else { throw messages.error("operations.cli.no_session", ["id": id]) }
                return try await withRecords(messages) { try await store.record(of: id) }
            }) else {
                throw messages.error("operations.cli.no_record_yet", ["id": id])
            }
            let outcome = try SheetCommand.render(kind, of: json, named: messages.text("operations.cli.record.session", ["id": id]),
                                                  locale: locale, loaded, messages: messages)
            // A sheet that is printed is a read of the record, audited first; one withheld shows nothing of it.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if !outcome.sheets.isEmpty {
                try await ReadAudit.record([id], kind: "sheet:" + kind, in: store, messages: messages, at: now)
            }
            try SheetCommand.emit(outcome, footer: SheetCommand.printedBy(store.identity, session: id, at: now, locale: locale, loaded))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes a session and its log at the client's request; the audit trail says what, when and by whom (the database login, or the operating-system account).")

        @Argument(help: "The session id.")
        var id: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func run() async throws {
            let messages = project.messages()
            let store = try await database.openStore(messages, access: .write)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            do {
                guard try await store.deleteSession(id, by: .counselor(store.identity), at: now) else {
                    throw messages.error("operations.cli.no_session", ["id": id])
                }
            } catch StoreError.checkpointBlocked {
                // Deleted, but the WAL could not be emptied while other processes kept using the file.
                let catalog = project.load(["Dialogs"]).catalog
                printError(catalog.text("shared_db.delete_checkpoint_blocked", project.messageLocale, ["id": id]))
                throw ExitCode(3)
            }
            print(messages.text("operations.cli.deleted", ["id": id]))
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks every session's hash chain: exit 0 when every chain holds, 1 naming each damaged session.")

        @Flag(help: "Also print each intact session's entry count and newest hash (id, count, head), to keep elsewhere as an anchor.")
        var heads = false

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openStore()
            let result = try await withRecords { try await store.verify() }
            var fileDamaged = false
            do { try await store.checkStorage() } catch StoreError.damagedFile {
                fileDamaged = true
                printError(IntegrityMessages.text("damaged_file", ["db": database.db]))
            }
            if heads {
                for s in result.intact { print([s.id, String(s.entries), s.head].joined(separator: "\t")) }
            }
            for id in result.unchained { printError(IntegrityMessages.text("verify.unchained", ["id": id])) }
            for id in result.orphans { printError(IntegrityMessages.text("verify.orphan", ["id": id])) }
            for id in result.damaged { printError(IntegrityMessages.text("damaged", ["id": id])) }
            let total = result.intact.count + result.damaged.count + result.unchained.count
            guard result.damaged.isEmpty && result.orphans.isEmpty && !fileDamaged else {
                printError(IntegrityMessages.text("verify.broken", ["broken": String(result.damaged.count + result.orphans.count), "count": String(total)]))
                throw ExitCode(1)
            }
            printError(IntegrityMessages.text("verify.ok", ["count": String(result.intact.count)]))
        }
    }
}

extension RecordsCommand {
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deletes the sessions abandoned before any answer once the office's retention period has passed (abandoned_session_days in Dialogs/office.yaml, default 30); the audit trail says how many, when and by whom.")

        @Option(help: "Days untouched after which an abandoned session goes (default: the office's abandoned_session_days).")
        var olderThan: Int?

        @Option(help: "Where the dialogs and the office's settings are.")
        var dialogs = "Dialogs"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func validate() throws {
            if let olderThan, !(1...3650).contains(olderThan) {
                throw project.messages(dialogs).error("operations.cli.range_days", ["option": "--older-than", "min": "1", "max": "3650"])
            }
        }

        func run() async throws {
            let days: Int
            if let olderThan {
                days = olderThan
            } else {
                // The office's rule: its settings file must read cleanly, or nothing is purged.
                days = try project.loadRunnable([dialogs]).abandonedSessionDays
            }
            let messages = project.messages(dialogs)
            let store = try await database.openStore(messages, access: .write)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let count = try await store.purgeAbandoned(olderThanDays: days, by: .counselor(store.identity), at: now)
            print(messages.text(count > 0 ? "operations.purge.done" : "operations.purge.none", ["count": String(count), "days": String(days)]))
        }
    }
}

extension SessionInfo.Status: ExpressibleByArgument {}

/// Runs `body`, turning a sealed database read without (or with the wrong) key into its refusal
/// in `messages`' words (`keyRefusal`).
func withRecords<T>(_ messages: Messages = Messages(), _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw keyRefusal(error, messages)
    }
}

/// A sealed record that does not open: its reason said on stderr, without the usage text (the
/// command line was right), and exit 77 as every other key refusal (README: "77 no permission (or
/// a key refused) … 64 stays a wrong command line"). Any other error as it is (the one rule of both
/// forms of `withRecords`).
func keyRefusal(_ error: any Error, _ messages: Messages = Messages()) -> any Error {
    switch error {
    case Cipher.Failure.needsKey: printError(messages.text("integrity.records_need_key"))
    case Cipher.Failure.cannotOpen: printError(messages.text("integrity.records_wrong_key"))
    default: return error
    }
    return ExitCode(StorageExit.keyRefused)
}
