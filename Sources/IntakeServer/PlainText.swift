import IntakeTerminal

/// Plain text as a person at `nc` or `telnet` reads it: every line wrapped at `width` display
/// columns (full-width characters count two) by the counselor's terminal's wrapping
/// (`TextWidth.wrap`: Latin words, numbers and resume numbers are never cut, a closing mark never
/// begins a line), continuation lines indented as the REPL indents them.
enum PlainText {
    /// A terminal's 80 columns, less a margin (the REPL's default too).
    static let width = 72

    /// `line` (already made visible: `ControlCharacters`) as the lines a terminal shows. A line
    /// that fits is returned as it is, byte for byte.
    static func wrap(_ line: String, width: Int = width) -> [String] {
        guard TextWidth.of(line) > width || line.contains("\n") else { return [line] }
        return TextWidth.wrap(line, width: width, hanging: hanging(line))
    }

    /// Where a line's continuation starts, as in the REPL: under its text, after its indentation
    /// and after a leading marker — `! ` (an error), `- ` or `・` (a list item), `12. ` (a choice,
    /// a review line).
    static func hanging(_ line: String) -> String {
        let leading = line.prefix { $0 == " " }
        let rest = line.dropFirst(leading.count)
        var marker = 0
        if rest.hasPrefix("! ") || rest.hasPrefix("- ") || rest.hasPrefix("・") {
            marker = 2
        } else {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix(". ") { marker = digits.count + 2 }
        }
        return String(leading) + String(repeating: " ", count: marker)
    }
}
