import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One kiosk service per database file: `intake serve` holds an exclusive `flock` on
/// `<database>-serve.lock` (beside the database) for as long as it runs, so a second one on the same
/// file is refused with a clear message instead of fighting the first over its clients' sessions.
/// The kernel releases the lock when the process ends in any way — SIGKILL included — so a server
/// restarted at once after a crash starts. The file holds the holder's process id, for the message;
/// it stays after the server stops (removing a lock file races with the next one to take it).
public final class ServeLock: Sendable {
    public enum Failure: Error, Equatable {
        /// Another process holds it (its process id, when the file says).
        case held(pid: Int32?)
        /// The lock file cannot be created or opened.
        case cannotOpen
    }

    /// The open file that carries the lock (closed, and so released, when the process ends).
    private let fd: Int32
    public let path: String

    /// The lock file of a database.
    public static func path(forDatabase database: String) -> String { database + "-serve.lock" }

    /// Takes the lock, or says who holds it. Never waits.
    public init(database: String) throws(Failure) {
        path = Self.path(forDatabase: database)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            // Not closed here: `deinit` runs for a class whose init throws once every property
            // is set, and a second close would close whatever the number was given to in between.
            throw .held(pid: Self.readPID(fd))
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
