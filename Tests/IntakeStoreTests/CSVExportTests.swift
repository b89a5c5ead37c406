import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeStore
import IntakeTesting
import Testing

@Suite struct CSVExportTests {
    static let project = Project.load(paths: [URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Dialogs").path])

    /// The records of every intake conversation in Dialogs/tests.
    static func records() throws -> [(session: String, record: JSON)] {
        let runner = ConversationRunner(project: project)
        return project.conversationFiles.flatMap { ConversationParser.parse(file: $0).0 }
            .filter { ($0.dialog ?? "intake") == "intake" }
            .compactMap { c in runner.run(c).record.map { ("\(c.source.line)", $0.json) } }
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
        #expect(csv.hasPrefix("\u{FEFF}session,dialog,version,status,started,finished,consent_record,"))
        let rows = try Self.parseWithPython(csv)
        #expect(rows.count == records.count + 1)
        let header = rows[0]
        #expect(Set(rows.map(\.count)) == [header.count], "every row has every column")
        // Every cell reads back as the record holds it.
        for (row, (_, record)) in zip(rows.dropFirst(), records) {
            let answers = record["answers"] ?? .object([])
            for (i, column) in header.enumerated().dropFirst(6) {
                guard let path = dialog.parsePath(column) else { Issue.record("column \(column)"); continue }
                let value = dialog.recordValue(answers, path.id, indices: path.indices)
                if let value { #expect(row[i] == CSVExport.cell(value), "\(column)") }
            }
        }
        #expect(header.contains("children[2].age"))
        #expect(header.contains("jobs[4].employer"))
    }
}
