/// Every user-facing string, by locale and key, as loaded from `Locales/<locale>.yaml`.
/// Placeholders are written `{name}`.
public struct Catalog: Sendable {
    public private(set) var strings: [String: [String: String]]
    /// Used when a key is missing in the requested locale (lint reports such gaps).
    public var fallback: String

    public init(_ strings: [String: [String: String]] = [:], fallback: String = "ja") {
        self.strings = strings
        self.fallback = fallback
    }

    public var locales: [String] { strings.keys.sorted() }

    public func has(_ key: String, in locale: String) -> Bool { strings[locale]?[key] != nil }

    public func text(_ key: String, _ locale: String, _ args: [String: String] = [:]) -> String {
        let template = strings[locale]?[key] ?? strings[fallback]?[key] ?? key
        return Catalog.fill(template, args)
    }

    public func optionalText(_ key: String?, _ locale: String, _ args: [String: String] = [:]) -> String? {
        guard let key, let template = strings[locale]?[key] ?? strings[fallback]?[key] else { return nil }
        return Catalog.fill(template, args)
    }

    public mutating func set(_ key: String, _ text: String, in locale: String) {
        strings[locale, default: [:]][key] = text
    }

    /// Replaces `{name}` with `args["name"]`; unknown placeholders stay as written.
    public static func fill(_ template: String, _ args: [String: String]) -> String {
        guard !args.isEmpty, template.contains("{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = String(rest[rest.index(after: open)..<close])
            if let v = args[name] { out += v } else { out += rest[open...close] }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }
}
