import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// Why a database could not be opened, in terms a counselor or an operator can act on. `code` is
/// stable (CLI messages are `operations.storage.<code>`, logs carry it); `sqliteCode` is SQLite's
/// extended result code when SQLite gave one.
public struct StoreOpenError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Cause: String, Sendable, CaseIterable {
        /// Another program holds a lock on the file (another `intake`, a backup tool, `sqlite3`).
        case locked
        /// Not an intake database: a text file, another program's SQLite database, a folder.
        case notIntake = "not_intake"
        /// An intake database whose pages are damaged or missing (a truncated copy, a disk fault).
        case damaged
        /// The file or its folder may not be read or written (permissions, a read-only file or disk).
        case noPermission = "no_permission"
        /// The disk (or the user's quota) is full.
        case diskFull = "disk_full"
        /// The folder the file should be in does not exist.
        case noFolder = "no_folder"
        /// Anything else SQLite reports (an I/O error): the SQLite code says which.
        case other
    }

    public var cause: Cause
    public var path: String
    /// SQLite's extended result code, when the cause came from SQLite.
    public var sqliteCode: Int32?

    public init(_ cause: Cause, path: String, sqliteCode: Int32? = nil) {
        self.cause = cause
        self.path = path
        self.sqliteCode = sqliteCode
    }

    public var code: String { cause.rawValue }

    public var description: String {
        "cannot open the database '\(path)': \(code)" + (sqliteCode.map { " (SQLite code \($0))" } ?? "")
    }
}

extension IntakeDatabase {
    /// The migration every intake database has: a database without it is another program's.
    static let firstMigration = "v1: sessions, events, clients, audit"

    /// Opens `path` as `open(path:cipher:)` does, and turns every failure into a `StoreOpenError`
    /// saying why.
    static func classifyingOpenErrors<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StoreOpenError {
            throw error
        } catch let error as DatabaseError {
            throw classify(error, path: path)
        } catch {
            // Key or cipher errors and the like are not about the file: let them through.
            throw error
        }
    }

    /// What an SQLite error met while opening means for the person who opened the file.
    public static func classify(_ error: DatabaseError, path: String) -> StoreOpenError {
        let code = error.extendedResultCode.rawValue
        let cause: StoreOpenError.Cause
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: cause = .locked
        case .SQLITE_NOTADB: cause = .notIntake
        case .SQLITE_CORRUPT: cause = .damaged
        case .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH: cause = .noPermission
        case .SQLITE_FULL: cause = .diskFull
        case .SQLITE_CANTOPEN:
            cause = folderExists(of: path) ? .noPermission : .noFolder
        case .SQLITE_IOERR:
            // SQLite reports a write that met a full disk as an I/O error (SQLITE_IOERR_WRITE, …).
            cause = diskIsFull(at: path) ? .diskFull : .other
        default: cause = .other
        }
        return StoreOpenError(cause, path: path, sqliteCode: code)
    }

    /// Makes sure the database file exists before SQLite opens it, created with mode 0600: SQLite
    /// gives the `-wal` and `-shm` files the main file's mode, so none of the three is readable by
    /// other users, whatever the umask. A path that exists is left as it is (see `tightenPermissions`).
    static func createPrivateFile(_ path: String) throws {
        let fd = Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode_t(0o600))
        if fd >= 0 {
            // The umask may only remove bits; make sure of 0600 anyway.
            _ = fchmod(fd, 0o600)
            close(fd)
            return
        }
        let err = errno
        switch err {
        case EEXIST: break
        case ENOENT, ENOTDIR: throw StoreOpenError(.noFolder, path: path)
        case EACCES, EPERM, EROFS: throw StoreOpenError(.noPermission, path: path)
        case ENOSPC, EDQUOT: throw StoreOpenError(.diskFull, path: path)
        case EISDIR: throw StoreOpenError(.notIntake, path: path)
        default: throw StoreOpenError(.other, path: path)
        }
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreOpenError(.noPermission, path: path) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw StoreOpenError(.notIntake, path: path) }
    }

    /// An intake database (checked first: another program's file is never touched) made before
    /// files were created 0600, that group or others may read: it, its `-wal` and its `-shm` keep
    /// only their owner's bits. Returns whether that happened, so that the caller can say so.
    static func tightenPermissions(_ path: String) -> Bool {
        var tightened = false
        for file in [path, path + "-wal", path + "-shm"] {
            var s = stat()
            guard stat(file, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG, s.st_mode & 0o077 != 0 else { continue }
            if chmod(file, s.st_mode & 0o700) == 0 { tightened = true }
        }
        return tightened
    }

    /// An existing, non-empty file is opened read-only first and checked (`checkIsIntakeDatabase`).
    static func probeExisting(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0, st.st_size > 0 else { return }
        var config = Configuration()
        config.readonly = true
        config.publicStatementArguments = false
        // Another process may be writing, or recovering the WAL after a crash: the probe waits its
        // turn like every other connection (30 s) before it calls the file locked.
        config.busyMode = .callback(Self.waitForTurn)
        let probe = try DatabaseQueue(path: path, configuration: config)
        defer { try? probe.close() }
        try checkIsIntakeDatabase(probe, path: path)
    }

    /// A file that opened as SQLite but holds another program's tables is not ours to migrate.
    /// An empty file (new) is; so is one that has intake's first migration. Reading the tables'
    /// first pages also finds a truncated file.
    static func checkIsIntakeDatabase(_ writer: any DatabaseWriter, path: String) throws {
        try writer.read { db in
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
            guard !tables.isEmpty else { return }
            guard tables.contains("grdb_migrations"),
                  try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM grdb_migrations WHERE identifier = ?)",
                                    arguments: [firstMigration]) == true else {
                throw StoreOpenError(.notIntake, path: path)
            }
            for table in ["session", "event", "client", "audit"] where tables.contains(table) {
                _ = try Row.fetchOne(db, sql: "SELECT * FROM \"\(table)\" LIMIT 1")
            }
        }
    }

    static func folderExists(of path: String) -> Bool {
        var isDir: ObjCBool = false
        let folder = (path as NSString).deletingLastPathComponent
        return FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDir) && isDir.boolValue
    }

    static func diskIsFull(at path: String) -> Bool {
        let folder = (path as NSString).deletingLastPathComponent
        var s = statvfs()
        guard statvfs(folder.isEmpty ? "." : folder, &s) == 0 else { return false }
        // Less than a few pages left for an unprivileged user.
        return UInt64(s.f_bavail) * UInt64(s.f_frsize) < 64 * 1024
    }
}

/// What a storage error was, for a log line: the error's type, and SQLite's result code when it
/// has one — never a statement or its arguments.
public func storageErrorDescription(_ error: any Error) -> String {
    if let e = error as? DatabaseError {
        return "DatabaseError \(e.resultCode.rawValue)/\(e.extendedResultCode.rawValue)"
            + (e.message.map { ": \($0)" } ?? "")
    }
    if let e = error as? StoreOpenError { return e.description }
    return "\(type(of: error))"
}
