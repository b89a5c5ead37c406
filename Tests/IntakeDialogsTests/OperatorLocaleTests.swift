import Foundation
import IntakeDialogs
import IntakeEngine
import Testing

/// What the `intake` command says to the person at its command line (`operations.*`,
/// `integrity.*`): every message is in every locale, with the same placeholders, so a Japanese
/// operator never meets an English fallback or a `{value}` left unfilled.
@Suite struct OperatorLocaleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func placeholders(_ text: String) -> Set<String> {
        var names: Set<String> = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = rest[rest.index(after: open)..<close]
            if !name.contains("|") { names.insert(String(name)) }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    @Test func everyOperatorMessageIsInEveryLocaleWithTheSamePlaceholders() throws {
        let catalog = Project.loadCatalog(paths: [Self.root + "/Dialogs"], localesDirectory: Self.root + "/Locales")
        let english = (catalog.strings["en"] ?? [:]).filter { $0.key.hasPrefix("operations.") || $0.key.hasPrefix("integrity.") }
        // The command line's own messages are among them (a test that finds nothing proves nothing).
        #expect(english["operations.cli.no_session"] == "no session '{id}'")
        #expect(english.count > 60)
        for locale in ["ja", "ja-easy"] {
            let strings = catalog.strings[locale] ?? [:]
            for (key, text) in english.sorted(by: { $0.key < $1.key }) {
                let translated = try #require(strings[key], "\(key) missing in \(locale)")
                #expect(Self.placeholders(translated) == Self.placeholders(text), "\(key) in \(locale): \(translated)")
            }
            let extra = strings.keys.filter { ($0.hasPrefix("operations.") || $0.hasPrefix("integrity.")) && english[$0] == nil }
            #expect(extra.isEmpty, "\(locale) has keys en lacks: \(extra.sorted())")
        }
    }

    @Test func theCommandLinesMessagesReadInJapanese() {
        let catalog = Project.loadCatalog(paths: [Self.root + "/Dialogs"], localesDirectory: Self.root + "/Locales")
        #expect(catalog.text("operations.cli.range", "ja", ["option": "--port", "min": "0", "max": "65535"])
                == "--port は 0〜65535 の範囲で指定してください。")
        #expect(catalog.text("operations.cli.range", "en", ["option": "--port", "min": "0", "max": "65535"]) == "--port must be 0…65535")
        #expect(catalog.text("integrity.records_need_key", "ja-easy")
                == "この データベース の きろく は あんごう されて います。--key FILE で かぎ を えらんで ください。")
    }
}
