import ArgumentParser
import IntakeRuntime
import IntakeStore

struct NewKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-key",
        abstract: "Writes a new random key file (readable by its owner only) for sealing client data in the database."
    )

    @Argument(help: "Where to write the key. Keep it off the machine's backups of the database, and never in the repository.")
    var file: String

    func run() throws {
        // No --lang here: the language is LANG's (ja when it says Japanese, else en).
        let messages = Messages()
        do {
            try Cipher.newKeyFile(at: file)
        } catch {
            throw messages.error("integrity.key_not_written", ["key": file])
        }
        print(messages.text("integrity.key_written", ["key": file]))
    }
}
