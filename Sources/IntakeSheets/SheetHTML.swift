import IntakeEngine

/// Sheets as one self-contained HTML page that prints on A4 from any browser: print CSS
/// (`@page { size: A4 }`, each sheet from a new page, table rows and list items not split, table
/// headers repeated), Japanese fonts named with fallbacks, no script, no external resource (the
/// page's Content-Security-Policy allows only its own inline style). Every text from the record —
/// what the client typed included — is HTML-escaped, and its control characters are shown, not acted on.
public enum SheetHTML {
    /// The page's print style. Fonts: the Noto CJK fonts Debian and most Linux desktops have, the
    /// macOS and Windows Japanese system fonts, then any sans-serif.
    public static let style = """
    @page { size: A4; margin: 15mm 14mm 16mm 14mm; }
    * { box-sizing: border-box; }
    html { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", YuGothic, Meiryo, sans-serif;
      font-size: 10pt; line-height: 1.45; color: #000; background: #fff; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    body { margin: 0; }
    .sheet + .sheet { break-before: page; page-break-before: always; }
    h1 { font-size: 15pt; margin: 0 0 3mm; padding-bottom: 1mm; border-bottom: 0.5mm solid #000; }
    h2 { font-size: 11.5pt; margin: 4mm 0 1.5mm; break-after: avoid; page-break-after: avoid; }
    table { width: 100%; border-collapse: collapse; margin: 0 0 1mm; }
    thead { display: table-header-group; }
    tr, li { break-inside: avoid; page-break-inside: avoid; }
    th, td { border: 0.25mm solid #555; padding: 0.8mm 1.8mm; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
    thead th { background: #e8e8e8; }
    table.pairs tbody th { width: 32%; font-weight: normal; background: #f3f3f3; }
    td.n { width: 2.2em; text-align: right; }
    ul { margin: 0; padding-left: 5mm; }
    li { margin: 0 0 1.2mm; }
    .detail { display: block; font-size: 8.5pt; color: #333; }
    p.none { margin: 0; }
    p.footer { margin: 3mm 0 0; font-size: 8.5pt; color: #333; }
    @media screen { body { max-width: 210mm; margin: 0 auto; padding: 12mm; } }
    """

    /// The page of `sheets` in `locale` (its `lang`: ja-easy is Japanese). `footer`: a line closing
    /// each sheet (a stored record's: who printed it, and when).
    public static func page(_ sheets: [RenderedSheet], locale: String, catalog: Catalog, footer: String? = nil) -> String {
        let lang = locale.hasPrefix("ja") ? "ja" : locale
        let title: String = {
            guard let first = sheets.first?.document.title else { return "" }
            return sheets.count == 1 ? first : catalog.text("sheet.html.sheets", locale, ["title": first, "n": String(sheets.count - 1)])
        }()
        var out = """
        <!DOCTYPE html>
        <html lang="\(escape(lang))">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>

        """
        for sheet in sheets {
            out += section(sheet.document, footer: footer)
        }
        out += "</body>\n</html>\n"
        return out
    }

    static func section(_ doc: SheetDocument, footer: String?) -> String {
        var out = "<section class=\"sheet\">\n<h1>\(escape(doc.title))</h1>\n"
        for s in doc.sections {
            if let h = s.heading { out += "<h2>\(escape(h))</h2>\n" }
            switch s.content {
            case .pairs(let header, let rows):
                out += "<table class=\"pairs\">\n" + head(header) + "<tbody>\n"
                for row in rows {
                    out += "<tr><th scope=\"row\">\(escape(row.first ?? ""))</th>"
                        + row.dropFirst().map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n"
                }
                out += "</tbody>\n</table>\n"
            case .table(let header, let rows):
                out += "<table class=\"list\">\n" + head(header) + "<tbody>\n"
                for row in rows {
                    out += "<tr>" + row.enumerated().map { i, cell in i == 0 ? "<td class=\"n\">\(escape(cell))</td>" : "<td>\(escape(cell))</td>" }.joined() + "</tr>\n"
                }
                out += "</tbody>\n</table>\n"
            case .empty(let dash):
                out += "<p class=\"none\">\(escape(dash))</p>\n"
            case .items(let items, let dash):
                guard !items.isEmpty else {
                    out += "<p class=\"none\">\(escape(dash))</p>\n"
                    continue
                }
                out += "<ul>\n"
                for item in items {
                    out += "<li>\(escape(item.text))" + (item.detail.map { "<span class=\"detail\">\(escape($0))</span>" } ?? "") + "</li>\n"
                }
                out += "</ul>\n"
            case .text(let text):
                out += "<p>\(escape(text))</p>\n"
            }
        }
        if let footer { out += "<p class=\"footer\">\(escape(footer))</p>\n" }
        return out + "</section>\n"
    }

    static func head(_ header: [String]) -> String {
        "<thead><tr>" + header.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead>\n"
    }

    /// Text as HTML: `& < > " '` escaped, control characters shown (`ControlCharacters`), line
    /// feeds as line breaks.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in ControlCharacters.visible(s, keepingLineFeeds: true) {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\n": out += "<br>"
            default: out.append(c)
            }
        }
        return out
    }
}
