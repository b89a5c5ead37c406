import Crypto
import Foundation
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
@testable import IntakeStore
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)
private let t0 = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))
private func at(_ minutes: Int64) -> Moment { Moment(epochMillis: t0.epochMillis + minutes * 60_000, utcOffsetMinutes: 540) }
private func tempFile() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString).sqlite").path
}
private func keyFile() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)").path
    try Cipher.newKeyFile(at: path)
    return path
}
private func runner(_ db: IntakeDatabase) throws -> SessionRunner {
    SessionRunner(engine: Engine(dialog: try #require(project.dialogs["followup"]), catalog: project.catalog), store: db.store)
}

/// Sessions of the follow-up dialog: `finished` of them complete (with records), then `suspended` suspended.
@discardableResult
private func sessions(_ db: IntakeDatabase, finished: Int, suspended: Int) async throws -> [(id: String, token: ResumeToken, state: SessionState)] {
    let r = try runner(db)
    var out: [(String, ResumeToken, SessionState)] = []
    for i in 0..<(finished + suspended) {
        let token = ResumeToken.random()
        var (s, _) = try await r.start(id: "s\(i)", token: token, locale: "en", mode: .counselor, actor: .counselor("佐藤"), at: at(Int64(i)))
        // As MonthlyReportTests answers the follow-up, with a secret in the free text.
        let lines = ["yes", "令和8年11月1日", "2", "ABC Care", "秘密の答え\(i)", "3", "", "4", "no", "", "not yet", "2", ":finish"]
        for a in i < finished ? lines : Array(lines.prefix(5)) {
            _ = try await r.handle(LineInputEvent.of(a), in: &s, actor: .counselor("佐藤"), at: at(Int64(i)))
        }
        if i < finished {
            #expect(s.state.phase == .done(status: "complete"), "session \(i) finished")
        } else {
            try await r.suspend(&s, actor: .counselor("佐藤"), at: at(Int64(i)))
        }
        out.append((s.id, token, s.state))
    }
    return out
}

/// Item 4 of issue 13: a sealed database knows it is sealed and by which key.
@Suite struct SealedDatabaseTests {
    @Test func aSealedDatabaseRefusesAWriteWithoutItsKeyAndAWrongKeyAtOpen() async throws {
        let path = tempFile(), key = try keyFile()
        let sealed = try IntakeDatabase.open(path: path, cipher: try Cipher(keyFile: key))
        #expect(sealed.sealed, "the first open with a key seals an empty database")
        try await sessions(sealed, finished: 1, suspended: 1)
        // Writing without the key (a server or REPL started without --key) is refused at open.
        #expect(throws: StoreError.sealedNeedsKey) { try IntakeDatabase.open(path: path) }
        // A wrong key is refused at open, for reading too: nothing is accepted that cannot be read.
        let wrong = try Cipher(keyFile: try keyFile())
        #expect(throws: StoreError.wrongKey) { try IntakeDatabase.open(path: path, cipher: wrong) }
        #expect(throws: StoreError.wrongKey) { try IntakeDatabase.open(path: path, cipher: wrong, access: .read) }
        // Reading without the key: the list, not the answers.
        let reader = try IntakeDatabase.open(path: path, access: .read)
        #expect(try reader.sessions().count == 2)
        #expect(throws: Cipher.Failure.needsKey) { try reader.log(of: "s0") }
        // The right key opens it for writing.
        #expect(try IntakeDatabase.open(path: path, cipher: try Cipher(keyFile: key)).log(of: "s1").count == 7)
    }

    @Test func aKeyForADatabaseHoldingSessionsInClearIsRefusedForWriting() async throws {
        let path = tempFile()
        try await sessions(try IntakeDatabase.open(path: path), finished: 0, suspended: 1)
        #expect(throws: StoreError.notSealed(sessions: 1)) { try IntakeDatabase.open(path: path, cipher: try Cipher(keyFile: try keyFile())) }
    }

    @Test func aKeyFileItsGroupOrOthersCanReadIsRefused() throws {
        let key = try keyFile()
        for mode in [0o640, 0o604, 0o644] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: key)
            #expect(throws: Cipher.Failure.keyFileOpenToOthers(key)) { try Cipher(keyFile: key) }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        #expect((try? Cipher(keyFile: key)) != nil)
    }

    /// A new key was written to a temporary file 0666 & ~umask, renamed, then made 0600: another
    /// local user watching the folder could open it meanwhile. Watched here, no file in the folder
    /// is ever seen readable by group or others, and the key is never written through a symlink.
    @Test func aNewKeyIsNeverReadableByOthersNotEvenForAMoment() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        final class Watch: @unchecked Sendable {
            let lock = NSLock()
            var done = false, seenOpen = false, finished = false
        }
        let watch = Watch()
        let watcher = Thread {
            while !watch.lock.withLock({ watch.done }) {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] {
                    var info = stat()
                    if stat(dir.appendingPathComponent(name).path, &info) == 0, info.st_mode & 0o077 != 0 { watch.lock.withLock { watch.seenOpen = true } }
                }
            }
            watch.lock.withLock { watch.finished = true }
        }
        watcher.start()
        let previous = umask(0o022)
        for i in 0..<300 { try Cipher.newKeyFile(at: dir.appendingPathComponent("k\(i)").path) }
        umask(previous)
        watch.lock.withLock { watch.done = true }
        while !watch.lock.withLock({ watch.finished }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!watch.lock.withLock { watch.seenOpen }, "a key file was readable by others for a moment")
        // A symlink left where the key is to go: refused, nothing written where it points.
        let target = dir.appendingPathComponent("elsewhere").path
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link").path, withDestinationPath: target)
        #expect(throws: Cipher.Failure.badKeyFile(dir.appendingPathComponent("link").path)) {
            try Cipher.newKeyFile(at: dir.appendingPathComponent("link").path)
        }
        #expect(!FileManager.default.fileExists(atPath: target))
        #expect(throws: Cipher.Failure.badKeyFile(dir.appendingPathComponent("k0").path)) { try Cipher.newKeyFile(at: dir.appendingPathComponent("k0").path) }
    }

    @Test func anUnsealedValueInASealedDatabaseIsAnErrorNeverData() async throws {
        let path = tempFile(), key = try Cipher(keyFile: try keyFile())
        let db = try IntakeDatabase.open(path: path, cipher: key)
        try await sessions(db, finished: 1, suspended: 1)
        // Forged in clear: an answer entry and a record, as someone without the key would write them.
        try await db.writer.write { conn in
            try conn.execute(sql: "UPDATE event SET event = ?, hash = NULL WHERE sessionId = 's1' AND seq = 1",
                             arguments: [#"{"input":{"_0":{"answer":{"_0":"偽の答え"}}}}"#])
            try conn.execute(sql: "UPDATE session SET record = '{\"status\":\"complete\",\"answers\":{}}' WHERE id = 's0'")
        }
        #expect(throws: RuntimeError.damaged(session: "s1")) { try db.log(of: "s1") }
        #expect(throws: RuntimeError.damaged(session: "s0")) { try db.record(of: "s0") }
        // Even when the forger also fixed the chain (as one with the key could): the value is not sealed.
        let fixed = try IntakeDatabase.open(path: path, cipher: key)
        try await fixed.writer.write { conn in
            let row = try #require(try Row.fetchOne(conn, sql: "SELECT * FROM event WHERE sessionId = 's1' AND seq = 1"))
            let prev = try Data.fetchOne(conn, sql: "SELECT hash FROM event WHERE sessionId = 's1' AND seq = 0")
            let chain = try #require(fixed.chain)
            let h = chain.hash(Chain.Event(session: "s1", seq: 1, at: try row.strictInt("at"), utcOffset: try row.strictInt("utcOffset"),
                                           actor: try row.strictText("actor"), event: try row.strictText("event"),
                                           answers: try row.strictOptionalText("answers")), after: prev)
            try conn.execute(sql: "UPDATE event SET hash = ? WHERE sessionId = 's1' AND seq = 1", arguments: [h])
        }
        #expect(throws: RuntimeError.damaged(session: "s1")) { try fixed.log(of: "s1") }
    }
    /// A session listed as recorded before hash chains is not checked (nothing covers its row):
    /// someone with the file but not the key listed one there and gave it a token of their own, and a
    /// kiosk resumed it with that token and showed her sealed answers. Sealed, such a session now
    /// opens nothing by token; unsealed (where anyone can re-chain anything) it resumes as before.
    @Test func aSessionListedAsUnchainedOpensNothingByTokenInASealedDatabase() async throws {
        for sealedWith in [try Cipher(keyFile: try keyFile()), nil] {
            let path = tempFile()
            let db = try IntakeDatabase.open(path: path, cipher: sealedWith)
            try await sessions(db, finished: 0, suspended: 1)
            let theirs = ResumeToken.random()
            try await db.writer.write { conn in
                try conn.execute(sql: "INSERT INTO unchained_session (id) VALUES ('s0')")
                try conn.execute(sql: "UPDATE session SET tokenDigest = ? WHERE id = 's0'", arguments: [Data(theirs.digest)])
            }
            if sealedWith != nil {
                #expect(throws: RuntimeError.damaged(session: "s0")) { try db.session(resuming: theirs) }
                await #expect(throws: RuntimeError.damaged(session: "s0")) { try await db.sessionAsync(resuming: theirs) }
                let reopened = try IntakeDatabase.open(path: path, cipher: sealedWith)
                await #expect(throws: RuntimeError.damaged(session: "s0")) { try await reopened.store.session(resuming: theirs) }
            } else {
                #expect(try db.session(resuming: theirs)?.id == "s0", "unsealed, the chain finds damage, not a forger")
            }
        }
    }
}

/// Item 6 of issue 13: no stored value crashes a read; the log is tamper-evident.
@Suite struct DamagedStoreTests {
    @Test func aNullWhereAnIntegerWasStoredIsReportedAsDamageAndTheOthersGoOn() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        let all = try await sessions(db, finished: 2, suspended: 3)
        try allowNulls(db.writer)
        try await db.writer.write { try $0.execute(sql: "UPDATE event SET utcOffset = NULL WHERE sessionId = 's3' AND seq = 1") }
        let r = try runner(db)
        #expect(throws: RuntimeError.damaged(session: "s3")) { try db.log(of: "s3") }
        await #expect(throws: RuntimeError.damaged(session: "s3")) { try await r.resume(token: all[3].token, mode: .kiosk, actor: .client, at: at(99)) }
        // The others resume where they stood.
        let (s4, _) = try await r.resume(token: all[4].token, mode: .kiosk, actor: .client, at: at(99))
        #expect(s4.state.answers == all[4].state.answers)
        #expect(try db.verify().damaged == ["s3"])
    }

    @Test func aBadStartedAtDoesNotCrashTheListItNamesTheSession() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        try await sessions(db, finished: 2, suspended: 1)
        try allowNulls(db.writer)
        try await db.writer.write { try $0.execute(sql: "UPDATE session SET startedAt = NULL WHERE id = 's1'") }
        let list = try db.listSessions()
        #expect(list.damaged == ["s1"])
        #expect(Set(list.sessions.map(\.id)) == ["s0", "s2"])
        #expect(throws: StoreError.damagedSessions(["s1"])) { try db.sessions() }
        #expect(throws: RuntimeError.damaged(session: "s1")) { try db.record(of: "s1") }
        #expect(try db.record(of: "s0") != nil)
    }

    /// Every single-bit flip of a stored value (either table, any column, the hashes too) is found
    /// by verify and named by session; flipped back, the database verifies again.
    @Test func everySingleBitFlipInAStoredValueIsFound() async throws {
        for key in [nil, try Cipher(keyFile: try keyFile())] {
            let db = try IntakeDatabase.open(path: tempFile(), cipher: key)
            try await sessions(db, finished: 4, suspended: 2)
            #expect(try db.verify().damaged.isEmpty)
            #expect(try db.verify().intact.count == 6)
            var generator = SeededGenerator(seed: 13)
            var found = 0, flips = 0
            let targets: [(table: String, columns: [String])] = [
                ("event", ["seq", "at", "utcOffset", "actor", "event", "answers", "hash"]),
                ("session", ["clientId", "dialogId", "dialogVersion", "mode", "locale", "status", "startedAt", "updatedAt", "tokenDigest", "record", "head", "hash"]),
            ]
            for _ in 0..<60 {
                let target = targets[Int.random(in: 0..<targets.count, using: &generator)]
                let column = target.columns[Int.random(in: 0..<target.columns.count, using: &generator)]
                let rowids = try await db.writer.read { try Int64.fetchAll($0, sql: "SELECT rowid FROM \(target.table) WHERE \(column) IS NOT NULL") }
                guard !rowids.isEmpty else { continue }
                let rowid = rowids[Int.random(in: 0..<rowids.count, using: &generator)]
                let original = try await db.writer.read { try DatabaseValue.fetchOne($0, sql: "SELECT \(column) FROM \(target.table) WHERE rowid = ?", arguments: [rowid]) }
                guard let original, let flipped = flip(original, using: &generator) else { continue }
                // (A flip that would make a duplicate key cannot be written through SQL: skipped.)
                do {
                    try await db.writer.write { try $0.execute(sql: "UPDATE \(target.table) SET \(column) = ? WHERE rowid = ?", arguments: [flipped, rowid]) }
                } catch { continue }
                flips += 1
                let result = try db.verify()
                if !result.damaged.isEmpty || !result.orphans.isEmpty { found += 1 }
                // Nothing crashes: every read of every session either reads or says damaged.
                for s in try db.listSessions().sessions {
                    _ = try? db.log(of: s.id)
                    _ = try? db.record(of: s.id)
                }
                try await db.writer.write { try $0.execute(sql: "UPDATE \(target.table) SET \(column) = ? WHERE rowid = ?", arguments: [original, rowid]) }
            }
            #expect(found == flips, "\(found) of \(flips) flips found (key: \(key != nil))")
            #expect(flips >= 50)
            #expect(try db.verify().damaged.isEmpty)
        }
    }

    /// One bit of a value flipped, keeping its storage class (an integer stays an integer, text
    /// stays valid UTF-8 text).
    func flip(_ value: DatabaseValue, using g: inout SeededGenerator) -> DatabaseValue? {
        switch value.storage {
        case .int64(let i): return (i ^ (1 << Int64.random(in: 0..<40, using: &g))).databaseValue
        case .blob(let d):
            guard !d.isEmpty else { return nil }
            var bytes = [UInt8](d)
            bytes[Int.random(in: 0..<bytes.count, using: &g)] ^= 1 << UInt8.random(in: 0..<8, using: &g)
            return Data(bytes).databaseValue
        case .string(let s):
            var bytes = [UInt8](s.utf8)
            // An ASCII byte's low bits: the text stays UTF-8 (a flip elsewhere may be repaired on read).
            let ascii = bytes.indices.filter { bytes[$0] < 0x80 }
            guard let i = ascii.isEmpty ? nil : ascii[Int.random(in: 0..<ascii.count, using: &g)] else { return nil }
            bytes[i] ^= 1 << UInt8.random(in: 0..<6, using: &g)
            return String(decoding: bytes, as: UTF8.self).databaseValue
        default: return nil
        }
    }

    @Test func aSessionsEditedOrDeletedMiddleEntryBreaksItsChainButNotTheOthers() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        try await sessions(db, finished: 1, suspended: 2)
        try await db.writer.write { try $0.execute(sql: "DELETE FROM event WHERE sessionId = 's1' AND seq = 1") }
        try await db.writer.write { try $0.execute(sql: "UPDATE event SET actor = 'counselor:誰か' WHERE sessionId = 's2' AND seq = 2") }
        #expect(throws: RuntimeError.damaged(session: "s1")) { try db.log(of: "s1") }
        #expect(throws: RuntimeError.damaged(session: "s2")) { try db.log(of: "s2") }
        #expect(try db.log(of: "s0").isEmpty == false)
        #expect(try db.verify().damaged == ["s1", "s2"])
    }

    /// The newest entries cut off: the session row's head (covered by the row's hash) no longer
    /// names the newest entry, so replay, a new append and `verify` all find it — unless the row was
    /// put back too (SECURITY.md).
    @Test func theNewestEntriesCutOffAreFoundThroughTheHead() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        try await sessions(db, finished: 0, suspended: 2)
        try await db.writer.write { try $0.execute(sql: "DELETE FROM event WHERE sessionId = 's1' AND seq >= 2") }
        #expect(throws: RuntimeError.damaged(session: "s1")) { try db.log(of: "s1") }
        // An append is not chained onto the cut (that would hide it behind a new head).
        let next = LogEntry(seq: 2, at: Moment(epochMillis: 1_800_000_000_000, utcOffsetMinutes: 540), actor: .client, event: .suspend)
        await #expect(throws: RuntimeError.damaged(session: "s1")) {
            try await db.store.append([next], to: "s1", status: .suspended, locale: "ja", record: nil, at: 1_800_000_000_000)
        }
        #expect(try db.verify().damaged == ["s1"])
        #expect(try db.log(of: "s0").isEmpty == false)
    }
}

/// A fixed generator (splitmix64), so the flips are the same every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Lets a test store a NULL where the schema says NOT NULL — as a flipped bit in the file can
/// (the record's type byte), which no constraint sees: the schema text is edited in place.
func allowNulls(_ writer: any DatabaseWriter) throws {
    try writer.writeWithoutTransaction { db in
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        try db.execute(sql: "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE type = 'table' AND name IN ('event', 'session')")
        try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        try db.execute(sql: "PRAGMA writable_schema = OFF")
    }
}

/// The chain's encoding is frozen: every stored chain was hashed with it. Known answers, computed
/// outside Swift (Python's `hmac` over the encoding as `Chain` documents it: tagged, length-prefixed
/// fields), for two linked events of an unsealed database.
@Suite struct ChainEncodingTests {
    @Test func anEventHashesAsItAlwaysHas() {
        let chain = Chain.unkeyed
        let first = chain.hash(Chain.Event(session: "s-1", seq: 3, at: 1_790_000_000_000, utcOffset: 540, actor: "client",
                                           event: #"{"answer":"はい"}"#, answers: nil), after: nil)
        #expect(first.map { String(format: "%02x", $0) }.joined() == "23ce42bc56767958c280ca6032d9eb1eaf142faa736cf30927113ece0ebc81b0")
        let second = chain.hash(Chain.Event(session: "s-1", seq: 4, at: -5, utcOffset: 0, actor: "counselor:山田",
                                            event: String(repeating: "x", count: 200), answers: #"[{"path":"a"}]"#), after: first)
        #expect(second.map { String(format: "%02x", $0) }.joined() == "442202e0f3725a9f567010d05d4027e6e0cee08cfa05c9b319cbd4a6daab1350")
        // Hashing is a function of the event alone: the same event hashes the same a second time.
        #expect(chain.hash(Chain.Event(session: "s-1", seq: 3, at: 1_790_000_000_000, utcOffset: 540, actor: "client",
                                       event: #"{"answer":"はい"}"#, answers: nil), after: nil) == first)
    }

    /// A sealed database's chain (a 32-byte key, as the cipher derives one): the same known answers
    /// computed outside Swift, and the same from many threads hashing with one chain at once (the
    /// keyed HMAC is made once and shared).
    @Test func aKeyedChainHashesAsItAlwaysHasFromAnyThread() async {
        let chain = Chain(key: Array(1...32))
        let firstEvent = Chain.Event(session: "s-1", seq: 3, at: 1_790_000_000_000, utcOffset: 540, actor: "client",
                                     event: #"{"answer":"はい"}"#, answers: nil)
        let secondEvent = Chain.Event(session: "s-1", seq: 4, at: -5, utcOffset: 0, actor: "counselor:山田",
                                      event: String(repeating: "x", count: 200), answers: #"[{"path":"a"}]"#)
        let hex = { (d: Data) in d.map { String(format: "%02x", $0) }.joined() }
        let first = chain.hash(firstEvent, after: nil)
        #expect(hex(first) == "2da4a13d72ebbb766bcdb711dd2aee1f486690b0735553e0371be6a11fa4c913")
        let second = chain.hash(secondEvent, after: first)
        #expect(hex(second) == "c80a9ad4191c236c588a0ea9fa0dcf3a88d4b45bfa1bb7806123dd9fc97e4de9")
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    (0..<500).allSatisfy { _ in
                        let a = chain.hash(firstEvent, after: nil)
                        return a == first && chain.hash(secondEvent, after: a) == second
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    /// The chain's HMAC is built on swift-crypto's SHA256 with the key's blocks hashed once: it
    /// gives what swift-crypto's own `HMAC` gives, for keys shorter than, as long as and longer than
    /// a block, and messages around the block boundaries.
    @Test func theChainsHMACIsSwiftCryptosHMAC() {
        for keyLength in [0, 1, 31, 32, 63, 64, 65, 200] {
            let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            let chain = Chain(key: key)
            for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1_000, 70_000] {
                let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ keyLength) }
                #expect(chain.mac(message) == Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))),
                        "key \(keyLength) bytes, message \(length) bytes")
            }
        }
    }
}
