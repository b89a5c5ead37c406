import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore

/// What a command says when the store refuses to open or finds damage: localized from
/// `Locales/*/integrity.yaml`, naming files and session ids, never a stored value.
enum IntegrityMessages {
    /// The locale files beside the working directory (the commands that open a database have no
    /// dialogs folder to find them from).
    static let catalog: Catalog = Project.load(paths: [], localesDirectory: nil).catalog

    /// ja when LANG says Japanese, else en (as `--lang` defaults).
    static var locale: String {
        (ProcessInfo.processInfo.environment["LANG"] ?? "").hasPrefix("ja") ? "ja" : "en"
    }

    static func text(_ key: String, _ args: [String: String] = [:]) -> String {
        catalog.text("integrity." + key, locale, args)
    }

    /// The message for an error the store or the cipher threw, or nil for any other error.
    static func message(for error: any Error, database path: String = "", key: String? = nil) -> String? {
        switch error {
        case RuntimeError.damaged(let id): return text("damaged", ["id": id])
        case StoreError.damagedSessions(let ids): return ids.map { text("damaged", ["id": $0]) }.joined(separator: "\n")
        case StoreError.sealedNeedsKey: return text("needs_key", ["db": path])
        case StoreError.wrongKey: return text("wrong_key", ["db": path, "key": key ?? ""])
        case StoreError.notSealed(let n): return text("not_sealed", ["db": path, "count": String(n)])
        case StoreError.damagedDatabase: return text("damaged_database", ["db": path])
        case StoreError.damagedFile: return text("damaged_file", ["db": path])
        case Cipher.Failure.keyFileOpenToOthers(let file): return text("key_open_to_others", ["key": file])
        default: return nil
        }
    }

    /// Damage found while a command ran: each damaged session named on standard error, exit 1.
    static func damaged(_ ids: [String]) -> ExitCode {
        for id in ids { printError(text("damaged", ["id": id])) }
        return ExitCode(1)
    }
}

/// Runs `body`; damage it meets is named on standard error (never the stored data) and ends the
/// command with exit 1.
func reportingDamage<T>(database path: String = "", _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw damageReported(error, database: path)
    }
}

/// What a command throws for `error`: damage named on standard error and exit 1; any other error
/// as it is (the one rule of both forms of `reportingDamage`).
func damageReported(_ error: any Error, database path: String) -> any Error {
    switch error {
    case StoreError.damagedFile:
        printError(IntegrityMessages.text("damaged_file", ["db": path]))
        return ExitCode(1)
    case RuntimeError.damaged(let id):
        return IntegrityMessages.damaged([id])
    case StoreError.damagedSessions(let ids):
        return IntegrityMessages.damaged(ids)
    default:
        return error
    }
}
