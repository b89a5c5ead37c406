import Foundation
import IntakeRuntime
import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeTesting
import Testing

@Suite struct CSVExportTests {
    static let project = Project.load(paths: [URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Dialogs").path])

    /// The records of every intake conversation in Dialogs/tests, made once for all the tests that
    /// read them (each conversation is run three ways, which a debug build does slowly).
    static func records() throws -> [ExportedRecord] {
        try recorded.get()
    }

    private static let recorded = Result { () throws -> [ExportedRecord] in
        let runner = ConversationRunner(project: project)
        return try project.conversationFiles.flatMap { ConversationParser.parse(file: $0).0 }
            .filter { ($0.dialog ?? "intake") == "intake" }
            .compactMap { c in try runner.run(c).record.map { ExportedRecord(session: "\(c.source.line)", record: try IntakeRecord(json: $0.json)) } }
    }

    /// A record as a test writes it, only the members it is about, completed with empty ones
    /// (an empty status, no answers, a note made at no question) and read as a record.
    static func completed(_ partial: JSON) throws -> IntakeRecord {
        func filled(_ json: JSON?, _ defaults: [(String, JSON)]) -> JSON {
            guard case .object(let given)? = json else { return .object(defaults) }
            return .object(defaults.map { d in given.first { $0.0 == d.0 } ?? d } + given.filter { g in !defaults.contains { $0.0 == g.0 } })
        }
        var top = filled(partial, [
            ("dialog", .object([("id", .string("")), ("version", .string(""))])), ("status", .string("")), ("locale", .string("ja")),
            ("mode", .string("kiosk")), ("started", .string("")), ("answers", .object([])), ("computed", .object([])),
            ("declined", .array([])), ("skipped", .array([])), ("warnings", .array([])), ("suggestions", .array([])), ("notes", .array([])),
        ])
        if case .object(var members) = top {
            for (i, (k, v)) in members.enumerated() {
                guard case .array(let items) = v else { continue }
                if k == "suggestions" {
                    members[i].1 = .array(items.map { filled($0, [("id", .string("")), ("message", .string("")), ("text", .string("")), ("because", .object([]))]) })
                } else if k == "notes" {
                    members[i].1 = .array(items.map { filled($0, [("question", .null), ("text", .string("")), ("at", .string(""))]) })
                }
            }
            top = .object(members)
        }
        return try IntakeRecord(json: top)
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
        let data = out.fileHandleForReading.readToEndOfFile()
        p.waitUntilExit()
        return try JSONDecoder().decode([[String]].self, from: data)
    }

    @Test func theTableRoundTripsThroughACSVParser() throws {
        let records = try Self.records()
        let dialog = try #require(Self.project.dialogs["intake"])
        #expect(records.count > 10)
        let csv = CSVExport.table(dialog: dialog, records: records, bom: true)
        #expect(csv.hasPrefix("\u{FEFF}session,office,client,counselor,dialog,version,status,started,finished,consent_record,"))
        let rows = try Self.parseWithPython(csv)
        #expect(rows.count == records.count + 1)
        let header = rows[0]
        #expect(Set(rows.map(\.count)) == [header.count], "every row has every column")
        #expect(Array(header.suffix(2)) == ["suggestions", "notes"])
        // Every cell reads back as the record holds it.
        for (row, exported) in zip(rows.dropFirst(), records) {
            // Read by the record's JSON, the way the export read it before the record was typed.
            let answers = exported.record.json["answers"] ?? .object([])
            for (i, column) in header.enumerated().dropFirst(9).dropLast(2) {
                guard let path = dialog.parsePath(column) else { Issue.record("column \(column)"); continue }
                let value = Self.value(in: answers, of: path, dialog)
                if let value { #expect(row[i] == CSVExport.cell(value), "\(column)") }
            }
        }
        #expect(header.contains("children[2].age"))
        #expect(header.contains("jobs[4].employer"))
    }

    /// The columns come from the dialog, not from the records: the same header for a month with
    /// no record, one with a single small family and every conversation's records; a repeat group
    /// reaches the dialog's maximum (children: 10; the childcare group that follows the children
    /// as many; jobs: 10), and no further.
    @Test func theHeaderIsTheSameEveryMonthWhateverWasAnswered() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        func header(_ records: [ExportedRecord]) throws -> [String] {
            try Self.parseWithPython(CSVExport.table(dialog: dialog, records: records)).first ?? []
        }
        let none = try header([])
        let all = try Self.records()
        #expect(try header(all) == none)
        #expect(try header(Array(all.prefix(1))) == none)
        let children = try #require(dialog.index.group("children"))
        #expect(none.contains("children[\(children.max)].age"))
        #expect(!none.contains("children[\(children.max + 1)].age"))
        #expect(none.contains("care[\(children.max)].evening_care"))
        #expect(!none.contains("care[\(children.max + 1)].evening_care"))
        let jobs = try #require(dialog.index.group("jobs"))
        #expect(none.contains("jobs[\(jobs.max)].employer"))
        #expect(none.filter { $0.hasPrefix("job_inventory[") && $0.hasSuffix("].tasks") }.count == jobs.max)
        #expect(Set(none).count == none.count, "no column twice")
    }

    /// Labels mode, for people and Excel: the office's words for headers (the sheets' short labels,
    /// else the question; a group's instance named), choices, yes/no, statuses and 答えない; times as
    /// Excel reads them. The same columns as the codes, in the same order.
    @Test func theLabelsModeSpeaksTheOfficesLanguage() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        let labels = CSVExport.Labels(catalog: Self.project.catalog, locale: "ja",
                                      short: ["name": "sheet.label.name", "age": "sheet.label.child_age"])
        let record: JSON = .object([
            ("dialog", .object([("id", .string("intake")), ("version", .string("1.0.0"))])),
            ("status", .string("complete")), ("started", .string("2026-11-23T01:41:07Z")), ("finished", .string("2026-11-23T10:59:00+09:00")),
            ("answers", .object([("consent", .object([("consent_record", .bool(true)), ("contact_methods", .array([.string("mobile"), .string("email")]))])),
                                 ("family", .object([("name", .string("山田 花子")), ("housing", .string("rent")),
                                                     ("children", .array([.object([("age", .int(4))])]))]))])),
            ("declined", .array([.string("income_sources")])),
        ])
        let options = CSVExport.Options(bom: true, labels: labels)
        let csv = CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s-1", office: "川越", client: "1024", counselor: "sato", record: try Self.completed(record))],
                                  options: options)
        #expect(csv.hasPrefix("\u{FEFF}"))
        let rows = try Self.parseWithPython(csv)
        let codes = CSVExport.header(dialog: dialog)
        #expect(rows[0].count == codes.count)
        #expect(Array(rows[0].prefix(9)) == ["セッション", "窓口", "相談者番号", "相談員", "質問票", "版", "状態", "開始日時", "終了日時"])
        func cell(_ code: String) -> String? {
            codes.firstIndex(of: code).map { rows[1][$0] }
        }
        func head(_ code: String) -> String? {
            codes.firstIndex(of: code).map { rows[0][$0] }
        }
        #expect(head("name") == "氏名")
        #expect(head("children[1].age") == "1人目のお子さん：年齢")
        #expect(head("children[2].age") == "2人目のお子さん：年齢")
        // Without a short label, the question's own text; it says which child, so no group title before it.
        #expect(head("children[1].stage") == Self.project.catalog.text("family.stage", "ja", ["n": "1"]))
        #expect(Set(rows[0]).count == rows[0].count, "no header twice")
        #expect(cell("status") == "完了")
        #expect(cell("started") == "2026-11-23 10:41:07", "office time, as Excel reads a date and time")
        #expect(cell("finished") == "2026-11-23 10:59:00")
        #expect(cell("counselor") == "sato")
        #expect(cell("consent_record") == "はい")
        #expect(cell("housing") == Self.project.catalog.text("family.housing.rent", "ja"))
        #expect(cell("contact_methods") == ["mobile", "email"].map { Self.project.catalog.text("consent.contact_methods.\($0)", "ja") }.joined(separator: "、"))
        #expect(cell("income_sources") == "答えない")
        #expect(cell("children[1].age") == "4")
        #expect(cell("children[2].age") == "")
        // Codes: the same cells as stored, times ISO 8601 in the office's zone.
        let coded = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s-1", record: try Self.completed(record))]))
        #expect(coded[1][codes.firstIndex(of: "started") ?? 0] == "2026-11-23T10:41:07+09:00")
        #expect(coded[1][codes.firstIndex(of: "housing") ?? 0] == "rent")
        #expect(coded[1][codes.firstIndex(of: "income_sources") ?? 0] == "(declined)")
        #expect(coded[1][codes.firstIndex(of: "consent_record") ?? 0] == "true")
    }

    /// A suggestion is written in the labels' language, the office's place named in that language
    /// (Dialogs/office.yaml writes it per language), whatever language the session was in.
    @Test func aSuggestionNamesTheOfficesPlaceInTheLabelsLanguage() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([("status", .string("complete")), ("suggestions", .array([
            .object([("id", .string("mothers_hellowork")), ("message", .string("suggest.mothers_hellowork")), ("text", .string("…"))]),
        ]))])
        let exported = [ExportedRecord(session: "s", record: try Self.completed(record))]
        func cell(_ locale: String) throws -> String {
            let labels = CSVExport.Labels(catalog: Self.project.catalog, locale: locale)
            let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: exported, options: CSVExport.Options(labels: labels)))
            return rows[1][rows[0].count - 2]
        }
        #expect(try cell("en").hasPrefix("Mothers' Hello Work (Mothers' Corner): you can consult there"))
        #expect(try cell("ja").hasPrefix("最寄りのマザーズハローワーク（マザーズコーナー）をご案内します。"))
        #expect(try cell("ja-easy").hasPrefix("近（ちか）くの マザーズハローワーク（マザーズコーナー）を しょうかい します。"))
    }

    /// Times are the office's, whatever zone the session was taken in: another office's zone gives
    /// its own offset (and its summer time).
    @Test func timesAreWrittenInTheOfficesTimeZone() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([("status", .string("complete")), ("started", .string("2026-07-01T09:00:00+09:00")),
                                    ("finished", .string("2026-12-01T00:30:00.250Z")), ("answers", .object([]))])
        let newYork = OfficeTime(try #require(TimeZone(identifier: "America/New_York")))
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s", record: try Self.completed(record))],
                                                             options: CSVExport.Options(time: newYork)))
        #expect(rows[1][7] == "2026-06-30T20:00:00-04:00")
        #expect(rows[1][8] == "2026-11-30T19:30:00-05:00")
        let tokyo = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s", record: try Self.completed(record))]))
        #expect(tokyo[1][8] == "2026-12-01T09:30:00+09:00")
        #expect(OfficeTime.epochMillis("2026-11-23T10:41:07+09:00") == OfficeTime.epochMillis("2026-11-23T01:41:07Z"))
        for bad in ["2026-11-23", "2026-11-23T10:41:07", "2026-11-23T25:00:00Z", "2026-11-23T10:41:07+0900", "x"] {
            #expect(OfficeTime.epochMillis(bad) == nil, "\(bad)")
        }
        // The office's day begins at its midnight (New York: 05:00 UTC in winter, 04:00 in summer).
        #expect(newYork.startOfDay(try #require(CivilDate(year: 2026, month: 12, day: 1))) == (OfficeTime.epochMillis("2026-12-01T05:00:00Z") ?? 0))
        #expect(newYork.startOfDay(try #require(CivilDate(year: 2026, month: 7, day: 1))) == (OfficeTime.epochMillis("2026-07-01T04:00:00Z") ?? 0))
        #expect(OfficeTime.tokyo.startOfDay(try #require(CivilDate(year: 2026, month: 12, day: 1))) == (OfficeTime.epochMillis("2026-11-30T15:00:00Z") ?? 0))
    }

    /// The counselor's notes, the suggestions and who took the session are columns too; a note is
    /// the counselor's text and a suggestion's sentence the office's, and both are made inert.
    @Test func notesSuggestionsAndTheCounselorAreColumns() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([
            ("status", .string("complete")), ("answers", .object([])),
            ("suggestions", .array([.object([("id", .string("hellowork")), ("message", .string("suggest.hellowork")), ("text", .string("x"))]),
                                    .object([("id", .string("legal_consultation")), ("message", .string("suggest.legal_consultation"))])])),
            ("notes", .array([.object([("question", .string("housing")), ("text", .string("=家賃の滞納あり")), ("at", .string("2026-11-23T10:00:00+09:00"))]),
                              .object([("question", .null), ("text", .string("次回は来月"))])])),
        ])
        let one = [ExportedRecord(session: "s", counselor: "sato", record: try Self.completed(record))]
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: one))
        #expect(rows[1][3] == "sato")
        #expect(rows[1].suffix(2) == ["hellowork;legal_consultation", "housing: =家賃の滞納あり\n次回は来月"])
        let labels = CSVExport.Labels(catalog: Self.project.catalog, locale: "ja")
        let worded = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: one, options: CSVExport.Options(labels: labels)))
        #expect(Array(worded[0].suffix(2)) == ["ご案内", "相談員メモ（:note）"])
        #expect(worded[1].suffix(2).first == ["hellowork", "legal_consultation"].map { Self.project.catalog.text("suggest.\($0)", "ja") }.joined(separator: "\n"))
        #expect(worded[1].last == Self.project.catalog.text("family.housing", "ja") + ": =家賃の滞納あり\n次回は来月")
        // A note that would start a formula gets its leading quote.
        let first = [ExportedRecord(session: "s", record: try Self.completed(.object([("notes", .array([.object([("text", .string("=1+1"))])]))])))]
        #expect(try Self.parseWithPython(CSVExport.table(dialog: dialog, records: first))[1].last == "'=1+1")
    }

    /// Headers and labels are cells like any other: a locale string that would start a formula
    /// (an office's own wording, a translation) gets its leading quote.
    @Test func headersAndLabelsAreMadeInertToo() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        var catalog = Self.project.catalog
        catalog.set("export.column.session", "=HYPERLINK(\"http://x.invalid\")", in: "ja")
        catalog.set("family.housing.rent", "+賃貸", in: "ja")
        catalog.set("sheet.label.name", "@氏名", in: "ja")
        let record: JSON = .object([("status", .string("complete")), ("answers", .object([("family", .object([("housing", .string("rent"))]))]))])
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s", record: try Self.completed(record))],
                                                             options: CSVExport.Options(labels: CSVExport.Labels(catalog: catalog, locale: "ja", short: ["name": "sheet.label.name"]))))
        #expect(rows[0][0] == "'=HYPERLINK(\"http://x.invalid\")")
        #expect(rows[0].contains("'@氏名"))
        #expect(rows[1].contains("'+賃貸"))
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
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s-1", record: try Self.completed(record))]))
        let name = try #require(rows[0].firstIndex(of: "name"))
        let count = try #require(rows[0].firstIndex(of: "children_count"))
        #expect(rows[1][name] == "'=HYPERLINK(\"http://x.invalid\")")
        #expect(rows[1][count] == "-1")
    }

    /// Spaces before the formula do not make it text: a spreadsheet that trims a cell's spaces on
    /// import (LibreOffice's "Trim spaces", some importers always) reads ` =HYPERLINK(…)` as a
    /// formula. A kiosk answer sent as a `value` keeps its leading spaces, so such a cell gets its
    /// `'` too; spaces before anything else stay as they are.
    @Test func spacesBeforeAFormulaDoNotHideIt() throws {
        for (text, cell) in [(" =1+1", "' =1+1"), ("  @SUM(A1)", "'  @SUM(A1)"), ("\u{3000}＝1", "'\u{3000}＝1"),
                             ("\u{A0}+81 90", "'\u{A0}+81 90"), (" -2+3", "' -2+3"), (" 山田", " 山田"), ("  ", "  ")] {
            #expect(CSVExport.cell(.string(text)) == cell, "\(text)")
        }
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([("dialog", .object([("id", .string("intake")), ("version", .string("1"))])),
                                    ("status", .string("complete")),
                                    ("answers", .object([("family", .object([("address", .string(" =HYPERLINK(\"http://x.invalid\")"))]))]))])
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [ExportedRecord(session: "s-1", record: try Self.completed(record))]))
        let address = try #require(rows[0].firstIndex(of: "address"))
        #expect(rows[1][address] == "' =HYPERLINK(\"http://x.invalid\")")
    }

    /// Each row says whose record it is: two offices' client "1024" are told apart by the office
    /// column; a client number or office is data like any answer (never a formula).
    @Test func eachRowNamesItsOfficeAndClient() throws {
        let dialog = try #require(Self.project.dialogs["intake"])
        let record: JSON = .object([("status", .string("complete")), ("answers", .object([]))])
        let rows = try Self.parseWithPython(CSVExport.table(dialog: dialog, records: [
            ExportedRecord(session: "k", office: "川越", client: "1024", record: try Self.completed(record)),
            ExportedRecord(session: "s", office: "さいたま", client: "1024", record: try Self.completed(record)),
            ExportedRecord(session: "n", record: try Self.completed(record)),
            ExportedRecord(session: "x", office: "=cmd", client: "+1", record: try Self.completed(record)),
        ]))
        #expect(Array(rows[0].prefix(4)) == ["session", "office", "client", "counselor"])
        #expect(rows.dropFirst().map { Array($0.prefix(3)) } == [["k", "川越", "1024"], ["s", "さいたま", "1024"], ["n", "", ""], ["x", "'=cmd", "'+1"]])
        let bundle = FHIRExport.bundle(dialog, catalog: Self.project.catalog, locale: "ja", records: [
            ExportedRecord(session: "k", office: "川越", client: "1024", record: try Self.completed(record)), ExportedRecord(session: "n", record: try Self.completed(record))])
        guard case .array(let entries)? = bundle["entry"] else { Issue.record("no entries"); return }
        #expect(entries[1]["resource"]?["subject"]?["identifier"]?["value"] == .string("1024"))
        #expect(entries[1]["resource"]?["subject"]?["identifier"]?["system"] == .string("urn:intake:office:%E5%B7%9D%E8%B6%8A:client"))
        #expect(entries[2]["resource"]?["subject"] == nil, "no client named: no subject")
    }
}

extension CSVExportTests {
    /// The value of `path`'s question in a record's JSON `answers`, walked by key: a reading of
    /// the record that does not go through the typed record the export reads.
    static func value(in answers: JSON, of path: Path, _ dialog: Dialog) -> JSON? {
        guard let steps = dialog.recordSteps(to: path.id) else { return nil }
        var node = answers
        var next = path.indices.makeIterator()
        for step in steps {
            switch step {
            case .key(let k):
                guard let v = node[k] else { return nil }
                node = v
            case .group(let g):
                guard case .array(let instances)? = node[g], let i = next.next(), i >= 0, i < instances.count else { return nil }
                node = instances[i]
            }
        }
        return node
    }
}
