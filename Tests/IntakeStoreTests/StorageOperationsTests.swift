import Foundation
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeRuntime
@testable import IntakeStore
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)

private func scratchFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-ops-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

private func mode(_ path: String) -> Int? {
    (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
}

/// The cause a failed open gave (nil: it opened).
private func openCause(_ path: String) -> StoreOpenError.Cause? {
    do {
        _ = try IntakeDatabase.open(path: path)
        return nil
    } catch let e as StoreOpenError {
        return e.cause
    } catch {
        Issue.record("not a StoreOpenError: \(error)")
        return .other
    }
}

/// Runs `body` with a tiny tmpfs mounted (tests run as root); false when mounting is not allowed here.
private func withTinyDisk(_ body: (String) throws -> Void) throws -> Bool {
    let dir = try scratchFolder()
    let mount = Process()
    mount.executableURL = URL(fileURLWithPath: "/bin/mount")
    mount.arguments = ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]
    mount.standardError = FileHandle.nullDevice
    guard (try? mount.run()) != nil else { return false }
    mount.waitUntilExit()
    guard mount.terminationStatus == 0 else { return false }
    defer {
        let umount = Process()
        umount.executableURL = URL(fileURLWithPath: "/bin/umount")
        umount.arguments = [dir]
        try? umount.run()
        umount.waitUntilExit()
    }
    try body(dir)
    return true
}

/// Issue 13, item 5: the database, its -wal and -shm are only the owner's.
@Suite struct PrivateFileTests {
    @Test func aNewDatabaseAndItsWALAndSHMAreOnlyTheOwners() throws {
        let path = try scratchFolder() + "/intake.sqlite"
        let db = try IntakeDatabase.open(path: path)
        // A write, so that the WAL has content and the -shm exists while the database is open.
        try db.writer.write { try $0.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (0, 'test', 'test', 'test')") }
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(mode(file) == 0o600, "\(file)")
        }
        #expect(!db.permissionsTightened)
    }

    @Test func anExistingWorldReadableDatabaseIsTightenedAndSaysSo() throws {
        let path = try scratchFolder() + "/intake.sqlite"
        _ = try IntakeDatabase.open(path: path)
        #expect(chmod(path, 0o644) == 0)
        let db = try IntakeDatabase.open(path: path)
        #expect(db.permissionsTightened)
        #expect(mode(path) == 0o600)
        // Once private, opening it again says nothing.
        #expect(try !IntakeDatabase.open(path: path).permissionsTightened)
    }
}

/// Issue 13, item 8: an open that fails says why.
@Suite struct OpenErrorTests {
    @Test func aTextFileIsNotAnIntakeDatabase() throws {
        let path = try scratchFolder() + "/notes.sqlite"
        try Data(String(repeating: "これはメモです。\n", count: 200).utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o644) == 0)
        #expect(openCause(path) == .notIntake)
        // Another program's file (a path given by mistake) is not touched: its mode stays.
        #expect(mode(path) == 0o644)
    }

    @Test func anotherProgramsSQLiteDatabaseIsNotAnIntakeDatabaseAndIsLeftAlone() throws {
        let path = try scratchFolder() + "/other.sqlite"
        let other = try DatabaseQueue(path: path)
        try other.write { try $0.execute(sql: "CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('x')") }
        try other.close()
        #expect(openCause(path) == .notIntake)
        // Not migrated: none of intake's tables were added to it.
        let tables = try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(tables == ["contacts"])
        // Nor switched to WAL (a write): it is exactly as its program left it.
        #expect(try DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "delete")
    }

    @Test func aTruncatedDatabaseIsDamaged() throws {
        let path = try scratchFolder() + "/intake.sqlite"
        let db = try IntakeDatabase.open(path: path)
        try db.writer.write { conn in
            for i in 0..<2000 {
                try conn.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'test', 'test', ?)",
                                 arguments: [i, String(repeating: "x", count: 200)])
            }
        }
        try db.writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try? (db.writer as? DatabaseQueue)?.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(truncate(path, off_t(size / 3)) == 0)
        #expect(openCause(path) == .damaged)
    }

    @Test func aDatabaseLockedByAnotherProgramSaysLocked() throws {
        let path = try scratchFolder() + "/intake.sqlite"
        _ = try IntakeDatabase.open(path: path)
        // Another program takes the file for itself (exclusive locking mode, a write held open).
        var holdsItsLock = Configuration()
        holdsItsLock.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: path, configuration: holdsItsLock)
        try other.writeWithoutTransaction { conn in
            try conn.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try conn.execute(sql: "BEGIN EXCLUSIVE")
            try conn.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (0, 'other', 'other', 'other')")
        }
        #expect(openCause(path) == .locked)
        try other.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
    }

    @Test func aMissingFolderSaysSo() throws {
        let path = try scratchFolder() + "/no/such/folder/intake.sqlite"
        #expect(openCause(path) == .noFolder)
        let folder = try scratchFolder()
        #expect(openCause(folder) == .notIntake)
    }

    @Test func anImmutableFileHasNoPermission() throws {
        let path = try scratchFolder() + "/intake.sqlite"
        _ = try IntakeDatabase.open(path: path)
        // Root ignores permission bits; an immutable file (chattr +i) it cannot write either.
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = ["+i", path]
        chattr.standardError = FileHandle.nullDevice
        guard (try? chattr.run()) != nil else { return }
        chattr.waitUntilExit()
        guard chattr.terminationStatus == 0 else { return }
        defer {
            let undo = Process()
            undo.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
            undo.arguments = ["-i", path]
            try? undo.run()
            undo.waitUntilExit()
        }
        #expect(openCause(path) == .noPermission)
    }

    @Test func aFullDiskSaysDiskFull() throws {
        let ran = try withTinyDisk { dir in
            // Fill the disk, then create a database on it.
            let filler = dir + "/filler"
            FileManager.default.createFile(atPath: filler, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
            let chunk = Data(count: 4096)
            while (try? handle.write(contentsOf: chunk)) != nil {}
            try? handle.close()
            #expect(openCause(dir + "/intake.sqlite") == .diskFull)
        }
        if !ran {
            // No tmpfs here: the classification of SQLite's own code is still checked below.
            #expect(IntakeDatabase.classify(DatabaseError(resultCode: .SQLITE_FULL), path: "/x").cause == .diskFull)
        }
    }

    @Test func sqliteCodesAreClassifiedInWordsAnOperatorCanActOn() {
        func cause(_ code: ResultCode) -> StoreOpenError.Cause {
            IntakeDatabase.classify(DatabaseError(resultCode: code), path: FileManager.default.temporaryDirectory.path + "/x.sqlite").cause
        }
        #expect(cause(.SQLITE_BUSY) == .locked)
        #expect(cause(.SQLITE_LOCKED) == .locked)
        #expect(cause(.SQLITE_NOTADB) == .notIntake)
        #expect(cause(.SQLITE_CORRUPT) == .damaged)
        #expect(cause(.SQLITE_READONLY) == .noPermission)
        #expect(cause(.SQLITE_PERM) == .noPermission)
        #expect(cause(.SQLITE_CANTOPEN) == .noPermission)
        #expect(cause(.SQLITE_FULL) == .diskFull)
        #expect(IntakeDatabase.classify(DatabaseError(resultCode: .SQLITE_CANTOPEN), path: "/no/such/folder/x.sqlite").cause == .noFolder)
        #expect(IntakeDatabase.classify(DatabaseError(resultCode: .SQLITE_FULL), path: "/x").sqliteCode == 13)
    }

    @Test func aStorageErrorInTheLogCarriesSQLitesCode() {
        let text = storageErrorDescription(DatabaseError(resultCode: .SQLITE_FULL, message: "database or disk is full"))
        #expect(text.contains("13"))
        #expect(text.contains("database or disk is full"))
    }
}

/// Issue 13, item 7: sessions abandoned before any answer are purged under the office's rule, with an
/// audit entry, and are not consultations.
@Suite struct AbandonedSessionTests {
    private let t0 = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))
    private func at(days: Int64) -> Moment { Moment(epochMillis: t0.epochMillis + days * 86_400_000, utcOffsetMinutes: 540) }

    /// A first answer the intake dialog takes (from its first test conversation).
    private func firstAnswer(_ engine: Engine) throws -> Event {
        let step = engine.start(locale: "ja", mode: .kiosk, at: t0)
        for candidate in ["はい", "yes", "1", "同意します"] {
            let next = engine.handle(.answer(candidate), step.state, at: t0)
            if next.state.answers != step.state.answers { return .answer(candidate) }
        }
        return .decline
    }

    @Test func abandonedSessionsAreNotConsultationsAndArePurgedWithAnAuditEntry() async throws {
        let db = try IntakeDatabase.inMemory()
        let engine = Engine(dialog: try #require(project.dialogs["intake"]), catalog: project.catalog)
        func startSessions() async throws {
            let runner = SessionRunner(engine: engine, store: db.store)
            // One client answers; two sessions are started and left (one suspended, one just dropped).
            var (answered, _) = try await runner.start(id: "answered", token: .random(), locale: "ja", mode: .kiosk, actor: .client, office: "川越", at: at(days: 0))
            _ = try await runner.handle(try firstAnswer(engine), in: &answered, actor: .client, at: at(days: 0))
            try await runner.suspend(&answered, actor: .client, at: at(days: 0))
            var (left, _) = try await runner.start(id: "left", token: .random(), locale: "ja", mode: .kiosk, actor: .client, office: "川越", at: at(days: 0))
            _ = try await runner.handle(.review, in: &left, actor: .client, at: at(days: 0))
            try await runner.suspend(&left, actor: .client, at: at(days: 0))
            _ = try await runner.start(id: "dropped", token: .random(), locale: "ja", mode: .kiosk, actor: .client, office: "川越", at: at(days: 1))
        }
        try await startSessions()

        let report = try await MonthlyReport.make(from: db.store, year: 2026, month: 11)
        #expect(report.counts.map(\.consultations) == [1])
        #expect(try db.abandonedSessions(updatedBefore: at(days: 100).epochMillis) == ["left", "dropped"])

        // Within the retention period nothing goes; after it, only the abandoned ones.
        #expect(try db.purgeAbandoned(olderThanDays: 30, by: .counselor("retention"), at: at(days: 20).epochMillis) == 0)
        #expect(try db.purgeAbandoned(olderThanDays: 30, by: .counselor("retention"), at: at(days: 30).epochMillis + 1) == 1)
        #expect(try db.session("left") == nil)
        #expect(try db.log(of: "left").isEmpty)
        #expect(try db.session("dropped") != nil)
        #expect(try db.session("answered") != nil)
        let audit = try db.audit().filter { $0.action == "purge-abandoned" }
        #expect(audit.count == 2)
        #expect(audit.last?.actor == "counselor:retention")
        #expect(audit.last?.detail == "1 sessions abandoned before any answer and untouched for more than 30 days, and their 3 events")
    }

    @Test func theRetentionPeriodIsTheOfficesSetting() throws {
        #expect(project.abandonedSessionDays == 30)
        #expect(project.diagnostics.filter { $0.severity == .error }.isEmpty)
    }
}
