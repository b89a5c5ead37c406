/// Text from a client is data: it must never act on a terminal, a printed sheet or a spreadsheet.
///
/// Refused at input (`Engine`: answers, confirm reasons, notes), and made visible by every renderer
/// (a database written before the input check, or damaged, may still hold them):
/// - C0 controls U+0000–U+001F (ESC, BEL, NUL, CR, LF, TAB…), DEL U+007F, C1 controls
///   U+0080–U+009F (CSI U+009B, NEL U+0085…);
/// - the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, which
///   reorder what a reader sees ("Trojan Source");
/// - the line and paragraph separators U+2028, U+2029 (a line break to some readers: no answer
///   holds more than one line);
/// - the interlinear annotation characters U+FFF9–U+FFFB, which carry furigana to the kiosk page
///   (`FuriganaStyle.annotations`): in a client's text they would dress her words up as the
///   office's, or hide some of them inside a reading.
///
/// Left alone: the implicit direction marks LRM, RLM, ALM (U+200E, U+200F, U+061C), which reorder
/// nothing beyond the neutral characters next to them and belong in ordinary Arabic or Hebrew
/// text, and joiners (ZWJ, ZWNJ), which emoji and many scripts need.
public enum ControlCharacters {
    /// Whether `u` is refused in a client's text and made visible on output.
    @inlinable
    public static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029, 0xFFF9...0xFFFB: return true
        default: return false
        }
    }

    /// Whether a UTF-8 byte may begin an unsafe character: every one is a byte below 0x20, DEL, or
    /// starts with 0xC2 (U+0080–U+009F), 0xE2 (U+2028–U+202E, U+2066–U+2069) or 0xEF
    /// (U+FFF9–U+FFFB; also the lead byte of full-width forms such as （ and ？, which
    /// `containsUnsafe(utf8:)` tells apart without decoding).
    @inlinable
    public static func mayStartUnsafe(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == 0xC2 || byte == 0xE2 || byte == 0xEF
    }

    /// Whether valid UTF-8 `bytes` encode any character `isUnsafe` names, read byte by byte
    /// without decoding: Japanese text (lead bytes 0xE3–0xE9) and its full-width punctuation
    /// (0xEF 0xBC…) pass at the cost of a comparison or two per byte. `orQuotes`: also a `"` or
    /// a `\` (what else makes a JSON string need escapes), in the same pass.
    @inlinable
    public static func containsUnsafe<S: Sequence>(utf8 bytes: S, orQuotes: Bool = false) -> Bool where S.Element == UInt8 {
        var previous: UInt8 = 0, beforePrevious: UInt8 = 0
        for b in bytes {
            if b < 0x20 || b == 0x7F { return true }
            if orQuotes && (b == 0x22 || b == 0x5C) { return true }
            switch (beforePrevious, previous, b) {
            case (_, 0xC2, 0x80...0x9F): return true                      // C1 controls
            case (0xE2, 0x80, 0xA8...0xAE), (0xE2, 0x81, 0xA6...0xA9): return true  // U+2028–202E, U+2066–2069
            case (0xEF, 0xBF, 0xB9...0xBB): return true                   // U+FFF9–FFFB
            default: break
            }
            beforePrevious = previous
            previous = b
        }
        return false
    }

    /// Whether `s` holds any character `isUnsafe` names.
    public static func contains(in s: String) -> Bool {
        containsUnsafe(utf8: s.utf8)
    }

    /// `s` with every unsafe character shown, inert, for a person to read: C0 controls and DEL as
    /// their Unicode control pictures (ESC → ␛, NUL → ␀, CR → ␍, TAB → ␉, DEL → ␡), the others as
    /// `⟨U+202E⟩`. `keepingLineFeeds`: LF stays a line break (for renderers whose own templates
    /// hold line breaks; a line break acts on no terminal).
    public static func visible(_ s: String, keepingLineFeeds: Bool = false) -> String {
        guard contains(in: s) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if !isUnsafe(u) || (keepingLineFeeds && u == "\n") {
                out.append(u)
            } else if u.value < 0x20, let picture = Unicode.Scalar(0x2400 + u.value) {
                out.append(picture)
            } else if u.value == 0x7F, let picture = Unicode.Scalar(0x2421 as UInt32) {
                out.append(picture)
            } else {
                let hex = String(u.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩").unicodeScalars)
            }
        }
        return String(out)
    }

    /// A JSON text with every unsafe character that JSON lets stand raw inside a string (DEL, C1,
    /// bidi controls, separators) written as a `\uXXXX` escape instead: the same document, inert on
    /// a terminal. (Raw C0 controls cannot occur in valid JSON; outside strings only plain
    /// whitespace can, which this leaves alone.)
    public static func escapingInJSON(_ json: String) -> String {
        guard contains(in: json) else { return json }
        var out = String.UnicodeScalarView()
        for u in json.unicodeScalars {
            if isUnsafe(u) && u.value >= 0x7F {
                let hex = String(u.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }
}

extension String {
    /// This text with control and bidi characters made visible (see `ControlCharacters.visible`).
    public var visibleControls: String { ControlCharacters.visible(self) }
}
