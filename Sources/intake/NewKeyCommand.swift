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
        do {
            try Cipher.newKeyFile(at: file)
        } catch {
            throw ValidationError("cannot write a key to '\(file)' (does it exist already?)")
        }
        print("wrote \(file)")
    }
}
