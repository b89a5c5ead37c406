/// A line typed at a front end (run, REPL, plain-text kiosk, test conversations): an answer, or a
/// command starting with `:` (a full-width `：` from a Japanese keyboard works too).
public enum LineInput: Equatable, Sendable {
    case event(Event)
    case help
    case quit
    /// A `:word` that is not a command.
    case unknownCommand(String)
    /// A command that needs an argument it did not get (e.g. `:edit`).
    case missingArgument(String)

    /// Every command with its aliases; the first name is the canonical one.
    public static let commands: [(names: [String], needsArgument: Bool)] = [
        (["back", "b", "戻る", "もどる"], false),
        (["review", "r", "見直し", "みなおし"], false),
        (["edit", "e", "直す", "なおす"], true),
        (["skip", "s", "とばす"], false),
        (["decline", "d", "答えない", "こたえない"], false),
        (["confirm", "ok", "確認"], false),
        (["add", "追加"], true),
        (["remove", "削除"], true),
        (["lang", "locale", "言語"], true),
        (["note", "メモ"], true),
        (["finish", "done", "終了"], false),
        (["repeat", "again"], false),
        (["help", "h", "?", "ヘルプ"], false),
        (["quit", "q", "exit"], false),
    ]

    public static func parse(_ line: String) -> LineInput {
        var text = Substring(line)
        while let f = text.first, f == " " || f == "\u{3000}" || f == "\t" { text = text.dropFirst() }
        guard let first = text.first, first == ":" || first == "：" else { return .event(.answer(line)) }
        let body = text.dropFirst()
        let word: Substring
        let rest: String
        if let space = body.firstIndex(where: { $0 == " " || $0 == "\u{3000}" }) {
            word = body[..<space]
            rest = String(body[body.index(after: space)...]).trimmingWhitespace
        } else {
            word = body
            rest = ""
        }
        let name = TextFolding.fold(String(word)).lowercased()
        guard let command = commands.first(where: { $0.names.contains(name) }) else {
            return .unknownCommand(String(word))
        }
        let canonical = command.names[0]
        if command.needsArgument && rest.isEmpty { return .missingArgument(canonical) }
        switch canonical {
        case "back": return .event(.back)
        case "review": return .event(.review)
        case "edit": return .event(.edit(rest))
        case "skip": return .event(.skip)
        case "decline": return .event(.decline)
        case "confirm": return .event(.confirm(reason: rest.isEmpty ? nil : rest))
        case "add": return .event(.add(rest))
        case "remove": return .event(.remove(rest))
        case "lang": return .event(.locale(rest))
        case "note": return .event(.note(rest))
        case "finish": return .event(.finish)
        case "repeat": return .event(.repeatQuestion)
        case "help": return .help
        default: return .quit
        }
    }
}
