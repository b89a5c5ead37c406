import Foundation
import Testing

/// The lines a person types for the test conversation that begins at `line` of a conversation file
/// (its answers and commands, in order; the `invalid:`/`warn:`/… checks left out), read plainly
/// from the file so that the same words go to `intake run`.
func typedLines(ofConversationAt line: Int, in file: URL) throws -> [String] {
    let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
    var typed: [String] = []
    var i = line  // the line after `- name:` (1-based `line` is index line - 1)
    while i < lines.count, !lines[i].hasPrefix("    steps:") { i += 1 }
    i += 1
    while i < lines.count, lines[i].hasPrefix("      ") {
        let step = lines[i].trimmingCharacters(in: .whitespaces)
        i += 1
        guard step.hasPrefix("- ") else { continue }
        let body = String(step.dropFirst(2))
        if body.hasPrefix("#") { continue }
        var value = body
        if let colon = body.range(of: ": "), !body.hasPrefix("\"") {
            let key = String(body[..<colon.lowerBound])
            if ["invalid", "warn", "dropped", "notice"].contains(key) { continue }
            value = String(body[colon.upperBound...])
        }
        if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2,
           let s = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed) as? String {
            value = s
        } else if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 {
            value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        }
        typed.append(value)
    }
    return typed
}

@Suite struct RunAnywhereTests {
    /// README, "Sheets": `intake run --print-record > record.json`, then `intake sheet --kind record
    /// record.json` — the questions go to standard error, the record alone to standard output.
    @Test func theSheetRecipeWorksAsWritten() throws {
        let conversation = CLI.packageRoot.appendingPathComponent("Dialogs/tests/personas-1.yaml")
        let typed = try typedLines(ofConversationAt: 6, in: conversation)
        #expect(typed.first == "はい" && typed.last == ":finish")
        let run = try CLI.run(["run", "--today", "2026-11-23", "--print-record"],
                              stdin: Data((typed.joined(separator: "\n") + "\n").utf8))
        #expect(run.status == 0, "\(run.stderr.suffix(600))")
        // The questions were shown (on standard error), and none of them is in the record's file.
        #expect(run.stderr.contains("この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？"))
        #expect(run.stderr.contains("受付が終わりました"))
        #expect(!run.stdout.contains("この相談の内容を記録して"))
        #expect(run.stdout.hasPrefix("{"))
        let record = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(record["status"] as? String == "complete")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("record.json")
        try Data(run.stdout.utf8).write(to: file)
        let sheet = try CLI.run(["sheet", "--kind", "record", file.path])
        #expect(sheet.status == 0, "\(sheet.stderr)")
        #expect(sheet.lines.first == "# 就労相談記録票")
        #expect(sheet.lines.contains("| 氏名 | 田中 愛子 |"))
    }

    /// Without --print-record, everything is on standard output as before (scripts read it there).
    @Test func withoutPrintRecordTheQuestionsStayOnStandardOutput() throws {
        let out = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8))
        #expect(out.lines.contains("この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？"))
        #expect(out.stderr.isEmpty)
    }
}

/// The built `intake` finds its dialogs and locales from any folder: `--dialogs`, the environment,
/// the config file, else the ones it was built with (its resources, beside the binary).
@Suite struct FindingDialogsTests {
    static func emptyFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func fromAnotherFolderItRunsTheDialogsItWasBuiltWith() throws {
        let elsewhere = try Self.emptyFolder()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let run = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8), in: elsewhere)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.lines.contains("この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？"))
        let lint = try CLI.run(["lint", "--lang", "en"], in: elsewhere)
        #expect(lint.status == 0, "\(lint.stdout)")
        #expect(lint.lines.last == "0 errors, 0 warnings")
    }

    /// README, "Installing": the binary in PREFIX/bin, its dialogs and locales in PREFIX/share/intake;
    /// run through a symbolic link elsewhere, share/ is found from the real binary's folder.
    @Test func anInstalledCopyRunsItsOwnDialogs() throws {
        let project = try Self.changedProject()
        let prefix = try Self.emptyFolder()
        let elsewhere = try Self.emptyFolder()
        defer { for d in [project, prefix, elsewhere] { try? FileManager.default.removeItem(at: d) } }
        let fm = FileManager.default
        try fm.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try fm.createDirectory(at: prefix.appendingPathComponent("share/intake"), withIntermediateDirectories: true)
        try fm.copyItem(at: CLI.binary, to: prefix.appendingPathComponent("bin/intake"))
        for folder in ["Dialogs", "Locales"] {
            try fm.copyItem(at: project.appendingPathComponent(folder), to: prefix.appendingPathComponent("share/intake/" + folder))
        }
        let link = elsewhere.appendingPathComponent("intake")
        try fm.createSymbolicLink(atPath: link.path, withDestinationPath: prefix.appendingPathComponent("bin/intake").path)
        let run = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8), in: elsewhere, executable: link)
        #expect(run.lines.contains("（別のダイアログ）記録してもよいですか？"), "\(run.stdout) \(run.stderr)")
    }

    /// A scratch copy of the dialogs whose first question says something else, to tell which was used.
    static func changedProject() throws -> URL {
        let dir = try CLI.scratchProject()
        let ja = dir.appendingPathComponent("Locales/ja/consent.yaml")
        let text = try String(contentsOf: ja, encoding: .utf8)
        let changed = text.replacingOccurrences(of: "この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？",
                                                with: "（別のダイアログ）記録してもよいですか？")
        #expect(changed != text)
        try changed.write(to: ja, atomically: true, encoding: .utf8)
        return dir
    }

    @Test func theEnvironmentAndTheConfigFileSayWhereTheDialogsAre() throws {
        let project = try Self.changedProject()
        let elsewhere = try Self.emptyFolder()
        defer { try? FileManager.default.removeItem(at: elsewhere); try? FileManager.default.removeItem(at: project) }
        let dialogs = project.appendingPathComponent("Dialogs").path

        let byEnvironment = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8), in: elsewhere,
                                        environment: ["INTAKE_DIALOGS": dialogs])
        #expect(byEnvironment.lines.contains("（別のダイアログ）記録してもよいですか？"), "\(byEnvironment.stderr)")

        let config = elsewhere.appendingPathComponent("config-home/intake")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "# where this office keeps its dialogs\ndialogs = \(dialogs)\n".write(to: config.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let env = ["XDG_CONFIG_HOME": elsewhere.appendingPathComponent("config-home").path]
        let byConfig = try CLI.run(["run", "--today", "2026-11-23"], stdin: Data("いいえ\n".utf8), in: elsewhere, environment: env)
        #expect(byConfig.lines.contains("（別のダイアログ）記録してもよいですか？"), "\(byConfig.stderr)")

        // --dialogs overrides both; the locales are the ones beside it.
        let given = try CLI.run(["run", "--today", "2026-11-23", "--dialogs", CLI.packageRoot.appendingPathComponent("Dialogs").path],
                                stdin: Data("いいえ\n".utf8), in: elsewhere, environment: env.merging(["INTAKE_DIALOGS": dialogs]) { a, _ in a })
        #expect(given.lines.contains("この相談の内容を記録して、あなたのお仕事探しの支援に使ってもよいですか？"), "\(given.stderr)")

        try "dialog = \(dialogs)\n".write(to: config.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        let typo = try CLI.run(["lint", "--lang", "en"], in: elsewhere, environment: env)
        #expect(typo.status == 1)
        #expect(typo.lines.contains("\(config.path)/config:1:1: error: the config file has no setting 'dialog' (it has dialogs and locales)"))
    }

    @Test func withoutLocalesItsOwnErrorsAreSentences() throws {
        let elsewhere = try Self.emptyFolder()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let empty = elsewhere.appendingPathComponent("NoLocales")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let en = try CLI.run(["lint", "--locales", empty.path, "--lang", "en"], in: elsewhere)
        #expect(en.status == 1)
        #expect(en.lines.first == "\(empty.path):1:1: error: no .yaml files in the locales folder '\(empty.path)': name the folder with --locales or the environment variable INTAKE_LOCALES")
        #expect(en.lines.last == "1 errors, 0 warnings")
        let ja = try CLI.run(["lint", "--locales", empty.path, "--lang", "ja"], in: elsewhere)
        #expect(ja.lines.first == "\(empty.path):1:1: エラー: ロケールのフォルダ '\(empty.path)' に .yaml がありません。--locales か環境変数 INTAKE_LOCALES でフォルダを指定してください")
        #expect(ja.lines.last == "1 件のエラー、0 件の警告")
        // `intake run` says it the same way, on standard error, and runs nothing.
        let run = try CLI.run(["run", "--locales", empty.path, "--lang", "en"], stdin: Data("はい\n".utf8), in: elsewhere)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("error: no .yaml files in the locales folder '\(empty.path)': name the folder with --locales"))

        let missing = try CLI.run(["lint", "--lang", "en"], in: elsewhere, environment: ["INTAKE_DIALOGS": elsewhere.appendingPathComponent("Nowhere").path])
        #expect(missing.status == 1)
        #expect(missing.lines.first == "\(elsewhere.path)/Nowhere:1:1: error: there is no file or folder '\(elsewhere.path)/Nowhere': name the folder of dialogs with --dialogs or the environment variable INTAKE_DIALOGS")
    }
}
