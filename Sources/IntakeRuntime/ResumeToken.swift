import Crypto

/// What a person takes away to come back to a suspended session: 128 random bits from the
/// system's CSPRNG, written in 26 Crockford base-32 characters (no I, L, O, U; case and hyphens
/// ignored when typed). The store keeps only its SHA-256 digest, so a copy of the database does
/// not let anybody resume a session.
public struct ResumeToken: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// A new token from `generator` (the system's CSPRNG unless a test injects another).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> ResumeToken {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let draw: UInt64 = generator.next()
            withUnsafeBytes(of: draw) { bytes += $0 }
        }
        return ResumeToken(bytes: bytes)
    }

    /// A new session's token and id (`s-` and 16 base-32 characters), both from the system's CSPRNG.
    public static func forNewSession() -> (token: ResumeToken, sessionID: String) {
        let id = "s-" + random().description.filter { $0 != "-" }.prefix(16).lowercased()
        return (random(), id)
    }

    /// 128 bits from the system's CSPRNG (`SystemRandomNumberGenerator`, through the standard
    /// library's `random(in:)`). Not `random(using: &system)`: under ThreadSanitizer an `inout`
    /// access to that generator, an empty struct, crashes the TSan runtime (SECURITY.md, sanitizers).
    public static func random() -> ResumeToken {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            withUnsafeBytes(of: UInt64.random(in: .min ... .max)) { bytes += $0 }
        }
        return ResumeToken(bytes: bytes)
    }

    /// Reads a token as typed: `0F4R-…`, lower case, `O` for `0`, `I`/`L` for `1`.
    public init?(text: String) {
        var value: [UInt8] = []
        var acc = 0, bits = 0, symbols = 0
        for c in text.uppercased() where c != "-" && c != " " {
            symbols += 1
            let d: Character = c == "O" ? "0" : (c == "I" || c == "L") ? "1" : c
            guard let v = ResumeToken.alphabet.firstIndex(of: d) else { return nil }
            acc = (acc << 5) | v
            bits += 5
            if bits >= 8 {
                bits -= 8
                value.append(UInt8((acc >> bits) & 0xFF))
            }
        }
        guard symbols == 26, value.count == 16 else { return nil }
        bytes = value
    }

    /// Groups of four for reading aloud or copying from a screen.
    public var description: String {
        var out = ""
        var acc = 0, bits = 0
        for b in bytes {
            acc = (acc << 8) | Int(b)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(ResumeToken.alphabet[(acc >> bits) & 31])
            }
        }
        if bits > 0 { out.append(ResumeToken.alphabet[(acc << (5 - bits)) & 31]) }
        var grouped = ""
        for (i, c) in out.enumerated() {
            if i > 0 && i % 4 == 0 { grouped += "-" }
            grouped.append(c)
        }
        return grouped
    }

    /// What the store keeps.
    public var digest: [UInt8] { Array(SHA256.hash(data: bytes)) }
}
