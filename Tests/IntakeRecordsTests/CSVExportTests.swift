import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeTesting
import Testing

@Suite struct CSVExportTests {
    static let project = Project.load(paths: [URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Dialogs").path])

    /// The records of every intake conversation in Dialogs/tests.
    static func records() throws -> [ExportedRecord] {
        let runner = ConversationRunner(project: project)
        return project.conversationFiles.flatMap { ConversationParser.parse(file: $0).0 }
            .filter { ($0.dialog ?? "intake") == "intake" }
            .compactMap { c in runner.run(c).record.map { ExportedRecord(session: "\(c.source.line)", record: $0.json) } }
    }

    /// Parses CSV with Python's csv module (as pandas and LibreOffice read it) into rows of cells.
    static func parseWithPython(_ csv: String) throws -> [[String]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).csv")
        try Data(csv.utf8).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import csv, json, sys; print(json.dumps(list(csv.reader(open(sys.argv[1], encoding='utf-8-sig', newline='')))))", file.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try JSONDecoder().decode([[String]].self, from: data)
    }

    @Test func theTableRoundTripsThroughACSVParser() throws {
        let records = try Self.records()
        let dialog = try #require(Self.project.dialogs["intake"])
        #expect(records.count > 10)
        let csv = CSVExport.table(dialog: dialog, records: records, bom: true)
        #expect(csv.hasPrefix("\u{FEFF}session,office,client,dialog,version,status,started,finished,consent_record,"))
        let rows = try Self.parseWithPython(csv)
        #expect(rows.count == records.count + 1)
        let header = rows[0]
        #expect(Set(rows.map(\.count)) == [header.count], "every row has every column")
        // Every cell reads back as the record holds it.
        for (row, exported) in zip(rows.dropFirst(), records) {
            let answers = exported.record["answers"] ?? .object([])
            for (i, column) in header.enumerated().dropFirst(8) {
                guard let path = dialog.parsePath(column) else { Issue.record("column \(column)"); continue }
                let value = dialog.recordValue(answers, path.id, indices: path.indices)
                if let value { #expect(row[i] == CSVExport.cell(value), "\(column)") }
            }
        }
        #expect(header.contains("children[2].age"))
        #expect(header.contains("jobs[4].employer"))
    }

    /// OWASP "CSV Injection": a text cell that would start a formula gets a leading `'`; numbers
    /// stay numbers (a negative one too); control characters are shown, not written raw.
    @Test func noTextCellStartsAFormulaAndNumbersStayNumbers() throws {
        for (text, cell) in [("=1+1", "'=1+1"), ("+81 90", "'+81 90"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
                             ("\tx", "'␉x"), ("\rx", "'␍x"), ("＝1", "'＝1"), ("a=1", "a=1"), ("山田", "山田"),
                             ("\u{1B}[2J", "␛[2J"), ("x\u{202E}y", "x⟨U+202E⟩y")] {
            #expect(CSVExport.cell(.string(text)) == cell, "\(text)")
        }
        #expect(CSVExport.cell(.int(-2)) == "-2")
        #expect(CSVExport.cell(.number(-2.5)) == "-2.5")
        #expect(CSVExport.cell(.array([.string("=a"), .string("b")])) == "'=a;b")
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([("dialog", .object([("id", .string("intake")), ("version", .string("1"))])),
                                    ("status", .string("complete")),
                                    ("answers", .object([("family", .object([("name", .string("=HYPERLINK(\"http://x.invalid\")")),
                                                                             ("children_count", .int(-1))]))]))])
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s-1", record: record)]))
        let name = try #require(rows[0].firstIndex(of: "name"))
        let count = try #require(rows[0].firstIndex(of: "children_count"))
        #expect(rows[1][name] == "'=HYPERLINK(\"http://x.invalid\")")
        #expect(rows[1][count] == "-1")
    }

    /// Each row says whose record it is: two offices' client "1024" are told apart by the office
    /// column; a client number or office is data like any answer (never a formula).
    @Test func eachRowNamesItsOfficeAndClient() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([("status", .string("complete")), ("answers", .object([]))])
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [
            ExportedRecord(session: "k", office: "川越", client: "1024", record: record),
            ExportedRecord(session: "s", office: "さいたま", client: "1024", record: record),
            ExportedRecord(session: "n", record: record),
            ExportedRecord(session: "x", office: "=cmd", client: "+1", record: record),
        ]))
        #expect(Array(rows[0].prefix(3)) == ["session", "office", "client"])
        #expect(rows.dropFirst().map { Array($0.prefix(3)) } == [["k", "川越", "1024"], ["s", "さいたま", "1024"], ["n", "", ""], ["x", "'=cmd", "'+1"]])
        let bundle = FHIRExport.bundle(dialog, catalog: Self.project.catalog, locale: "ja", records: [
            ExportedRecord(session: "k", office: "川越", client: "1024", record: record), ExportedRecord(session: "n", record: record)])
        guard case .array(let entries)? = bundle["entry"] else { Issue.record("no entries"); return }
        #expect(entries[1]["resource"]?["subject"]?["identifier"]?["value"] == .string("1024"))
        #expect(entries[1]["resource"]?["subject"]?["identifier"]?["system"] == .string("urn:intake:office:%E5%B7%9D%E8%B6%8A:client"))
        #expect(entries[2]["resource"]?["subject"] == nil, "no client named: no subject")
    }
}
