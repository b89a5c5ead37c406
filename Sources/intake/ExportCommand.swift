import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeRuntime
import IntakeSheets

extension RecordsCommand {
    /// `intake export` and `intake records export`: the records of finished sessions, every read
    /// in the audit trail first.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exports the records of finished sessions.",
            discussion: """
                csv columns come from the dialog (the same header every month): session, office, client, counselor, dialog, \
                version, status, started, finished (office time), one per question (a repeat group up to its maximum: \
                children[1].age … children[10].age), suggestions, notes. --labels writes them for Excel: headers and \
                choices in words, in the office's language (Dialogs/office.yaml `language`, or --lang), with a UTF-8 \
                byte-order mark (--no-bom leaves it out). Times are in the office's time zone (`time_zone`, default \
                Asia/Tokyo).
                """)

        enum Format: String, ExpressibleByArgument { case json, ndjson, csv, fhir }

        @Option(help: "json (one array), ndjson (one record a line), csv (one row a record, one column a question; repeat groups as numbered columns up to the dialog's maximum) or fhir (an R4 Bundle: the dialog's Questionnaire and a QuestionnaireResponse per record).")
        var format: Format = .ndjson

        @Option(help: "With csv and fhir: the dialog whose records to export.")
        var dialog = "intake"

        @Flag(help: "With csv: headers, choices, yes/no and statuses in words (the office's language, or --lang), for Excel; default: ids and codes.")
        var labels = false

        @Flag(inversion: .prefixedNo, help: "With csv: start with a UTF-8 byte-order mark, which Excel needs to read UTF-8 (default: with --labels only).")
        var bom: Bool?

        @Option(help: "Only sessions started on or after this day, YYYY-MM-DD (office time).")
        var from: String?

        @Option(help: "Only sessions started on or before this day, YYYY-MM-DD (office time).")
        var to: String?

        @Option(help: "Where the dialogs are (for csv columns).")
        var dialogs = "Dialogs"

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var project: ProjectOptions

        func validate() throws {
            let messages = project.messages(dialogs)
            for (name, day) in [("from", from), ("to", to)] {
                if let day, CivilDate(iso: day) == nil { throw messages.error("operations.cli.not_a_day", ["option": name, "value": day]) }
            }
            if let f = from.flatMap(CivilDate.init(iso:)), let t = to.flatMap(CivilDate.init(iso:)), t < f {
                throw messages.error("operations.cli.to_before_from", ["to": to ?? "", "from": from ?? ""])
            }
            if labels && format != .csv { throw messages.error("operations.cli.labels_need_csv") }
        }

        /// Exports every record that reads; a damaged one is never exported: the others are, then each
        /// damaged session is named on standard error and the command exits 1 (an export never
        /// silently omits a record).
        func run() async throws {
            let messages = project.messages(dialogs)
            // The office's settings (its time zone) when the days or the format need them.
            let needsProject = format == .csv || format == .fhir || from != nil || to != nil
            let loaded = needsProject ? try project.loadRunnable([dialogs]) : nil
            let time = OfficeTime(loaded?.officeTimeZone ?? OfficeTime.tokyo.zone)
            let store = try await database.openStore(messages)
            // A damaged page or index can hide a whole row: the storage is checked first.
            try await reportingDamage(database: database.db) { try await store.checkStorage() }
            // The days are the office's: from its midnight to the midnight after `to`.
            let filter = SessionFilter(from: from.flatMap(CivilDate.init(iso:)).map(time.startOfDay),
                                       to: to.flatMap(CivilDate.init(iso:)).map { time.startOfDay(CivilDate(daysSinceEpoch: $0.daysSinceEpoch + 1)) })
            let list = try await store.listSessions(filter)
            var damaged = list.damaged
            var records: [FinishedRecord] = []
            let sessions = Array(list.sessions.reversed())
            let read = await store.records(of: sessions.map(\.id))
            try withRecords(messages) {
                for (s, result) in zip(sessions, read) {
                    do {
                        if let r = try result.get() { records.append(FinishedRecord(session: s, record: r)) }
                    } catch RuntimeError.damaged(let id) {
                        damaged.append(id)
                    }
                }
            }
            let (exported, output) = try exportRecords(records, project: loaded, time: time, damaged: &damaged, messages: messages)
            // Every record in the output is a read, in the audit trail (one transaction) before any is printed.
            try await ReadAudit.record(exported, kind: "export:" + format.rawValue, in: store, messages: messages)
            print(output, terminator: "")
            if !damaged.isEmpty { throw IntegrityMessages.damaged(damaged) }
        }

        /// The sessions whose records the export holds, and the export's text.
        private func exportRecords(_ records: [FinishedRecord], project loaded: Project?, time: OfficeTime,
                                   damaged: inout [String], messages: Messages) throws -> (sessions: [String], text: String) {
            switch format {
            case .ndjson:
                return (records.map(\.session.id), records.map { ControlCharacters.escapingInJSON($0.record.rendered()) + "\n" }.joined())
            case .json:
                return (records.map(\.session.id),
                        "[" + records.map { ControlCharacters.escapingInJSON($0.record.rendered()) }.joined(separator: ",\n") + "]\n")
            case .csv, .fhir:
                guard let loaded, let d = loaded.dialogs[dialog] else {
                    throw messages.error("operations.cli.unknown_dialog_alone", ["dialog": dialog])
                }
                // A stored document that does not read as a record is damaged: reported, not exported.
                var exportable: [ExportedRecord] = []
                for r in records where r.session.dialogID == dialog {
                    guard let typed = try? IntakeRecord(json: r.record) else { damaged.append(r.session.id); continue }
                    exportable.append(ExportedRecord(session: r.session.id, office: r.session.office, client: r.session.clientID,
                                                     counselor: r.session.counselor, record: typed))
                }
                let records = exportable
                // The office's language unless --lang says otherwise (not the shell's LANG).
                let lang = project.language ?? loaded.officeLanguage
                if format == .csv {
                    let words = labels ? CSVExport.Labels(catalog: loaded.catalog, locale: lang, short: Self.shortLabels(loaded, dialog: d.id)) : nil
                    let options = CSVExport.Options(bom: bom ?? labels, time: time, labels: words)
                    return (records.map(\.session), CSVExport.table(dialog: d, records: records, options: options))
                } else {
                    return (records.map(\.session),
                            FHIRExport.bundle(d, catalog: loaded.catalog, locale: lang, records: records, time: time).rendered(pretty: true) + "\n")
                }
            }
        }

        /// The short label of each question on the office's sheets for `dialog` (`氏名`, `年齢`):
        /// question id → locale key, the record sheet's first, then the others by kind.
        static func shortLabels(_ project: Project, dialog: String) -> [String: String] {
            var out: [String: String] = [:]
            let questions = project.dialog(dialog)?.index
            let sheets = project.sheets.filter { $0.dialog == dialog }.sorted { ($0.kind == "record" ? 0 : 1, $0.kind) < ($1.kind == "record" ? 0 : 1, $1.kind) }
            for sheet in sheets {
                for block in sheet.blocks {
                    let rows: [SheetDefinition.Row]
                    switch block {
                    case .rows(_, let r): rows = r
                    case .table(_, _, let columns): rows = columns
                    case .suggestions, .notes, .text: rows = []
                    }
                    // A row that shows the first answered of several questions labels only the first
                    // question (a computed value before it has no column of its own).
                    for row in rows where row.show == .value {
                        guard let field = row.fields.first(where: { questions?.question($0) != nil }), out[field] == nil else { continue }
                        out[field] = row.label
                    }
                }
            }
            return out
        }
    }
}
