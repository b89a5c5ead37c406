import ArgumentParser
import IntakeDialogs

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Checks dialogs and locales, reporting every problem as FILE:LINE:COL: error|warning: message."
    )

    @Argument(help: "Dialog files or folders (default: Dialogs).")
    var paths: [String] = []

    @OptionGroup var project: ProjectOptions

    func run() throws {
        let loaded = project.load(paths)
        let locale = project.messageLocale
        for d in loaded.diagnostics { print(d.rendered(loaded.catalog, locale: locale)) }
        print(BuiltInMessages.text(loaded.catalog, "lint.summary", locale, ["errors": String(loaded.diagnostics.errorCount),
                                                                           "warnings": String(loaded.diagnostics.warningCount)]))
        if loaded.diagnostics.errorCount > 0 { throw ExitCode(1) }
    }
}
