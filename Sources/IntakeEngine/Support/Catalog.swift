/// Every user-facing string, by locale and key, as loaded from `Locales/<locale>.yaml`.
/// Placeholders are written `{name}`; readings over kanji `{仕事|しごと}` (see `Furigana`).
public struct Catalog: Sendable {
    public private(set) var strings: [String: [String: String]]
    /// Used when a key is missing in the requested locale (lint reports such gaps).
    public var fallback: String
    /// How `text` and `optionalText` write the ruby groups of a template (`var c = catalog;
    /// c.furigana = .annotations` for a page that shows them as `<ruby>`).
    public var furigana: FuriganaStyle = .brackets

    public init(_ strings: [String: [String: String]] = [:], fallback: String = "ja") {
        self.strings = strings
        self.fallback = fallback
    }

    public var locales: [String] { strings.keys.sorted() }

    public func has(_ key: String, in locale: String) -> Bool { strings[locale]?[key] != nil }

    /// The string `key` in `locale` (else in `fallback`, else the key itself): its ruby groups
    /// written in `furigana`'s style, then its placeholders filled from `args`. Ruby groups are
    /// rendered before the filling, so text in an argument (what a client typed) is never read as
    /// markup.
    public func text(_ key: String, _ locale: String, _ args: [String: String] = [:]) -> String {
        let template = strings[locale]?[key] ?? strings[fallback]?[key] ?? key
        return Catalog.fill(Furigana.render(template, furigana), args)
    }

    /// Whether `optionalText(key, locale)` is non-nil, without rendering it.
    func hasText(_ key: String, _ locale: String) -> Bool {
        strings[locale]?[key] != nil || strings[fallback]?[key] != nil
    }

    public func optionalText(_ key: String?, _ locale: String, _ args: [String: String] = [:]) -> String? {
        guard let key, let template = strings[locale]?[key] ?? strings[fallback]?[key] else { return nil }
        return Catalog.fill(Furigana.render(template, furigana), args)
    }

    /// Every way a reader may type back the text of `key` (a choice label, はい): with ruby
    /// groups, the reading alone, the kanji alone, and the kanji with the reading in brackets,
    /// whatever this catalog's `furigana` style; placeholders left unfilled.
    public func typedForms(_ key: String, _ locale: String) -> [String] {
        Furigana.forms(strings[locale]?[key] ?? strings[fallback]?[key] ?? key)
    }

    public mutating func set(_ key: String, _ text: String, in locale: String) {
        strings[locale, default: [:]][key] = text
    }

    /// Replaces `{name}` with `args["name"]`; unknown placeholders stay as written.
    /// (Scans UTF-8 bytes: `{` and `}` never occur inside a multi-byte character.)
    public static func fill(_ template: String, _ args: [String: String]) -> String {
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        guard !args.isEmpty, template.containsByte(open) else { return template }
        let bytes = Array(template.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        while i < bytes.count {
            if bytes[i] == open, let end = bytes[(i + 1)...].firstIndex(of: close) {
                let name = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
                if let v = args[name] {
                    out += v.utf8
                    i = end + 1
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
