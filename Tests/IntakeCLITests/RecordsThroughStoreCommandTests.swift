import Foundation
import Testing

/// `records`, `export`, `report` and the REPL's `:records` read the database through the `Store`
/// protocol: what they print is what they printed when they read the SQLite file directly.
@Suite struct RecordsThroughStoreCommandTests {
    @Test func aRecordIsShownAndExportedAsStoredMembersInTheDialogsOrder() throws {
        let dir = try CLI.scratchProject()
        let answers = ["はい", "令和8年11月1日", "2", "ABC Care", "moved house", "3", "", "4", "no", "", "not yet", "2", ":finish"]
        let run = try CLI.run(["--dialog", "followup", "--counselor", "佐藤", "--client", "A", "--today", "2026-11-23"],
                              stdin: Data((answers.joined(separator: "\n") + "\n").utf8), in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require(try CLI.run(["records", "list"], in: dir).lines.first?.split(separator: "\t").first.map(String.init))
        let shown = try CLI.run(["records", "show", id], in: dir)
        #expect(shown.status == 0)
        // The engine's order (dialog, status, locale, mode, whose record it is, started, …), not sorted keys.
        #expect(shown.stdout.hasPrefix(#"{"dialog":{"id":"followup","version":"#))
        #expect(shown.stdout.contains(#""status":"complete","locale":"ja","mode":"counselor","client":"A","counselor":""#))
        // The counselor it names is the store's identity (here the operating-system account), never the typed name.
        #expect(!shown.stdout.contains("佐藤"))
        let ndjson = try CLI.run(["export", "--format", "ndjson"], in: dir)
        #expect(ndjson.stdout == shown.stdout)
        let json = try CLI.run(["records", "export", "--format", "json"], in: dir)
        #expect(json.stdout == "[" + shown.stdout.dropLast() + "]\n")
    }

    @Test func theREPLListsTheSessionsInItsDatabase() throws {
        let dir = try CLI.scratchProject()
        let out = try CLI.run(["--dialog", "followup", "--counselor", "佐藤", "--today", "2026-11-23"],
                              stdin: Data(":records\n:suspend\n".utf8), in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let id = try #require(try CLI.run(["records", "list"], in: dir).lines.first?.split(separator: "\t").first.map(String.init))
        #expect(out.stdout.contains("面談の一覧（新しい順、回答は表示しません）："))
        #expect(out.lines.contains { $0.hasPrefix("  \(id)  2026-11-23") && $0.contains("followup") && $0.hasSuffix(CLI.account) })
    }
}
