import Foundation
import IntakeRuntime
import GRDB
import Testing

/// Issue 13, items 5 and 8 as a user meets them: the built `intake`, its files' modes under the
/// usual umask, and what it says (and how it exits) when a database does not open.
@Suite struct StorageCommandTests {
    private func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-storage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    private func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }

    /// `intake serve` started by a shell with umask 022 (as a login shell has): while it runs, the
    /// database, its -wal and its -shm exist, and none is readable by another user.
    @Test func theDatabaseItsWALAndSHMAreCreated0600WhateverTheUmask() async throws {
        let db = try scratch().appendingPathComponent("intake.sqlite").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "umask 022; exec \"$0\" serve --port 0 --db \"$1\"", CLI.binary.path, db]
        p.currentDirectoryURL = CLI.packageRoot
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        var data = Data()
        while !data.contains(10) {
            let chunk = out.fileHandleForReading.readAvailable()
            if chunk.isEmpty { break }
            data += chunk
        }
        #expect(String(decoding: data, as: UTF8.self).hasPrefix("listening on"))
        for file in [db, db + "-wal", db + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
            #expect(mode(file) == 0o600, "\(file): \(String(mode(file) ?? 0, radix: 8))")
        }
    }

    @Test func aWorldReadableDatabaseIsMadePrivateWithAWarning() throws {
        let db = try scratch().appendingPathComponent("intake.sqlite").path
        #expect(try CLI.run(["records", "list", "--db", db]).status == 0)
        #expect(chmod(db, 0o644) == 0)
        let r = try CLI.run(["records", "list", "--db", db])
        #expect(r.status == 0)
        #expect(r.stderr.contains("could be read by other users"))
        #expect(mode(db) == 0o600)
    }

    /// Runs `args` and checks the user sees the cause, not the usage text, and the exit code.
    private func expectCause(_ args: [String], says text: String, exits code: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status == code, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(text), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("Usage:") && !r.stderr.contains("USAGE:"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!r.stderr.contains("cannot open the database"), sourceLocation: sourceLocation)
    }

    @Test func aFileThatIsNotAnIntakeDatabaseSaysSoWithoutUsage() throws {
        let dir = try scratch()
        let text = dir.appendingPathComponent("notes.txt").path
        try Data(String(repeating: "meeting notes\n", count: 300).utf8).write(to: URL(fileURLWithPath: text))
        try expectCause(["records", "list", "--db", text], says: "is not an intake database", exits: 65)
        let foreign = dir.appendingPathComponent("other.sqlite").path
        try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE contacts (name TEXT)") }
        try expectCause(["export", "--db", foreign], says: "is not an intake database", exits: 65)
    }

    @Test func aDamagedDatabaseSaysDamaged() throws {
        let db = try scratch().appendingPathComponent("intake.sqlite").path
        #expect(try CLI.run(["records", "list", "--db", db]).status == 0)
        let q = try DatabaseQueue(path: db)
        try q.write { conn in
            for i in 0..<2000 {
                try conn.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'test', 'test', ?)",
                                 arguments: [i, String(repeating: "x", count: 200)])
            }
        }
        try q.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try q.close()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int)
        #expect(truncate(db, off_t(size / 3)) == 0)
        try expectCause(["records", "list", "--db", db], says: "is damaged", exits: 65)
    }

    @Test func aLockedDatabaseSaysLockedAndToTryAgain() throws {
        let db = try scratch().appendingPathComponent("intake.sqlite").path
        #expect(try CLI.run(["records", "list", "--db", db]).status == 0)
        var holdsItsLock = Configuration()
        holdsItsLock.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: db, configuration: holdsItsLock)
        try other.writeWithoutTransaction { conn in
            try conn.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            try conn.execute(sql: "BEGIN EXCLUSIVE")
            try conn.execute(sql: "INSERT INTO audit (at, actor, action, detail) VALUES (0, 'other', 'other', 'other')")
        }
        try expectCause(["records", "list", "--db", db], says: "in use by another program", exits: 75)
        try other.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }
    }

    @Test func aMissingFolderSaysSoAndTheMessageIsLocalized() throws {
        let db = try scratch().appendingPathComponent("no/such/intake.sqlite").path
        try expectCause(["records", "list", "--db", db], says: "does not exist", exits: 73)
        try expectCause(["report", "--month", "2026-11", "--lang", "ja", "--db", db], says: "フォルダーがありません", exits: 73)
    }

    @Test func aWrongCommandLineIsStillAUsageError() throws {
        let r = try CLI.run(["records", "list", "--no-such-option"])
        #expect(r.status == 64)
    }
}

/// Issue 13, item 7 at the counselor's end: the office's retention rule for abandoned sessions, and
/// the session log's maximum in `intake run`.
@Suite struct OperationsCommandTests {
    @Test func recordsPurgeRemovesAbandonedSessionsUnderTheOfficesRuleWithAnAuditEntry() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-purge-\(UUID().uuidString).sqlite").path
        // Sessions dated by `--today` (the session's clock): a recent one left before any answer…
        let day = 86_400.0
        func date(daysAgo: Double) -> String {
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd"
            f.timeZone = TimeZone.current
            return f.string(from: Date().addingTimeInterval(-daysAgo * day))
        }
        _ = try CLI.run(["run", "--db", db, "--today", date(daysAgo: 0)])
        // …is not old enough under the office's 30 days.
        let early = try CLI.run(["records", "purge", "--db", db, "--lang", "en"])
        #expect(early.status == 0)
        #expect(early.stdout.contains("No abandoned sessions older than 30 days."))
        // Forty days ago: two left before any answer (the input ends at once), one that answered.
        for _ in 0..<2 { _ = try CLI.run(["run", "--db", db, "--today", date(daysAgo: 40)]) }
        _ = try CLI.run(["run", "--db", db, "--today", date(daysAgo: 40)], stdin: Data("はい\n".utf8))
        #expect(try CLI.run(["records", "list", "--db", db]).lines.count == 4)
        let purge = try CLI.run(["records", "purge", "--db", db, "--lang", "en"])
        #expect(purge.status == 0)
        #expect(purge.stdout.contains("Purged 2 abandoned sessions (no answer given, untouched for more than 30 days)."))
        // The answered one and the recent one stay, and every chain still holds.
        let list = try CLI.run(["records", "list", "--db", db])
        #expect(list.lines.count == 2, "\(list.stderr)")
        #expect(try CLI.run(["records", "verify", "--db", db]).status == 0)
        let audit = try DatabaseQueue(path: db).read { try Row.fetchAll($0, sql: "SELECT actor, action, detail FROM audit ORDER BY id") }
        // Whoever runs the job (its operating-system account), never a name it types.
        #expect(audit.last?["actor"] as String? == "counselor:\(CLI.account)")
        #expect(audit.last?["action"] as String? == "purge-abandoned")
        #expect(audit.last?["detail"] as String? == "2 sessions abandoned before any answer and untouched for more than 30 days, and their 4 events")
    }

    @Test func aRunStopsTakingInputAtTheLogsMaximumAndIsNotResumed() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-long-\(UUID().uuidString).sqlite").path
        let lines = String(repeating: ":review\n", count: 2_100)
        let r = try CLI.run(["run", "--db", db, "--locale", "en", "--today", "2026-11-23"], stdin: Data(lines.utf8))
        #expect(r.stdout.contains("This session has reached its maximum length (2000 steps)"))
        let token = try #require(r.stdout.split(separator: "\n").last.flatMap { line in
            line.split(separator: " ").map(String.init).first { $0.count > 20 && $0.contains("-") }
        })
        let again = try CLI.run(["run", "--db", db, "--locale", "en", "--resume", token.trimmingCharacters(in: .punctuationCharacters)])
        #expect(again.status == 1, "\(again.stderr)")
        #expect(again.stderr.contains("maximum length"))
    }
}
