/// A sheet as rendered, before it is written out: its title and sections of label–value rows,
/// tables, lists and text, all in words of one locale. The same document is written as Markdown
/// (`SheetDocument.markdown`) and as a printable A4 page (`SheetHTML`), so both show the same.
/// Strings hold what the record says, unescaped: each writer makes them safe for its format.
public struct SheetDocument: Sendable, Equatable {
    public var title: String
    public var sections: [Section]

    public init(title: String, sections: [Section]) {
        self.title = title
        self.sections = sections
    }

    public struct Section: Sendable, Equatable {
        public var heading: String?
        public var content: Content

        public init(heading: String?, content: Content) {
            self.heading = heading
            self.content = content
        }
    }

    public enum Content: Sendable, Equatable {
        /// Label–value rows under a two-column header (項目・内容).
        case pairs(header: [String], rows: [[String]])
        /// A table: the header, then one row per instance (numbered from 1 in the first column).
        case table(header: [String], rows: [[String]])
        /// Nothing to show (`empty`, a dash).
        case empty(String)
        /// A list (suggestions with why, notes with where and when); `empty` when it has none.
        case items([Item], empty: String)
        /// A fixed text.
        case text(String)
    }

    public struct Item: Sendable, Equatable {
        public var text: String
        /// A second line: what triggered a suggestion, where and when a note was made.
        public var detail: String?

        public init(text: String, detail: String? = nil) {
            self.text = text
            self.detail = detail
        }
    }
}

extension SheetDocument {
    /// The sheet as Markdown that prints well on A4 (headings, two-column tables). Control
    /// characters in a client's text are shown, never acted on (`ControlCharacters`), and
    /// Markdown's own marks in it are escaped (`text`).
    public var markdown: String {
        var out = "# \(title)\n"
        for section in sections {
            out += section.heading.map { "\n## \($0)\n" } ?? ""
            switch section.content {
            case .pairs(let header, let rows), .table(let header, let rows):
                out += "\n| " + header.map(Self.cell).joined(separator: " | ") + " |\n"
                out += "|" + String(repeating: "---|", count: header.count) + "\n"
                for row in rows { out += "| " + row.map(Self.cell).joined(separator: " | ") + " |\n" }
            case .empty(let dash):
                out += "\n" + dash + "\n"
            case .items(let items, let dash):
                if items.isEmpty { out += "\n" + dash + "\n" }
                out += "\n"
                for item in items {
                    out += "- " + Self.text(item.text, lineStart: true) + (item.detail.map { "  \n  " + Self.text($0, lineStart: true) } ?? "") + "\n"
                }
            case .text(let text):
                out += "\n" + text + "\n"
            }
        }
        return out
    }

    /// Table cells hold one line and no column separator.
    static func cell(_ s: String) -> String {
        text(s).replacingAll("|", with: "｜").replacingAll("\n", with: " / ")
    }

    /// A record's words as Markdown text: every character Markdown gives a meaning inside a line
    /// (links and images, raw HTML, emphasis, code, strikethrough) escaped with a backslash, and
    /// at the start of a line (`lineStart`: a list item's text) a heading's `#` too, so that a
    /// preview or a converter (pandoc) shows what the client typed rather than a link, a picture
    /// fetched from another site, or markup.
    static func text(_ s: String, lineStart: Bool = false) -> String {
        let heading = lineStart && s.first == "#"
        guard heading || s.contains(where: { markup.contains($0) }) else { return s }
        var out = heading ? "\\" : ""
        for c in s {
            if markup.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static let markup: Set<Character> = ["\\", "`", "*", "_", "[", "]", "<", ">", "!", "~"]
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
