import Foundation
import IntakeDialogs
import IntakeEngine
import Testing

/// A dialog's `sourceFingerprint` follows the text of its files, so that a snapshot taken before
/// an edit that kept the version is not trusted after it; and it is the same for the same files
/// read from another folder, so that moving an installation does not pass every snapshot over.
@Suite struct SourceFingerprintTests {
    private static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    private static func copy() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-fp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for folder in ["Dialogs", "Locales"] { try FileManager.default.copyItem(atPath: root + "/" + folder, toPath: dir + "/" + folder) }
        return dir
    }

    private static func load(_ dir: String) throws -> (Dialog, Engine) {
        let project = Project.load(paths: [dir + "/Dialogs"], localesDirectory: dir + "/Locales")
        let dialog = try #require(project.dialogs["intake"])
        return (dialog, Engine(dialog: dialog, catalog: project.catalog))
    }

    @Test func theFingerprintFollowsTheFilesNotWhereTheyAre() throws {
        let (original, originalEngine) = try Self.load(Self.root)
        let moved = try Self.copy(), edited = try Self.copy()
        defer { for d in [moved, edited] { try? FileManager.default.removeItem(atPath: d) } }
        let (copied, copiedEngine) = try Self.load(moved)
        #expect(original.sourceFingerprint != nil)
        #expect(copied.sourceFingerprint == original.sourceFingerprint)
        #expect(copiedEngine.fingerprint == originalEngine.fingerprint)

        // An included module changed, the dialog's version not.
        let module = edited + "/Dialogs/modules/family.yaml"
        let text = try String(contentsOfFile: module, encoding: .utf8)
        try (text + "\n# 改訂\n").write(toFile: module, atomically: true, encoding: .utf8)
        let (changed, changedEngine) = try Self.load(edited)
        #expect(changed.version == original.version)
        #expect(changed.sourceFingerprint != original.sourceFingerprint)
        #expect(changedEngine.fingerprint != originalEngine.fingerprint)
    }
}
