import Foundation
import Testing

/// Items 4 and 6 of issue 13 as a person at the command line meets them.
@Suite struct IntegrityCommandTests {
    func scratch() throws -> (dir: URL, key: String, db: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-integrity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return (dir, dir.appendingPathComponent("intake.key").path, dir.appendingPathComponent("intake.sqlite").path)
    }

    @Test func aSealedDatabaseIsNotWrittenWithoutItsKeyNorWithAnOpenKeyFile() throws {
        let (_, key, db) = try scratch()
        #expect(try CLI.run(["new-key", key]).status == 0)
        #expect(try CLI.run(["run", "--db", db, "--key", key, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8)).status == 2)
        // Without the key: refused before anything is written in clear.
        let bare = try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        #expect(bare.status == 77)
        #expect(!bare.stderr.contains("USAGE"), "a refused key is not a usage error")
        #expect(bare.stderr.contains("is sealed: give its key file with --key FILE to write to it"))
        // A key file its group can read is refused, and the message says how to fix it.
        chmod(key, 0o640)
        let open = try CLI.run(["records", "list", "--db", db, "--key", key])
        #expect(open.status == 77)
        #expect(open.stderr.contains("chmod 600 \(key)"))
        chmod(key, 0o600)
        // A wrong key is refused at open.
        let (_, other, _) = try scratch()
        #expect(try CLI.run(["new-key", other]).status == 0)
        let wrong = try CLI.run(["records", "list", "--db", db, "--key", other])
        #expect(wrong.status == 77)
        #expect(wrong.stderr.contains("is not the key the database"))
        #expect(try CLI.run(["records", "verify", "--db", db, "--key", key]).status == 0)
    }

    @Test func aDamagedSessionIsNamedAndTheOthersAreListedExportedAndVerified() throws {
        let (_, _, db) = try scratch()
        for _ in 0..<3 {
            #expect(try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8)).status == 2)
        }
        let ids = try CLI.run(["records", "list", "--db", db]).lines.compactMap { $0.split(separator: "\t").first.map(String.init) }
        #expect(ids.count == 3)
        let before = try CLI.run(["records", "export", "--db", db])
        #expect(try CLI.run(["records", "verify", "--db", db]).status == 0)
        // A NULL where the start time was (as a flipped type bit leaves it), through the sqlite3 shell's
        // equivalent: the schema text edited so that SQLite stores it.
        let damaged = ids[1]
        let sql = """
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE type = 'table' AND name = 'session';
            PRAGMA writable_schema = OFF;
            """
        try damage(db, sql, then: "UPDATE session SET startedAt = NULL WHERE id = '\(damaged)'")
        let list = try CLI.run(["records", "list", "--db", db])
        #expect(list.status == 1)
        #expect(Set(list.lines.compactMap { $0.split(separator: "\t").first.map(String.init) }) == Set(ids).subtracting([damaged]))
        #expect(list.stderr.contains("session \(damaged) is damaged"))
        let export = try CLI.run(["records", "export", "--db", db])
        #expect(export.status == 1, "an export never silently leaves a record out")
        #expect(export.lines.count == 2)
        #expect(export.lines.allSatisfy { before.lines.contains($0) })
        let verify = try CLI.run(["records", "verify", "--db", db])
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("session \(damaged) is damaged"))
        #expect(!verify.stderr.contains("いいえ") && !list.stderr.contains("いいえ") && !export.stderr.contains("いいえ"))
    }

    /// A folder given as the key file was "open to others" with the advice `chmod 600 FOLDER`; a
    /// seal record that does not read (a value not text, the table dropped) was "check the disk".
    @Test func aFolderForAKeyAndABrokenSealRecordAreSaidAsWhatTheyAre() throws {
        let (dir, key, db) = try scratch()
        #expect(try CLI.run(["new-key", key]).status == 0)
        #expect(try CLI.run(["run", "--db", db, "--key", key, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8)).status == 2)
        chmod(dir.path, 0o755)
        let folder = try CLI.run(["records", "list", "--db", db, "--key", dir.path])
        #expect(folder.status != 0)
        #expect(!folder.stderr.contains("chmod 600"), "no advice to lock a folder")
        #expect(folder.stderr.contains("cannot read the key file"))
        try damage(db, "", then: "UPDATE meta SET value = x'00' WHERE key = 'key_fingerprint'")
        let blob = try CLI.run(["records", "list", "--db", db, "--key", key])
        #expect(blob.status == 65)
        #expect(blob.stderr.contains("is damaged: its own record of whether it is sealed does not read"))
        try damage(db, "DROP TABLE meta;", then: "SELECT 1")
        let dropped = try CLI.run(["records", "list", "--db", db, "--key", key])
        #expect(dropped.status == 65)
        #expect(dropped.stderr.contains("is damaged: its own record of whether it is sealed does not read"))
        #expect(!blob.stderr.contains("Check the disk") && !dropped.stderr.contains("Check the disk"))
    }

    /// Edits the database file with GRDB-free SQLite (the `intake` binary has no such command):
    /// here through a tiny Python, which every CI image of this project has.
    func damage(_ db: String, _ schema: String, then update: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            v = c.execute('PRAGMA schema_version').fetchone()[0]
            c.executescript(sys.argv[2])
            c.execute('PRAGMA writable_schema = ON'); c.execute('PRAGMA schema_version = %d' % (v + 1)); c.execute('PRAGMA writable_schema = OFF')
            c.close()
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute(sys.argv[3])
            c.close()
            """, db, schema, update]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }
}
