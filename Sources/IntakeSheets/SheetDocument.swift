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
    /// characters in a client's text are shown, never acted on (`ControlCharacters`).
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
                for item in items { out += "- " + item.text + (item.detail.map { "  \n  " + $0 } ?? "") + "\n" }
            case .text(let text):
                out += "\n" + text + "\n"
            }
        }
        return out
    }

    /// Table cells hold one line and no column separator.
    static func cell(_ s: String) -> String {
        s.replacingAll("|", with: "｜").replacingAll("\n", with: " / ")
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
