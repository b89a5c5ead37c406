import Crypto
import Foundation
import IntakeEngine

/// The hash chain of the event log (tamper evidence). Each event's `hash` is an HMAC-SHA256 over
/// the hash of the event before it and the event's row exactly as stored (session id, seq, time,
/// offset, actor, the event text and the answer changes — sealed text when the database is
/// sealed); each session row's `hash` covers all of its columns, the newest event's hash (`head`)
/// among them. A flipped bit, an edited, inserted, moved or deleted row, breaks a link.
///
/// In a sealed database the HMAC key comes from the cipher's key (HKDF), so someone who has the
/// file but not the key cannot re-chain an edit. Unsealed, the key is a public constant: the chain
/// then finds damage (a flipped bit, a row lost from the middle), not a forger, who can recompute it.
///
/// What it cannot find: the newest entries of a session cut off together with the session row put
/// back as it was before them (the chain is only as good as its head; keep `records verify --heads`
/// elsewhere to anchor the heads).
///
/// The encoding is frozen (its version is in the labels): changing it would break every stored chain.
package struct Chain: Sendable {
    /// The key taken into the HMAC's two hash states once: making a swift-crypto `HMAC` per hash
    /// (the key padded, copied and hashed into two blocks, then fed through its generic `update`)
    /// was most of checking a resume's entries (IntakeBench). Each hash works on copies.
    private let keyed: KeyedMAC

    /// The chain of an unsealed database (a public key: damage evidence, not forgery evidence).
    package static let unkeyed = Chain(key: Array("intake event chain v1 (unkeyed)".utf8))

    package init(key: [UInt8]) {
        keyed = KeyedMAC(key: key)
    }

    package init(cipher: Cipher) {
        self.init(key: cipher.chainKey)
    }

    /// HMAC-SHA256 (RFC 2104) on swift-crypto's `SHA256`: the inner and outer states after the
    /// key's padded blocks, kept; a hash copies them, takes in the message, then the inner digest.
    /// Checked against swift-crypto's `HMAC` for keys and messages of every length that matters
    /// (ChainEncodingTests). `@unchecked Sendable`: `SHA256` is a value whose digest context is
    /// copied before any change (copy-on-write; finishing works on a copy), so the states made at
    /// `init` are only ever read, from any thread.
    private struct KeyedMAC: @unchecked Sendable {
        let inner: SHA256
        let outer: SHA256

        init(key: [UInt8]) {
            var block = key.count > SHA256.blockByteCount ? Array(SHA256.hash(data: key)) : key
            block += Array(repeating: 0, count: SHA256.blockByteCount - block.count)
            var inner = SHA256(), outer = SHA256()
            block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
            block.map { $0 ^ 0x5c }.withUnsafeBytes { outer.update(bufferPointer: $0) }
            (self.inner, self.outer) = (inner, outer)
        }

        func code(_ message: UnsafeRawBufferPointer) -> Data {
            var inner = self.inner, outer = self.outer
            inner.update(bufferPointer: message)
            inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
            return outer.finalize().withUnsafeBytes { Data($0) }
        }
    }

    /// One stored event as it is hashed.
    package struct Event: Sendable {
        package var session: String
        package var seq: Int64
        package var at: Int64
        package var utcOffset: Int64
        package var actor: String
        package var event: String
        package var answers: String?

        package init(session: String, seq: Int64, at: Int64, utcOffset: Int64, actor: String, event: String, answers: String?) {
            (self.session, self.seq, self.at, self.utcOffset, self.actor, self.event, self.answers) = (session, seq, at, utcOffset, actor, event, answers)
        }
    }

    package func hash(_ e: Event, after previous: Data?) -> Data {
        var enc = Encoding(label: "intake event v1")
        enc.blob(previous)
        enc.text(e.session)
        enc.int(e.seq)
        enc.int(e.at)
        enc.int(e.utcOffset)
        enc.text(e.actor)
        enc.text(e.event)
        enc.text(e.answers)
        return mac(enc.bytes)
    }

    /// One session row as it is hashed (every column but the hash itself).
    package struct Session: Sendable {
        package var id: String
        package var clientId: String?
        package var dialogId: String
        package var dialogVersion: String
        package var mode: String
        package var locale: String
        package var status: String
        package var startedAt: Int64
        package var updatedAt: Int64
        package var counselor: String?
        package var office: String?
        package var tokenDigest: Data
        package var record: String?
        package var head: Data?

        package init(id: String, clientId: String?, dialogId: String, dialogVersion: String, mode: String, locale: String, status: String,
                     startedAt: Int64, updatedAt: Int64, counselor: String?, office: String?, tokenDigest: Data, record: String?, head: Data?) {
            (self.id, self.clientId, self.dialogId, self.dialogVersion, self.mode, self.locale, self.status) = (id, clientId, dialogId, dialogVersion, mode, locale, status)
            (self.startedAt, self.updatedAt, self.counselor, self.office, self.tokenDigest, self.record, self.head) = (startedAt, updatedAt, counselor, office, tokenDigest, record, head)
        }
    }

    package func hash(_ s: Session) -> Data {
        var enc = Encoding(label: "intake session v1")
        enc.text(s.id)
        enc.text(s.clientId)
        enc.text(s.dialogId)
        enc.text(s.dialogVersion)
        enc.text(s.mode)
        enc.text(s.locale)
        enc.text(s.status)
        enc.int(s.startedAt)
        enc.int(s.updatedAt)
        enc.text(s.counselor)
        enc.text(s.office)
        enc.blob(s.tokenDigest)
        enc.text(s.record)
        enc.blob(s.head)
        return mac(enc.bytes)
    }

    /// One stored snapshot of a session's state as it is hashed: the session, the entry it
    /// follows, that entry's chain hash (which ties it to the log) and the state exactly as stored
    /// (sealed text when the database is sealed). A snapshot whose hash does not match, or whose
    /// entry's hash is not the one named, is ignored (the resume replays the whole log).
    package struct Snapshot: Sendable {
        package var session: String
        package var seq: Int64
        package var entryHash: Data
        package var state: String

        package init(session: String, seq: Int64, entryHash: Data, state: String) {
            (self.session, self.seq, self.entryHash, self.state) = (session, seq, entryHash, state)
        }
    }

    package func hash(_ s: Snapshot) -> Data {
        var enc = Encoding(label: "intake snapshot v1")
        enc.text(s.session)
        enc.int(s.seq)
        enc.blob(s.entryHash)
        enc.text(s.state)
        return mac(enc.bytes)
    }

    /// HMAC-SHA256 of `bytes` under the chain's key.
    package func mac(_ bytes: [UInt8]) -> Data {
        bytes.withUnsafeBytes { keyed.code($0) }
    }

    /// Length-prefixed fields, each tagged (absent, integer, text, bytes), so that no two rows
    /// encode alike.
    private struct Encoding {
        var bytes: [UInt8] = []

        init(label: String) {
            bytes.reserveCapacity(512)
            text(label)
        }

        mutating func int(_ v: Int64) {
            bytes.append(1)
            withUnsafeBytes(of: v.bigEndian) { bytes += $0 }
        }

        mutating func text(_ v: String?) {
            guard let v else { return bytes.append(0) }
            bytes.append(2)
            length(v.utf8.count)
            bytes += v.utf8
        }

        mutating func blob(_ v: Data?) {
            guard let v else { return bytes.append(0) }
            bytes.append(3)
            length(v.count)
            bytes += v
        }

        private mutating func length(_ n: Int) {
            withUnsafeBytes(of: UInt64(n).bigEndian) { bytes += $0 }
        }
    }
}

extension Chain.Session {
    /// A stored session row, checked against its hash (when the chain can be checked and the row
    /// was recorded after chains existed), as the session list shows it. A hash that does not match,
    /// or a mode or status this intake does not know, is `RuntimeError.damaged` — the rule every store
    /// applies to every row it reads.
    package func checked(hash: Data?, unchained: Bool, chain: Chain?) throws -> SessionInfo {
        if let chain, !unchained {
            guard let hash, hash == chain.hash(self) else { throw RuntimeError.damaged(session: id) }
        }
        guard let mode = SessionState.Mode(rawValue: mode), let status = SessionInfo.Status(rawValue: status) else {
            throw RuntimeError.damaged(session: id)
        }
        return SessionInfo(id: id, clientID: clientId, dialogID: dialogId, dialogVersion: dialogVersion, mode: mode,
                           locale: locale, status: status, startedAt: startedAt, updatedAt: updatedAt,
                           counselor: counselor, office: office)
    }
}
