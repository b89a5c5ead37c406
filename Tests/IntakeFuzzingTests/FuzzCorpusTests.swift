import Foundation
import IntakeFuzzing
import Testing

/// Every seed input and every input that once crashed a parser (found by `Fuzz/run`) goes
/// through its parser again: none may crash.
@Suite struct FuzzCorpusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    static func files(_ folder: String) -> [URL] {
        (try? FileManager.default.contentsOfDirectory(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)) ?? []
    }

    /// Runs a target on a thread of its own, as libFuzzer does: the `session` target blocks on a
    /// socket while the kiosk server it talks to needs Swift's cooperative threads.
    static func run(_ target: FuzzTarget, _ data: Data) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                target.run(data)
                done.resume()
            }.start()
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func theSeedCorpusRunsThrough(_ target: FuzzTarget) async throws {
        let seeds = Self.files("corpus/" + target.rawValue)
        #expect(!seeds.isEmpty, "Fuzz/corpus/\(target.rawValue) has seeds")
        for file in seeds { await Self.run(target, try Data(contentsOf: file)) }
        #expect(target.isReady, "\(target.rawValue) could run")
    }

    /// `Fuzz/regressions/TARGET-what-it-was`: crashes found and fixed.
    @Test func everyCrashFoundStaysFixed() async throws {
        let found = Self.files("regressions")
        #expect(!found.isEmpty)
        for file in found {
            let name = file.lastPathComponent
            let target = try #require(FuzzTarget.allCases.first { name.hasPrefix($0.rawValue + "-") }, "\(name) names its target")
            await Self.run(target, try Data(contentsOf: file))
        }
    }
}
