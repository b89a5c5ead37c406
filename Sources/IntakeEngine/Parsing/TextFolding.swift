/// Canonical folding of kiosk input before it is parsed.
public enum TextFolding {
    /// What people type at a Japanese kiosk, folded to a canonical form for parsing:
    /// - full-width ASCII (U+FF01–U+FF5E) → ASCII (so '，'→',', '．'→'.', '／'→'/', '－'→'-', '０'→'0', 'Ａ'→'A');
    /// - ideographic space U+3000 (and any other Unicode whitespace) → space;
    /// - minus sign '−' (U+2212) and the hyphens U+2010–U+2013, U+FE63 → '-' everywhere;
    /// - the long-vowel mark 'ー' (U+30FC), half-width 'ｰ' (U+FF70), '—' '―' (U+2014, U+2015) and '─' (U+2500),
    ///   which IMEs produce for "-", → '-' only when directly between two digits ("2024ー04ー01" → "2024-04-01",
    ///   while "ケース" is left alone);
    /// - trims leading/trailing whitespace and collapses inner runs of whitespace to one space.
    ///
    /// Case is not changed.
    public static func fold(_ s: String) -> String {
        // Printable ASCII without spaces (most answers: a number, a choice's number, a word):
        // nothing to map, trim or collapse, so the text itself (every answer is folded at least
        // twice, to look for a decline word and to parse it).
        if s.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return s }
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(s.unicodeScalars.count)
        for u in s.unicodeScalars {
            scalars.append(mapScalar(u))
        }
        if scalars.count >= 3 {
            for i in 1..<(scalars.count - 1) where isDashBetweenDigitsOnly(scalars[i]) {
                if isASCIIDigit(scalars[i - 1]) && isASCIIDigit(scalars[i + 1]) {
                    scalars[i] = "-"
                }
            }
        }
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for u in scalars {
            // ASCII's White_Space characters are tab to carriage return and space: only other
            // scalars need the Unicode property (a table lookup).
            if u.value < 0x80 ? (u.value == 0x20 || (0x09...0x0D).contains(u.value)) : u.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace {
                out.append(" ")
                pendingSpace = false
            }
            out.append(u)
        }
        return String(out)
    }

    /// Context-free mapping of one scalar.
    private static func mapScalar(_ u: Unicode.Scalar) -> Unicode.Scalar {
        switch u.value {
        case 0xFF01...0xFF5E:
            return Unicode.Scalar(u.value - 0xFEE0) ?? u
        case 0x3000:
            return " "
        case 0x2212, 0x2010, 0x2011, 0x2012, 0x2013, 0xFE63:
            return "-"
        default:
            return u
        }
    }

    private static func isDashBetweenDigitsOnly(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x30FC, 0xFF70, 0x2014, 0x2015, 0x2500: return true
        default: return false
        }
    }

    static func isASCIIDigit(_ u: Unicode.Scalar) -> Bool {
        u.value >= 0x30 && u.value <= 0x39
    }
}
