/// Parses yes/no answers as people type them at a Japanese kiosk.
public enum YesNoParser {
    /// Yes: はい ハイ ﾊｲ ええ うん ある あり あります します yes y ok okay true ○ ◯ 〇 and "1".
    /// No: いいえ イイエ ｲｲｴ いや ううん ない なし ありません しません no n false × ✕ ✖ x and "2".
    /// The numbers follow a numbered list "1. はい 2. いいえ"; "1.", "1)", "1. はい", "2 いいえ" are accepted
    /// as long as the word (if any) agrees with the number. Case-insensitive, folded with `TextFolding.fold`
    /// (so "ＹＥＳ" and "１" work); trailing "。", "!", "." and "?" are ignored. nil otherwise.
    public static func parse(_ raw: String) -> Bool? {
        let text = normalize(raw)
        guard !text.isEmpty else { return nil }
        if let word = words[text] { return word }
        // Numbered choice: "1", "1.", "1)", "1. はい", "2 いいえ".
        guard let first = text.first, first == "1" || first == "2" else { return nil }
        let numbered = first == "1"
        var rest = text.dropFirst()
        if let c = rest.first, c == "." || c == ")" || c == ":" { rest = rest.dropFirst() }
        while rest.first == " " { rest = rest.dropFirst() }
        if rest.isEmpty { return numbered }
        guard let word = words[normalize(String(rest))], word == numbered else { return nil }
        return numbered
    }

    private static func normalize(_ raw: String) -> String {
        var text = TextFolding.fold(raw).lowercased()
        while let last = text.last, "。!.?".contains(last) || last == " " {
            text.removeLast()
        }
        return text
    }

    private static let words: [String: Bool] = {
        var table: [String: Bool] = [:]
        for w in ["はい", "ハイ", "ﾊｲ", "ええ", "うん", "ある", "あり", "あります", "します", "yes", "y", "ok", "okay",
                  "true", "○", "◯", "〇"] {
            table[w] = true
        }
        for w in ["いいえ", "イイエ", "ｲｲｴ", "いや", "ううん", "ない", "なし", "ありません", "しません", "no", "n",
                  "false", "×", "✕", "✖", "x"] {
            table[w] = false
        }
        return table
    }()
}
