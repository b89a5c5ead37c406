import Foundation
import IntakeEngine
import IntakeRuntime
import IntakeStore
import Testing

/// `intake db copy` as an office runs it: an office's database moved into another, said in one
/// line; the same copy again refused with nothing written; a missing source named.
@Suite struct DBCopyCommandTests {
    @Test func anOfficesDatabaseIsCopiedOnceAndTheResumeNumberStillWorks() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-dbcopy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let from = dir.appendingPathComponent("kawagoe.sqlite").path, to = dir.appendingPathComponent("shared.sqlite").path
        let source = try IntakeDatabase.open(path: from)
        let now = Moment(epochMillis: 1_795_000_000_000, utcOffsetMinutes: 540)
        let token = ResumeToken(bytes: Array(repeating: 7, count: 16))
        try await source.store.create(SessionInfo(id: "s-1", clientID: "1024", dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja",
                                                  status: .inProgress, startedAt: now.epochMillis, updatedAt: now.epochMillis, office: "川越"),
                                      first: LogEntry(seq: 0, at: now, actor: .client, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk)),
                                      token: token)

        let first = try CLI.run(["db", "copy", "--from", from, "--to", to])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Copied 1 sessions (1 log entries) and 0 audit entries from \(from) into \(to)"), "\(first.stdout)")
        let shared = try IntakeDatabase.open(path: to)
        #expect(try shared.session(resuming: token)?.id == "s-1")
        #expect(try shared.audit().map(\.action) == ["copy-in"])

        let again = try CLI.run(["db", "copy", "--from", from, "--to", to])
        #expect(again.status == 1)
        #expect(again.stderr.contains("Nothing was copied: \(to) already holds 1 of these sessions (s-1)"), "\(again.stderr)")
        #expect(try shared.audit().count == 1)

        let missing = try CLI.run(["db", "copy", "--from", dir.appendingPathComponent("nope.sqlite").path, "--to", to])
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("There is no database at"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("nope.sqlite").path))
    }

    /// A sealed source copied without `--key` said "The copy stopped: Failure. Sessions copied so far
    /// are complete…": a type's name, and a partial copy that never began. It says that the key is needed.
    @Test func aSealedSourceCopiedWithoutItsKeyAsksForTheKey() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-dbcopy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let from = dir.appendingPathComponent("kawagoe.sqlite").path, to = dir.appendingPathComponent("shared.sqlite").path
        let key = dir.appendingPathComponent("intake.key").path
        #expect(try CLI.run(["new-key", key]).status == 0)
        #expect(try CLI.run(["run", "--db", from, "--key", key, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8)).status == 2)
        let bare = try CLI.run(["db", "copy", "--from", from, "--to", to])
        #expect(bare.status == 77)
        #expect(bare.stderr.contains("sealed: give the key file with --key FILE"), "\(bare.stderr)")
        #expect(!bare.stderr.contains("Failure") && !bare.stderr.contains("copied so far"))
        #expect(try CLI.run(["db", "copy", "--from", from, "--to", to, "--key", key]).status == 0)
    }
}
