import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates `path` for writing, 0600 from its creation; fails when anything (a symlink too) is there.
private func createExclusively(_ path: String) -> Int32 {
    #if canImport(Glibc)
    Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    #else
    Darwin.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
    #endif
}

/// Encryption of client data at rest: answers in the event log and finished records are sealed
/// with AES-GCM under a 256-bit key kept in a file outside the database, so a copied database
/// file reveals no client data. Ids, times, statuses and dialog versions stay readable (the
/// session list and the monthly counts need them).
///
/// Each value is bound to its place (session id, sequence number or "record") as associated
/// data: a sealed value moved to another row does not open.
public struct Cipher: Sendable {
    /// The key's bytes (SymmetricKey is not Sendable; it is made from these where it is used).
    package let keyBytes: [UInt8]
    package var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    package static let prefix = "enc1:"

    public enum Failure: Error, Equatable {
        /// The key file is missing, unreadable or not 32 bytes (base64).
        case badKeyFile(String)
        /// A value does not open with this key (a wrong key, or a value moved between rows).
        case cannotOpen
        /// The database holds sealed values and no key was given.
        case needsKey
        /// The key file can be read by its group or by others (it must be mode 0600: `chmod 600 FILE`).
        case keyFileOpenToOthers(String)
    }

    public init(keyFile path: String) throws {
        // A key others can read protects nothing: refuse it, as ssh refuses an open private key.
        var info = stat()
        guard stat(path, &info) == 0 else { throw Failure.badKeyFile(path) }
        // A folder (or a device, a pipe) is no key file: not "open to others", whose advice
        // (`chmod 600 /srv/intake`) would lock the folder instead.
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure.badKeyFile(path) }
        guard info.st_mode & 0o077 == 0 else { throw Failure.keyFileOpenToOthers(path) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw Failure.badKeyFile(path)
        }
        keyBytes = Array(bytes)
    }

    /// Writes a new random key to `path`, readable by its owner only. Never over an existing file:
    /// losing a key loses the data sealed with it.
    /// The file is created 0600 by the call that creates it (`O_EXCL`, no symlink followed), before
    /// the key is written: `FileManager.createFile` wrote a temporary file 0666 & ~umask, renamed it
    /// and only then made it 0600, so another local user could open the key meanwhile and keep it.
    public static func newKeyFile(at path: String) throws {
        let key = SymmetricKey(size: .bits256)
        let bytes = Array((key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n").utf8)
        let fd = createExclusively(path)
        guard fd >= 0 else { throw Failure.badKeyFile(path) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(path)
                throw Failure.badKeyFile(path)
            }
            written += n
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            unlink(path)
            throw Failure.badKeyFile(path)
        }
    }

    /// The key's fingerprint, kept in a sealed database so that a wrong key is refused when the
    /// database opens: HMAC-SHA256(key, "intake key fingerprint"), its first 16 bytes in hex. It
    /// reveals nothing of the key.
    public var fingerprint: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("intake key fingerprint".utf8), using: key)
        return Data(mac).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The key of the hash chain (HMAC) of a sealed database, derived from the cipher's key (HKDF),
    /// so that someone who has the database file but not the key cannot re-chain an edit.
    package var chainKey: [UInt8] {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("intake event chain v1".utf8), outputByteCount: 32)
        return derived.withUnsafeBytes { Array($0) }
    }

    package func seal(_ plain: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw Failure.cannotOpen }
        return Self.prefix + combined.base64EncodedString()
    }

    package func open(_ stored: String, context: String) throws -> String {
        guard stored.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))) else {
            return stored  // written without a key
        }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key, authenticating: Data(context.utf8)), as: UTF8.self)
        } catch {
            throw Failure.cannotOpen
        }
    }
}

extension Optional where Wrapped == Cipher {
    package func seal(_ plain: String, context: String) throws -> String {
        guard let cipher = self else { return plain }
        return try cipher.seal(plain, context: context)
    }

    package func open(_ stored: String, context: String) throws -> String {
        guard let cipher = self else {
            if stored.hasPrefix(Cipher.prefix) { throw Cipher.Failure.needsKey }
            return stored
        }
        return try cipher.open(stored, context: context)
    }
}
