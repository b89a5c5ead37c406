import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeSheets

struct SheetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sheet",
        abstract: "Prints a sheet of a finished record as Markdown or as a printable A4 page (record, trial, request, referral, inventory)."
    )

    /// What a sheet is written as.
    enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        /// Markdown (the default): headings and tables, for a terminal, a file or a converter.
        case markdown
        /// One self-contained HTML page that prints on A4 from any browser (`SheetHTML`).
        case html
    }

    @Option(help: "The sheet: record (就労相談記録票), trial (職場体験シート), request (求人リクエストカード), referral (相談つなぎシート), inventory (棚卸し・職務経歴書).")
    var kind: String

    @Argument(help: "The record, as JSON (e.g. from `intake run --print-record`).")
    var record: String

    @Option(help: "Language of the sheet: ja (default: sheets are for the office), en, ja-easy.")
    var locale = "ja"

    @Option(help: "markdown (default), or html: a self-contained A4 page to print from a browser.")
    var format: Format = .markdown

    @Option(help: "Where the dialogs and sheets are.")
    var dialogs = "Dialogs"

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let loaded = try project.loadRunnable([dialogs])
        let messages = Messages(catalog: loaded.catalog, locale: project.messageLocale)
        guard let data = FileManager.default.contents(atPath: record) else {
            throw messages.error("operations.cli.record.unreadable", ["file": record])
        }
        // Read in the order written: a suggestion's reasons stay in the order the record gives them.
        guard let text = String(data: data, encoding: .utf8), let json = try? JSON(parsing: text, keepingOrder: true) else {
            throw messages.error("operations.cli.record.not_json", ["file": record])
        }
        try Self.print(kind, of: json, named: messages.text("operations.cli.record.file", ["file": record]), locale: locale, format: format,
                       loaded, messages: messages)
    }

    /// Prints the sheets of `kind` for a record; a referral the client did not consent to is named on
    /// standard error, not printed (exit 3 when nothing was printed).
    static func print(_ kind: String, of json: JSON, named name: String, locale: String, format: Format = .markdown,
                      _ loaded: Project, messages: Messages) throws {
        try emit(render(kind, of: json, named: name, locale: locale, loaded, messages: messages), format: format, locale: locale,
                 catalog: loaded.catalog)
    }

    /// The sheets of `kind` for a record, rendered and not yet printed (a stored record's read is
    /// audited between the two: `records sheet`, the REPL's `:sheet`).
    /// The line closing a sheet of stored record `session`: who printed it (the store's identity,
    /// never a typed name) and when (office time) — the same as its entry in the access history.
    static func printedBy(_ identity: String, session: String, at: Int64, locale: String, _ loaded: Project) -> String {
        let time = String(Moment(epochMillis: at).iso.prefix(16)).replacingOccurrences(of: "T", with: " ")
        return loaded.catalog.text("sheet.printed", locale, ["who": ControlCharacters.visible(identity), "time": time,
                                                           "session": ControlCharacters.visible(session)])
    }

    /// `name`: the record as the messages name it (`operations.cli.record.*`); `messages`: the
    /// language the person at the command line reads (`--lang`, else LANG), not the sheet's.
    static func render(_ kind: String, of json: JSON, named name: String, locale: String, _ loaded: Project,
                       messages: Messages) throws -> SheetOutcome {
        guard case .string(let dialogID)? = json["dialog"]?["id"], let dialog = loaded.dialogs[dialogID] else {
            throw messages.error("operations.cli.record.unknown_dialog", ["record": name, "known": loaded.dialogs.keys.sorted().joined(separator: ", ")])
        }
        guard let sheet = loaded.sheet(kind, dialog: dialogID) else {
            let kinds = loaded.sheets.filter { $0.dialog == dialogID }.map(\.kind).sorted()
            var args = ["kind": kind, "dialog": dialogID, "kinds": kinds.joined(separator: ", ")]
            guard let s = Spelling.closest(to: kind, in: kinds) else { throw messages.error("operations.cli.record.no_sheet", args) }
            args["suggestion"] = s
            throw messages.error("operations.cli.record.no_sheet_did_you_mean", args)
        }
        guard loaded.catalog.strings[locale] != nil else {
            throw messages.error("operations.cli.record.no_locale", ["locale": locale,
                                                                     "locales": loaded.catalog.locales.filter { !$0.isEmpty }.joined(separator: ", ")])
        }
        let record: IntakeRecord
        do {
            record = try IntakeRecord(json: json)
        } catch {
            // Where the document stops being a record (a path of keys) and what was expected there: no value of it.
            throw messages.error("operations.cli.record.not_a_record", ["record": name, "detail": error.description])
        }
        return SheetRenderer(dialog: dialog, catalog: loaded.catalog).render(sheet, record: record, locale: locale)
    }

    /// Prints rendered sheets; what was withheld is named on standard error (exit 3 when nothing was
    /// printed). `footer`: a line closing each sheet (a stored record's: who printed it, when).
    /// `format`: Markdown, or one HTML page in `locale` holding every sheet (each from a new page).
    static func emit(_ outcome: SheetOutcome, footer: String? = nil, format: Format = .markdown, locale: String = "ja",
                     catalog: Catalog? = nil) throws {
        switch format {
        case .markdown:
            let sheets = outcome.sheets.map { sheet in footer.map { sheet.markdown + "\n" + $0 + "\n" } ?? sheet.markdown }
            Swift.print(sheets.joined(separator: "\n---\n\n"), terminator: "")
        case .html:
            if !outcome.sheets.isEmpty {
                Swift.print(SheetHTML.page(outcome.sheets, locale: locale, catalog: catalog ?? Catalog(), footer: footer), terminator: "")
            }
        }
        for w in outcome.withheld { printError(w) }
        if outcome.sheets.isEmpty { throw ExitCode(3) }
    }
}
