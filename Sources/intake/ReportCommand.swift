import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeRuntime

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The monthly counts: consultations (延べ件数), distinct clients (実件数), found work (就業件数), and the follow-up list.",
        discussion: """
            The month and the dates are the office's (Dialogs/office.yaml `time_zone`, default Asia/Tokyo), and the report             is written in the office's language (`language`, default ja) unless --lang says otherwise — never from the             shell's LANG. A consultation is a session started in the month, except one abandoned before the first real             answer: never finished (in progress or suspended) with no answer given (a value or 答えない) to any question             but the dialog's consent gate (the questions before its first end: "may we record this?"). Answers brought             forward from a last record are not answers given. A session the dialog ended (consent refused: handed over             to a counselor) is a consultation.
            """
    )

    @Option(help: "The month, YYYY-MM (default: this month, office time).")
    var month: String?

    @Option(help: "Only this office's counts and follow-ups (default: every office in the database, one row each, and their total).")
    var office: String?

    @Flag(help: "A row per counselor (her login, or the operating-system account) within each office.")
    var perCounselor = false

    @Option(help: "Where the dialogs and locales are (for the wording).")
    var dialogs = "Dialogs"

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var project: ProjectOptions

    /// Every line of the report: answers in it are shown, never acted on (`ControlCharacters`).
    private func print(_ line: String) {
        Swift.print(ControlCharacters.visible(line))
    }

    func run() async throws {
        let loaded = project.load([dialogs])
        // This month in the office's time zone, whatever the machine's.
        let time = OfficeTime(loaded.officeTimeZone)
        let month = self.month ?? String(time.moment(Int64(Date().timeIntervalSince1970 * 1000)).localDate.iso.prefix(7))
        let parts = month.split(separator: "-")
        guard parts.count == 2, let y = Int(parts[0]), let m = Int(parts[1]), (1...12).contains(m), parts[0].count == 4 else {
            throw project.messages(dialogs).error("operations.cli.not_a_month", ["value": month])
        }
        let store = try await database.openStore(project.messages(dialogs))
        // A damaged session would make the counts wrong: the report is refused, naming it.
        let report = try await reportingDamage(database: database.db) {
            try await store.checkStorage()
            return try await withRecords(project.messages(dialogs)) { try await MonthlyReport.make(from: store, year: y, month: m, office: office, perCounselor: perCounselor,
                                                                  time: time, dialogs: loaded.dialogs) }
        }
        // The follow-up list shows what clients answered: who read it is audited first (as
        // `report`), and nothing is printed when it cannot be. The counts show no one's answers.
        try await ReadAudit.record(report.changes.map(\.session), kind: "report", in: store, messages: project.messages(dialogs))
        let catalog = loaded.catalog
        // An office's document: in the office's language unless --lang asks otherwise (not the shell's LANG).
        let lang = project.language ?? loaded.officeLanguage
        print(catalog.text("report.title", lang, ["month": month]))
        print("")
        let who = perCounselor ? [catalog.text("report.counselor", lang)] : []
        let header = [catalog.text("report.office", lang)] + who
            + ["report.consultations", "report.clients", "report.found_work"].map { catalog.text($0, lang) }
        print("| " + header.joined(separator: " | ") + " |")
        print("|---|" + (perCounselor ? "---|" : "") + "---:|---:|---:|")
        for c in report.counts {
            print("| " + ([c.office] + (perCounselor ? [c.counselor ?? "-"] : []) + [c.consultations, c.clients, c.foundWork].map(String.init))
                .joined(separator: " | ") + " |")
        }
        // Several rows: their total (the prefecture's view over every office in the database).
        if report.counts.count > 1 {
            let t = report.total
            print("| " + ([catalog.text("report.total", lang)] + (perCounselor ? [""] : []) + [t.consultations, t.clients, t.foundWork].map(String.init))
                .joined(separator: " | ") + " |")
        }
        if !report.changes.isEmpty {
            print("")
            print(catalog.text("report.changes", lang))
            print("")
            for c in report.changes {
                let found = c.foundWork.map { catalog.text($0 ? "engine.yes" : "engine.no", lang) } ?? "—"
                // A client number is her office's: with the office beside it when the visit names one.
                let who = c.client.map { c.office == "-" ? $0 : "\(c.office) \($0)" } ?? c.session
                print("- \(c.date) \(who): \(catalog.text("report.found_work", lang)) \(found)" + (c.changes.map { "; \($0)" } ?? ""))
                // What differs from her last record, question by question, in words.
                let dialog = loaded.dialogs[c.dialogID]
                let engine = dialog.map { Engine(dialog: $0, catalog: catalog) }
                for change in c.changed {
                    let path = dialog?.parsePath(change.question)
                    let text = path.flatMap { p in dialog?.index.question(p.id).map { catalog.text($0.text, lang, ["n": String((p.indices.last ?? 0) + 1)]) } } ?? change.question
                    func words(_ answer: MonthlyReport.Changed.Answer) -> String {
                        switch answer {
                        case .declined: return catalog.text("engine.declined", lang)
                        case .value(.null): return "—"
                        case .value(let value):
                            guard let p = path, let engine, let v = dialog?.answerValue(value, question: p.id) else { return value.json.rendered() }
                            return engine.words(.value(v), question: p.id, locale: lang)
                        }
                    }
                    print("    - " + catalog.text("report.changed", lang, ["question": text, "before": words(change.before), "after": words(change.after)]))
                }
            }
        }
    }
}
