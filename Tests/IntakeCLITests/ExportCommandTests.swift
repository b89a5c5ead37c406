import Foundation
import IntakeRuntime
import Testing

/// `intake export` and `intake report` as an office uses them at the end of a month.
@Suite struct ExportCommandTests {
    static func database() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("intake-export-\(UUID().uuidString).sqlite").path
    }

    /// Parses CSV with Python's csv module (as Excel's import and pandas read it).
    static func rows(_ csv: String) throws -> [[String]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).csv")
        try Data(csv.utf8).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))))", file.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readToEndOfFile()
        p.waitUntilExit()
        return try JSONDecoder().decode([[String]].self, from: data)
    }

    /// Days are the office's; --from and --to take whole days, both included; the header is the
    /// dialog's whether or not a record falls in the range.
    @Test func theDateRangeTakesTheOfficesDaysAndTheHeaderStaysTheSame() throws {
        let db = Self.database()
        for (client, day) in [("A", "2026-11-22"), ("B", "2026-11-23"), ("C", "2026-11-25")] {
            let run = try CLI.run(["run", "--db", db, "--client", client, "--office", "川越", "--today", day], stdin: Data("いいえ\n".utf8))
            #expect(run.status == 2, "\(run.stderr)")
        }
        let all = try Self.rows(try CLI.run(["export", "--format", "csv", "--db", db]).stdout)
        #expect(all.dropFirst().map { $0[2] } == ["A", "B", "C"])
        let some = try CLI.run(["export", "--format", "csv", "--from", "2026-11-23", "--to", "2026-11-24", "--db", db])
        #expect(some.status == 0, "\(some.stderr)")
        let rows = try Self.rows(some.stdout)
        #expect(rows.dropFirst().map { $0[2] } == ["B"])
        #expect(rows[1][7].hasPrefix("2026-11-23T12:00:") && rows[1][7].hasSuffix("+09:00"), "office time: \(rows[1][7])")
        let none = try CLI.run(["export", "--format", "csv", "--from", "2026-12-01", "--db", db])
        #expect(try Self.rows(none.stdout) == [all[0]], "the same header with no record")
        #expect(try CLI.run(["export", "--format", "ndjson", "--to", "2026-11-22", "--db", db]).lines.count == 1)
        let wrong = try CLI.run(["export", "--from", "2026-11-31", "--db", db])
        #expect(wrong.status == 64 && wrong.stderr.contains("--from '2026-11-31' is not a day written YYYY-MM-DD"))
        let backwards = try CLI.run(["export", "--from", "2026-11-25", "--to", "2026-11-23", "--db", db])
        #expect(backwards.status == 64 && backwards.stderr.contains("--to '2026-11-23' is before --from '2026-11-25'"))
    }

    /// --labels: for Excel, a byte-order mark and the office's words; --no-bom leaves the mark out.
    @Test func theLabelsModeIsForExcel() throws {
        let db = Self.database()
        _ = try CLI.run(["run", "--db", db, "--client", "A", "--office", "川越", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        let labels = try CLI.run(["export", "--format", "csv", "--labels", "--db", db])
        #expect(labels.status == 0, "\(labels.stderr)")
        #expect(labels.stdout.hasPrefix("\u{FEFF}セッション,窓口,相談者番号,相談員,質問票,版,状態,開始日時,終了日時,"))
        let rows = try Self.rows(labels.stdout)
        #expect(rows[1][6] == "中止")
        #expect(rows[1][7].hasPrefix("2026-11-23 12:00:") && rows[1][7].count == 19, "\(rows[1][7])")
        #expect(rows[1].contains("いいえ"), "consent refused, in words")
        let plain = try CLI.run(["export", "--format", "csv", "--labels", "--no-bom", "--db", db])
        #expect(plain.stdout.hasPrefix("セッション,"))
        let english = try CLI.run(["export", "--format", "csv", "--labels", "--lang", "en", "--db", db])
        #expect(english.stdout.hasPrefix("\u{FEFF}Session,Office,Client number,Counselor,"))
        let codes = try CLI.run(["export", "--format", "csv", "--db", db])
        #expect(codes.stdout.hasPrefix("session,office,client,counselor,"), "codes, without a mark, unless --bom")
        #expect(try CLI.run(["export", "--format", "csv", "--bom", "--db", db]).stdout.hasPrefix("\u{FEFF}session,"))
        let notCSV = try CLI.run(["export", "--format", "fhir", "--labels", "--db", db])
        #expect(notCSV.status == 64 && notCSV.stderr.contains("--labels is for --format csv"))
    }
}

@Suite struct ReportOfTheOfficeTests {
    /// A session abandoned after the consent gate alone is not a consultation; one with a real
    /// answer is, and so is one the dialog ended (consent refused: handed to a counselor).
    @Test func aSessionLeftAfterTheConsentGateIsNotAConsultation() throws {
        let db = ExportCommandTests.database()
        for (client, input) in [("A", "いいえ\n"), ("B", "はい\n"), ("C", "はい\nはい\n"), ("D", "")] {
            _ = try CLI.run(["run", "--db", db, "--client", client, "--office", "川越", "--today", "2026-11-23"], stdin: Data(input.utf8))
        }
        let out = try CLI.run(["report", "--month", "2026-11", "--db", db, "--lang", "en"])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.lines.contains("| 川越 | 2 | 2 | 0 |"), "\(out.stdout)")
        let help = try CLI.run(["report", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("but the dialog's consent gate (the questions before its first end"), "the help says what is not counted")
    }

    /// The report speaks the office's language (Dialogs/office.yaml `language`), whatever the
    /// shell's LANG; --lang still overrides it. A time zone or language that does not exist is a
    /// lint error at its line.
    @Test func theReportSpeaksTheOfficesLanguage() throws {
        let dir = try CLI.scratchProject()
        let office = dir.appendingPathComponent("Dialogs/office.yaml")
        let settings = try String(contentsOf: office, encoding: .utf8)
        try settings.replacingOccurrences(of: "  language: ja", with: "  language: en").write(to: office, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("intake.sqlite").path
        _ = try CLI.run(["run", "--db", db, "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8), in: dir)
        let english = try CLI.run(["report", "--month", "2026-11", "--db", db], in: dir)
        #expect(english.lines.first == "Monthly report, 2026-11", "\(english.stdout)\(english.stderr)")
        let japanese = try CLI.run(["report", "--month", "2026-11", "--db", db, "--lang", "ja"], in: dir)
        #expect(japanese.lines.first == "2026-11 の月次報告")
        try settings.replacingOccurrences(of: "time_zone: Asia/Tokyo", with: "time_zone: Asia/Edo")
            .replacingOccurrences(of: "  language: ja", with: "  language: xx").write(to: office, atomically: true, encoding: .utf8)
        let lint = try CLI.run(["lint", "Dialogs", "--lang", "en"], in: dir)
        #expect(lint.status != 0)
        #expect(lint.stdout.contains("'Asia/Edo' is not the name of a time zone (e.g. Asia/Tokyo)") || lint.stderr.contains("'Asia/Edo' is not the name of a time zone"))
        #expect((lint.stdout + lint.stderr).contains("'xx' is not a language of Locales (en, ja, ja-easy)"))
    }
}
