import Foundation
import IntakeRuntime
import Testing

/// Runs the built `intake` binary as a user would, in the package root.
struct CLI {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `intake` executable next to the test bundle (SwiftPM builds it for this test target).
    static var binary: URL {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug")] {
            let url = candidate.appendingPathComponent("intake")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/intake")
    }

    /// Writing to a child that already exited must fail the write, not kill the test runner.
    static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// `environment`: variables set for this run, over the test's own. Where intake finds its
    /// dialogs is never taken from the developer's environment or config file, only from these.
    static func run(_ args: [String], stdin: Data = Data(), in directory: URL = packageRoot,
                    environment: [String: String] = [:], executable: URL? = nil) throws -> Output {
        _ = ignoreBrokenPipes
        let p = Process()
        p.executableURL = executable ?? binary
        p.arguments = args
        p.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        env["LANG"] = "C"
        env["INTAKE_DIALOGS"] = nil
        env["INTAKE_LOCALES"] = nil
        env["XDG_CONFIG_HOME"] = "/nonexistent/intake-tests-config"
        env.merge(environment) { _, new in new }
        p.environment = env
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Write stdin and read both outputs concurrently so no pipe fills up.
        let writer = Thread {
            input.fileHandleForWriting.write(stdin)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let errData = LockedData()
        let errReader = Thread { errData.set(err.fileHandleForReading.readToEndOfFile()) }
        errReader.start()
        let outData = out.fileHandleForReading.readToEndOfFile()
        p.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Output(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.value, as: UTF8.self))
    }

    /// A fresh copy of Dialogs/ and Locales/ in a temporary folder, for tests that write files.
    /// The operating-system account the tests (and so the binary) run as: on SQLite, the identity
    /// a counselor's answers, deletions and reads are recorded under.
    static var account: String {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return "uid \(geteuid())" }
        return String(cString: name)
    }

    static func scratchProject() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for folder in ["Dialogs", "Locales"] {
            try FileManager.default.copyItem(at: packageRoot.appendingPathComponent(folder), to: dir.appendingPathComponent(folder))
        }
        return dir
    }
}

/// Data handed from a reader thread; `@unchecked Sendable` is safe because every access holds the lock.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false

    func set(_ d: Data) { lock.lock(); data = d; finished = true; lock.unlock() }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data }
}
