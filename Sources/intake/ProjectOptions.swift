import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeEngine

/// Where the dialogs and locales are, and the language of messages.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: "The folder of locale files (default: INTAKE_LOCALES or the config file's, else Locales beside the dialogs folder; README: Where intake finds its dialogs and locales).")
    var locales: String?

    @Option(name: .customLong("lang"), help: "Language of messages: ja or en (default: from LANG).")
    var language: String?

    /// ja when LANG says Japanese, else en.
    var messageLocale: String {
        if let language { return language }
        let lang = ProcessInfo.processInfo.environment["LANG"] ?? ""
        return lang.hasPrefix("ja") ? "ja" : "en"
    }

    func load(_ paths: [String]) -> Project {
        Project.load(paths: paths.isEmpty ? ["Dialogs"] : paths, localesDirectory: locales)
    }

    /// The project, for commands that run or render its dialogs: its errors go to standard error
    /// and the command stops (exit 1), rather than work from a broken dialog.
    func loadRunnable(_ paths: [String]) throws -> Project {
        let loaded = load(paths)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            for d in errors { printError(d.rendered(loaded.catalog, locale: messageLocale)) }
            throw ExitCode(1)
        }
        return loaded
    }
}

/// Prints to standard error without buffering surprises.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
