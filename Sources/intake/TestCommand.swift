import ArgumentParser
import Foundation
import IntakeDialogs
import IntakeTesting

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Runs the test conversations; the last line is 'N passed, N failed'."
    )

    @Argument(help: "Dialog folders or files, with their conversation files (default: Dialogs).")
    var paths: [String] = []

    @Flag(help: "Rewrite each conversation's expect: block with what the session really gave.")
    var update = false

    @Flag(help: "List the questions and suggestion rules that no conversation reached.")
    var coverage = false

    @Option(help: "Write each conversation's record as JSON into this folder (e.g. to preview sheets with `intake sheet`).")
    var records: String?

    @OptionGroup var project: ProjectOptions

    func run() throws {
        var loaded = project.load(paths)
        // Conversation files given alone (`intake test Dialogs/tests/followup.yaml`): theirs are the
        // conversations run, over the dialogs intake finds when none is named (as `intake run`);
        // the conversations found there may be named by their `previous:`.
        var references: [String] = []
        if loaded.dialogs.isEmpty, !loaded.conversationFiles.isEmpty, !loaded.diagnostics.contains(where: { $0.severity == .error }) {
            var withDialogs = project.load([])
            references = withDialogs.conversationFiles
            withDialogs.conversationFiles = loaded.conversationFiles
            loaded = withDialogs
        }
        let locale = project.messageLocale
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        guard errors.isEmpty else {
            // Conversations over a dialog with errors would fail for its errors' sake (or pass by
            // chance): the errors are shown, and nothing runs until lint is clean.
            for d in errors { print(d.rendered(loaded.catalog, locale: locale)) }
            printError(BuiltInMessages.text(loaded.catalog, "lint.test-refused", locale, ["errors": String(errors.count)]))
            throw ExitCode(1)
        }
        let suite = TestSuite.run(loaded, update: update, references: references)
        for d in suite.diagnostics { print(d.rendered(loaded.catalog, locale: locale)) }
        for r in suite.results {
            let c = r.conversation
            let word = suite.rerecorded.contains("\(c.file):\(c.source.line)") ? "REDO" : r.passed ? "PASS" : "FAIL"
            print("\(word)  \(c.file):\(c.source.line)  \(c.name)")
            if let f = r.failure { print(f.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n")) }
            if !r.passedOver.isEmpty {
                print("      " + BuiltInMessages.text(loaded.catalog, "lint.test-passed-over", locale, ["questions": r.passedOver.joined(separator: ", ")]))
            }
        }
        if let records {
            try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
            for r in suite.results {
                guard let record = r.record else { continue }
                let name = TestCommand.fileName(r.conversation)
                try Data((record.json.rendered(pretty: true) + "\n").utf8).write(to: URL(fileURLWithPath: records).appendingPathComponent(name))
            }
        }
        func say(_ key: String, _ args: [String: String] = [:]) -> String { BuiltInMessages.text(loaded.catalog, key, locale, args) }
        for f in suite.updatedFiles { print(say("lint.test-updated", ["file": f])) }
        if coverage {
            let missing = suite.unreached(loaded)
            if missing.isEmpty {
                print(say("lint.test-coverage-complete"))
            } else {
                print(say("lint.test-coverage-missing"))
                for m in missing {
                    print("  " + say("lint.test-coverage-" + m.kind, ["source": m.source.description, "id": m.id, "dialog": m.dialog]))
                }
            }
        }
        let failed = suite.failed
        print(say("lint.test-summary", ["passed": String(suite.passed), "failed": String(failed)]))
        if failed > 0 { throw ExitCode(1) }
    }

    /// `personas-1-12.json`: the conversation file's name and line.
    static func fileName(_ c: Conversation) -> String {
        let base = ((c.file as NSString).lastPathComponent as NSString).deletingPathExtension
        return "\(base)-\(c.source.line).json"
    }
}
