import ArgumentParser
import Foundation
import IntakePostgres
import IntakeRuntime
import IntakeStore

/// Where a command's database is, from its `--db`: a SQLite file (the default, one office on one
/// machine), or PostgreSQL by URL (several offices and service instances on one database).
/// `INTAKE_DB` gives the default when `--db` is not given.
enum StoreLocation: Equatable {
    case sqlite(path: String)
    /// nil: the libpq variables alone (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, the password file).
    case postgres(url: String?)

    init(_ db: String) {
        if db.hasPrefix("postgres://") || db.hasPrefix("postgresql://") {
            self = .postgres(url: db)
        } else if db == "postgres" || db == "postgresql" {
            self = .postgres(url: nil)
        } else {
            self = .sqlite(path: db)
        }
    }

    /// `--db`'s default: `INTAKE_DB`, else `intake.sqlite` in the working directory.
    static var defaultDB: String {
        ProcessInfo.processInfo.environment["INTAKE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "intake.sqlite"
    }
}

extension DatabaseOptions {
    /// The key file as a cipher; a key that cannot be used is said plainly and ends the command.
    static func cipher(key: String?, database: String, messages: Messages = Messages()) throws -> Cipher? {
        do {
            return try key.map { try Cipher(keyFile: $0) }
        } catch {
            if let message = IntegrityMessages.message(for: error, database: database, key: key) {
                printError(message)
                throw ExitCode(StorageExit.keyRefused)
            }
            throw messages.error("integrity.key_unreadable", ["key": key ?? ""])
        }
    }

    /// Opens whichever database `db` names, behind the `Store` protocol; when it cannot, says why on
    /// standard error in the user's language and exits with a code for the cause (sysexits.h).
    static func openAny(_ db: String, key: String?, access: DatabaseAccess, messages: Messages) async throws -> any StoreCopying {
        switch StoreLocation(db) {
        case .sqlite(let path):
            return try open(path, key: key, access: access, messages: messages).store
        case .postgres(let url):
            return try await openPostgres(url, key: key, access: access, messages: messages)
        }
    }

    /// PostgreSQL: the password from PGPASSWORD or the password file, never needed in `--db`.
    static func openPostgres(_ url: String?, key: String?, access: DatabaseAccess, messages: Messages) async throws -> PostgresStore {
        let shown = (try? PostgresTarget.resolve(url: url).description) ?? "postgres"
        let cipher = try cipher(key: key, database: shown, messages: messages)
        if let url, (try? PostgresTarget.resolve(url: url))?.passwordSource == "url" {
            // A password in a command line is in the shell's history and visible to other users (ps).
            printError(messages.text("postgres.password_in_url"))
        }
        do {
            return try await PostgresStore.open(url: url, cipher: cipher, access: access)
        } catch let error as PostgresOpenError {
            printError(messages.text("postgres.open." + error.code, ["target": error.target, "detail": error.detail ?? ""]))
            throw ExitCode(exitCode(for: error.cause))
        } catch {
            if let message = IntegrityMessages.message(for: error, database: shown, key: key) {
                printError(message)
                throw ExitCode(StorageExit.code(for: error))
            }
            printError(messages.text("postgres.open.other", ["target": shown, "detail": ""]))
            throw ExitCode(74)
        }
    }

    static func exitCode(for cause: PostgresOpenError.Cause) -> Int32 {
        switch cause {
        case .unreachable: return 69                     // EX_UNAVAILABLE: try again when the server is up
        case .authentication, .noPermission: return 77   // EX_NOPERM
        case .noDatabase: return 66                      // EX_NOINPUT
        case .notIntake, .newerSchema: return 65         // EX_DATAERR
        case .badURL, .notDurable, .tls: return 78       // EX_CONFIG
        case .other: return 74                           // EX_IOERR
        }
    }
}
