/// Reading one JSON document from text: the kiosk protocol's requests (one per line, many per
/// second). Foundation's `JSONDecoder` read them through `Decodable`, which tries every scalar type
/// in turn and throws at each miss; on the kiosk server that was about a tenth of each turn's CPU
/// (BENCHMARKS.md). This is RFC 8259 exactly — no comments, no trailing commas, no NaN, no lone
/// surrogates, no raw control characters in strings — with a nesting limit, and a fuzz target
/// checks it against `JSONDecoder` (`IntakeFuzzing`, target `json`).
extension JSON {
    /// Why a text is not one JSON document (only the byte offset: the text may hold a client's answer).
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let offset: Int
        public var description: String { "not JSON (at byte \(offset))" }
    }

    /// Deeper nesting than this is refused (as `JSONDecoder` does past 512).
    public static let maxParseDepth = 512

    /// Parses `text` as one JSON document (whitespace around it allowed). Object keys come back
    /// sorted, as from `Decodable` (a repeated key keeps its first value); whole numbers that fit
    /// an `Int` are `.int`, other numbers `.number`. With `keepingOrder`, object members stay in
    /// the order written: a document that `rendered()` wrote renders again to the same bytes (a
    /// stored record read back and printed or exported is the record as it was stored).
    public init(parsing text: String, keepingOrder: Bool = false) throws(ParseError) {
        var text = text
        let result = text.withUTF8 { bytes -> Result<JSON, ParseError> in
            var p = JSONParser(bytes: bytes, keepingOrder: keepingOrder)
            do throws(ParseError) {
                p.skipSpace()
                let value = try p.value(depth: 0)
                p.skipSpace()
                guard p.at == bytes.count else { return .failure(ParseError(offset: p.at)) }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let keepingOrder: Bool
    var at = 0

    init(bytes: UnsafeBufferPointer<UInt8>, keepingOrder: Bool = false) {
        self.bytes = bytes
        self.keepingOrder = keepingOrder
    }

    func fail() -> JSON.ParseError { JSON.ParseError(offset: at) }

    mutating func skipSpace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSON.ParseError) -> JSON {
        guard at < bytes.count else { throw fail() }
        switch bytes[at] {
        case UInt8(ascii: "{"):
            guard depth < JSON.maxParseDepth else { throw fail() }
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < JSON.maxParseDepth else { throw fail() }
            return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail()
        }
    }

    mutating func literal(_ word: StaticString) throws(JSON.ParseError) {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { throw fail() }
        for i in 0..<n where bytes[at + i] != word.utf8Start[i] { throw fail() }
        at += n
    }

    mutating func object(depth: Int) throws(JSON.ParseError) -> JSON {
        at += 1
        var members: [(String, JSON)] = []
        // Keys seen, once an object is large (so that a line of a thousand keys costs no quadratic time).
        var seen: Set<String>?
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object([]) }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail() }
            let key = try string()
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail() }
            at += 1
            skipSpace()
            let v = try value(depth: depth)
            // A repeated key keeps its first value, as with `JSONDecoder`.
            if members.count >= 16 && seen == nil { seen = Set(members.map(\.0)) }
            if seen?.insert(key).inserted ?? !members.contains(where: { $0.0 == key }) { members.append((key, v)) }
            skipSpace()
            guard at < bytes.count else { throw fail() }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "}") else { throw fail() }
            at += 1
            break
        }
        if !keepingOrder { members.sort { $0.0 < $1.0 } }
        return .object(members)
    }

    mutating func array(depth: Int) throws(JSON.ParseError) -> JSON {
        at += 1
        var items: [JSON] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array([]) }
        while true {
            skipSpace()
            items.append(try value(depth: depth))
            skipSpace()
            guard at < bytes.count else { throw fail() }
            if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
            guard bytes[at] == UInt8(ascii: "]") else { throw fail() }
            at += 1
            return .array(items)
        }
    }

    /// A string; `at` is on its opening quote. The text is valid UTF-8 already (it came from a String).
    mutating func string() throws(JSON.ParseError) -> String {
        at += 1
        let start = at
        // Fast path: no escapes.
        while at < bytes.count {
            let b = bytes[at]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
                at += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            guard b >= 0x20 else { throw fail() }
            at += 1
        }
        var out = Array(bytes[start..<at])
        while at < bytes.count {
            let b = bytes[at]
            switch b {
            case UInt8(ascii: "\""):
                at += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                at += 1
                guard at < bytes.count else { throw fail() }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { throw fail() }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail()
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail() }
                    out.append(contentsOf: UTF8.encode(u).map { Array($0) } ?? [])
                default: throw fail()
                }
            default:
                guard b >= 0x20 else { throw fail() }
                out.append(b)
                at += 1
            }
        }
        throw fail()
    }

    mutating func hex4() throws(JSON.ParseError) -> UInt32 {
        guard at + 4 <= bytes.count else { throw fail() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[at]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw fail()
            }
            v = v << 4 | UInt32(d)
            at += 1
        }
        return v
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    /// A number whose value is a whole number that fits an `Int` is `.int`, read exactly from its
    /// digits (`4222222222222222e2` is 422222222222222200, which a `Double` cannot hold), as
    /// `JSONDecoder` reads it; any other is the nearest `Double`.
    mutating func number() throws(JSON.ParseError) -> JSON {
        let start = at
        var negative = false
        if bytes[at] == UInt8(ascii: "-") { negative = true; at += 1 }
        guard at < bytes.count else { throw fail() }
        let intStart = at
        if bytes[at] == UInt8(ascii: "0") {
            at += 1
        } else if isDigit(bytes[at]) {
            while at < bytes.count, isDigit(bytes[at]) { at += 1 }
        } else {
            throw fail()
        }
        var digits = Array(bytes[intStart..<at])
        var scale = 0   // the value is digits × 10^scale
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
            at += 1
            guard at < bytes.count, isDigit(bytes[at]) else { throw fail() }
            let fracStart = at
            while at < bytes.count, isDigit(bytes[at]) { at += 1 }
            digits += bytes[fracStart..<at]
            scale -= at - fracStart
        }
        var exponentFits = true
        if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            at += 1
            var sign = 1
            if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") {
                if bytes[at] == UInt8(ascii: "-") { sign = -1 }
                at += 1
            }
            guard at < bytes.count, isDigit(bytes[at]) else { throw fail() }
            var e = 0
            while at < bytes.count, isDigit(bytes[at]) {
                if e < 100_000 { e = e * 10 + Int(bytes[at] - UInt8(ascii: "0")) } else { exponentFits = false }
                at += 1
            }
            scale += sign * e
        }
        if digits.allSatisfy({ $0 == UInt8(ascii: "0") }) { return .int(0) }
        if exponentFits, let i = Self.wholeNumber(digits: digits, scale: scale, negative: negative) { return .int(i) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { throw JSON.ParseError(offset: start) }
        return .number(d)
    }

    /// digits × 10^scale as an `Int`, when it is a whole number that fits one.
    static func wholeNumber(digits: [UInt8], scale: Int, negative: Bool) -> Int? {
        var digits = digits
        if scale < 0 {
            // The dropped digits must all be zeros.
            guard -scale <= digits.count, digits.suffix(-scale).allSatisfy({ $0 == UInt8(ascii: "0") }) else { return nil }
            digits.removeLast(-scale)
        }
        let significant = digits.drop(while: { $0 == UInt8(ascii: "0") })
        if significant.isEmpty { return 0 }
        guard significant.count + max(scale, 0) <= 19 else { return nil }
        var text = (negative ? "-" : "") + String(decoding: significant, as: UTF8.self)
        if scale > 0 { text += String(repeating: "0", count: scale) }
        return Int(text)
    }

    func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
