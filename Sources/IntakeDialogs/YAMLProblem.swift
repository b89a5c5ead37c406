import IntakeEngine
import Yams

/// A YAML syntax error as libyaml reports it, said as an author would understand it: what is
/// most likely wrong (indentation, a quote, a colon inside a value, a tab, an open bracket) and
/// where the mistake is — which for a quote is where the quoted value begins, not where libyaml
/// noticed the damage, lines later.
struct YAMLProblem {
    let problem: String
    let context: YamlError.Context?
    let mark: Mark
    /// The file's lines, as Unicode scalars (libyaml counts columns in scalars).
    let lines: [[Unicode.Scalar]]

    init(problem: String, context: YamlError.Context?, mark: Mark, text: String) {
        self.problem = problem
        self.context = context
        self.mark = mark
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
    }

    func diagnostic(file: String) -> Diagnostic {
        let (code, line, column) = classify()
        return Diagnostic(.error, code, ["problem": problem], at: SourceRef(file: file, line: line, column: column))
    }

    /// The lint code and the position to report.
    func classify() -> (String, Int, Int) {
        let here = (mark.line, mark.column)
        let contextText = context?.text ?? ""
        if contextText.contains("quoted scalar"), let start = context?.mark {
            return ("yaml-unclosed-quote", start.line, start.column)
        }
        let at = scalars(mark.line)
        if problem.contains("tab") || (mark.column >= 1 && mark.column <= at.count && at[mark.column - 1] == "\t") {
            return ("yaml-tab", here.0, here.1)
        }
        if let opening = openingOfQuotedValueBefore(mark) {
            return ("yaml-quote-inside", opening.0, opening.1)
        }
        if problem.hasPrefix("mapping values are not allowed") {
            // `key: value: more` (a colon in a value) or a key indented deeper than its neighbours.
            return (colonEarlierOnLine(mark) ? "yaml-colon" : "yaml-indentation", here.0, here.1)
        }
        if problem.hasPrefix("did not find expected key") || problem.hasPrefix("did not find expected '-'")
            || problem.hasPrefix("block sequence entries are not allowed") || problem.hasPrefix("block mapping entries are not allowed") {
            return ("yaml-indentation", here.0, here.1)
        }
        if problem.hasPrefix("did not find expected ','") || problem.hasPrefix("found unexpected end of stream"),
           contextText.contains("flow sequence") || contextText.contains("flow mapping"), let start = context?.mark {
            return ("yaml-unclosed-bracket", start.line, start.column)
        }
        return ("yaml-syntax", here.0, here.1)
    }

    private func scalars(_ line: Int) -> [Unicode.Scalar] {
        line >= 1 && line <= lines.count ? lines[line - 1] : []
    }

    /// Whether `: ` occurs on the mark's line before the mark (outside the indentation).
    private func colonEarlierOnLine(_ mark: Mark) -> Bool {
        let s = scalars(mark.line)
        let end = min(max(mark.column - 1, 0), s.count)
        guard end > 1 else { return false }
        for i in 0..<(end - 1) where s[i] == ":" && (s[i + 1] == " " || s[i + 1] == "\t") { return true }
        return false
    }

    /// The damage is just after a quoted value closed (`"He said "hi""`, or a quote left open on an
    /// earlier line and closed by the next value's opening quote): where that quoted value began.
    private func openingOfQuotedValueBefore(_ mark: Mark) -> (Int, Int)? {
        let s = scalars(mark.line)
        var i = min(max(mark.column - 1, 0), s.count) - 1
        while i >= 0, s[i] == " " { i -= 1 }
        guard i >= 0, s[i] == "\"" || s[i] == "'" else { return nil }
        let quote = s[i]
        // Back to the quote that opened it (over line breaks: a quoted value may span lines).
        var line = mark.line
        var j = i - 1
        var chars = s
        while true {
            while j >= 0 {
                if chars[j] == quote, !(quote == "\"" && j > 0 && chars[j - 1] == "\\") { return (line, j + 1) }
                j -= 1
            }
            line -= 1
            guard line >= 1 else { return nil }
            chars = scalars(line)
            j = chars.count - 1
        }
    }
}
