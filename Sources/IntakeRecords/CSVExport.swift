import Foundation
import IntakeEngine

/// Records of one dialog as a CSV table: one row per record, one column per question, repeat
/// groups as numbered columns (`children[1].age`, `children[2].age`, … up to the most instances
/// any record has). Values as stored (choice values, multi choices joined with `;`, dates
/// YYYY-MM-DD); declined answers as `(declined)`. Quoted as RFC 4180 says, so LibreOffice and
/// pandas read it; with `bom`, a UTF-8 byte-order mark for spreadsheet programs that need it.
///
/// A client's text is data, never a formula or a terminal command: control and bidi characters
/// are made visible (`ControlCharacters`, line feeds kept), and a text cell that begins with `=`,
/// `+`, `-`, `@` (or their full-width forms), TAB or CR gets a leading `'` (OWASP, "CSV
/// Injection"). Numbers are written as numbers: a negative number stays `-2` (a cell the export
/// writes from a JSON number holds only digits, a sign and a point, so it cannot be a formula).
public enum CSVExport {
    /// Each row names its session and whose record it is: the office and the client's number there
    /// (a number alone does not say who she is when a database holds several offices).
    public static func table(dialog: Dialog, records: [ExportedRecord], bom: Bool = false) -> String {
        var columns: [(header: String, id: String, indices: [Int])] = []
        func addColumns(_ items: [Item], _ prefix: String, _ indices: [Int], _ counts: (String, [Int]) -> Int) {
            for item in items {
                switch item {
                case .section(let s): addColumns(s.items, prefix, indices, counts)
                case .question(let q): columns.append((prefix + q.id, q.id, indices))
                case .group(let g):
                    for i in 0..<counts(g.id, indices) {
                        addColumns(g.items, prefix + "\(g.id)[\(i + 1)].", indices + [i], counts)
                    }
                case .end: continue
                }
            }
        }
        addColumns(dialog.items, "", []) { group, outer in
            records.map { dialog.recordInstances($0.record["answers"] ?? .object([]), group: group, outer: outer) }.max() ?? 0
        }
        let fixed = ["session", "office", "client", "dialog", "version", "status", "started", "finished"]
        var out = bom ? "\u{FEFF}" : ""
        out += (fixed + columns.map(\.header)).map(quote).joined(separator: ",") + "\r\n"
        for exported in records {
            let record = exported.record
            let answers = record["answers"] ?? .object([])
            var declined: Set<String> = []
            if case .array(let items)? = record["declined"] {
                for case .string(let d) in items { declined.insert(d) }
            }
            var row = [exported.session, exported.office ?? "", exported.client ?? "", text(record["dialog"]?["id"]), text(record["dialog"]?["version"]), text(record["status"]),
                       text(record["started"]), text(record["finished"])].map(inert)
            for c in columns {
                if let v = dialog.recordValue(answers, c.id, indices: c.indices) {
                    row.append(cell(v))
                } else if declined.contains(dialog.display(Path(c.id, c.indices))) {
                    row.append("(declined)")
                } else {
                    row.append("")
                }
            }
            out += row.map(quote).joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// A value's cell text: a number as written, any text made inert (`inert`).
    public static func cell(_ json: JSON) -> String {
        switch json {
        case .int, .number, .bool: return text(json)
        default: return inert(text(json))
        }
    }

    /// Text that a spreadsheet shows and a terminal prints, and neither runs: control and bidi
    /// characters made visible, and a leading `'` before what would start a formula.
    public static func inert(_ s: String) -> String {
        let shown = ControlCharacters.visible(s, keepingLineFeeds: true)
        guard let first = s.unicodeScalars.first, formulaStarts.contains(first) else { return shown }
        return "'" + shown
    }

    /// What makes a spreadsheet read a cell as a formula (OWASP), with the full-width forms a
    /// Japanese keyboard types.
    static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"]

    static func text(_ json: JSON?) -> String {
        switch json {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .number(let d)?: return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .bool(let b)?: return b ? "true" : "false"
        case .array(let items)?: return items.map { text($0) }.joined(separator: ";")
        default: return ""
        }
    }

    static func quote(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || s.hasPrefix(" ") || s.hasSuffix(" ") else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A finished record as it is exported: its session, whose record it is (her office and her number
/// there, when the session names them) and the record.
public struct ExportedRecord: Sendable, Equatable {
    public var session: String
    public var office: String?
    public var client: String?
    public var record: JSON

    public init(session: String, office: String? = nil, client: String? = nil, record: JSON) {
        self.session = session
        self.office = office
        self.client = client
        self.record = record
    }
}
