import ArgumentParser

@main
struct Intake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Runs declarative question flows that take intake records for employment support of single-parent households.",
        subcommands: [InterviewCommand.self, RunCommand.self, LintCommand.self, TestCommand.self, SheetCommand.self, RecordsCommand.self,
                      RecordsCommand.Export.self, ReportCommand.self, NewKeyCommand.self, ServeCommand.self, DBCommand.self],
        defaultSubcommand: InterviewCommand.self
    )
}
