import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeSheets
import IntakeTesting
import Testing

/// Every sheet of the repository's dialogs rendered from real records (made by running a fixture
/// conversation through the engine), compared with golden files in Golden/. Set
/// INTAKE_RECORD_GOLDEN=1 to rewrite them: a run that rewrites fails, so that the change is looked at.
@Suite struct SheetGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path],
                                      localesDirectory: root.appendingPathComponent("Locales").path)

    /// The persona conversations (Dialogs/tests) whose records the sheets are rendered from.
    static let personas = ["aiko": "愛子 —", "kenji": "健二 —", "maria": "マリア — 同じ答えを通常の日本語で", "misaki": "美咲 —"]

    /// The record of a persona's conversation, run through the engine now (so sheets always show
    /// what the current dialogs record).
    static func record(_ name: String) throws -> JSON {
        let prefix = try #require(personas[name])
        let conversation = try #require(project.conversationFiles.flatMap { ConversationParser.parse(file: $0).0 }
            .first { $0.name.hasPrefix(prefix) })
        let result = ConversationRunner(project: project).run(conversation)
        #expect(result.failure == nil)
        return try #require(result.record?.json)
    }

    static let cases: [(record: String, kind: String, locale: String)] = [
        ("aiko", "record", "ja"), ("aiko", "trial", "ja"), ("aiko", "request", "ja"), ("aiko", "referral", "ja"),
        ("aiko", "inventory", "ja"), ("aiko", "record", "en"), ("kenji", "record", "ja"), ("kenji", "request", "ja"),
        ("kenji", "referral", "ja"), ("kenji", "inventory", "en"), ("maria", "record", "ja"), ("misaki", "referral", "ja"),
    ]

    @Test(arguments: cases.map { "\($0.record)-\($0.kind)-\($0.locale)" })
    func sheetMatchesItsGoldenFile(_ name: String) throws {
        let c = try #require(Self.cases.first { "\($0.record)-\($0.kind)-\($0.locale)" == name })
        let record = try Self.record(c.record)
        let dialog = try #require(Self.project.dialogs["intake"])
        let sheet = try #require(Self.project.sheet(c.kind, dialog: "intake"))
        let outcome = SheetRenderer(dialog: dialog, catalog: Self.project.catalog).render(sheet, record: try IntakeRecord(json: record), locale: c.locale)
        let rendered = outcome.sheets.map(\.markdown).joined(separator: "\n---\n\n")
            + (outcome.withheld.isEmpty ? "" : "\n<!-- withheld -->\n" + outcome.withheld.joined(separator: "\n") + "\n")
        let golden = Self.here.appendingPathComponent("Golden/\(name).md")
        if ProcessInfo.processInfo.environment["INTAKE_RECORD_GOLDEN"] == "1" {
            try rendered.write(to: golden, atomically: true, encoding: .utf8)
            Issue.record("re-recorded \(golden.lastPathComponent); run again without INTAKE_RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(rendered == expected)
    }

    @Test func theRepositorysSheetsLoadWithoutErrors() {
        #expect(Self.project.diagnostics.filter { $0.source.file.contains("/sheets/") }.isEmpty)
        #expect(Set(Self.project.sheets.map(\.kind)) == ["record", "trial", "request", "referral", "inventory"])
    }
}
