import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore
import Testing

/// The durability contract, tested the hard way: `intake run --db` is killed with SIGKILL at
/// random moments while a client answers; every answer whose next question was shown must be in
/// the database, and the session must come back at the question that was showing (or the one
/// after, when the kill fell between the commit and the screen).
@Suite struct CrashTests {
    /// Answers a kiosk client gives at the start of the intake (each one valid).
    static let answers = ["はい", "はい", "1", "1", "2", "2", "1", "田中 愛子", "", "平成6年7月15日", "川越市", "", "1", "1"]

    @Test func answersShownAsAcceptedSurviveSIGKILL() async throws {
        let root = CLI.packageRoot
        let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)
        let engine = Engine(dialog: try #require(project.dialogs["intake"]), catalog: project.catalog)
        for round in 0..<12 {
            let db = FileManager.default.temporaryDirectory.appendingPathComponent("intake-crash-\(UUID().uuidString).sqlite").path
            let p = Process()
            p.executableURL = CLI.binary
            p.arguments = ["run", "--db", db, "--today", "2026-11-23"]
            p.currentDirectoryURL = root
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            p.standardError = FileHandle.nullDevice
            try p.run()
            let out = output.fileHandleForReading
            var seen = Data()
            /// Reads until the screen shows `asks` questions (each starts with a "[section]" line).
            func waitForAsks(_ asks: Int) -> Bool {
                while String(decoding: seen, as: UTF8.self).components(separatedBy: "\n[").count - 1 < asks {
                    let chunk = out.readAvailable()
                    if chunk.isEmpty { return false }
                    seen += chunk
                }
                return true
            }
            #expect(waitForAsks(1))
            let killAfter = Int.random(in: 0..<Self.answers.count)
            var acknowledged = 0
            for (i, a) in Self.answers.enumerated() {
                input.fileHandleForWriting.write(Data((a + "\n").utf8))
                if i == killAfter {
                    // Kill at a random instant while this answer is being handled.
                    usleep(UInt32.random(in: 0..<3000))
                    break
                }
                guard waitForAsks(i + 2) else { break }
                acknowledged = i + 1
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()

            let store = try IntakeDatabase.open(path: db)
            let sessions = try store.sessions()
            #expect(sessions.count == 1, "round \(round)")
            guard let info = sessions.first else { continue }
            let log = try store.log(of: info.id)
            let inputs = log.filter { if case .input = $0.event { true } else { false } }.count
            #expect(inputs >= acknowledged, "round \(round): \(acknowledged) answers shown as accepted, \(inputs) stored")
            #expect(inputs <= acknowledged + 1, "round \(round)")
            // It resumes where it stood: after exactly the answers stored.
            let runner = SessionRunner(engine: engine, store: store.store)
            let (session, _) = try await runner.resume(info, mode: .kiosk, actor: .counselor("test"), at: Moment(epochMillis: log.last?.at.epochMillis ?? 0))
            let expected = engine.start(locale: "ja", at: log[0].at)
            var state = expected.state
            for (i, a) in Self.answers.prefix(inputs).enumerated() {
                state = engine.handle(.answer(a), state, at: log[i + 1].at).state
            }
            #expect(session.state.current == state.current, "round \(round)")
            #expect(session.state.answers == state.answers, "round \(round)")
        }
    }
}
