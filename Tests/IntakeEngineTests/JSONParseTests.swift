import Testing
@testable import IntakeEngine

/// The kiosk's request parser: RFC 8259, the same values `JSONDecoder` reads (checked further by
/// the `json` fuzz target against `JSONDecoder` itself).
@Suite struct JSONParseTests {
    @Test func readsARequest() throws {
        let j = try JSON(parsing: #" { "op" : "answer", "question": "children[1].age", "value": 4, "id": "a1" } "#)
        #expect(j["op"] == .string("answer"))
        #expect(j["question"] == .string("children[1].age"))
        #expect(j["value"] == .int(4))
        // Keys sorted, as JSONDecoder-read documents are.
        guard case .object(let members) = j else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["id", "op", "question", "value"])
    }

    @Test func scalarsAndNesting() throws {
        let j = try JSON(parsing: #"[true,false,null,-0.5e-3,1E2,2.0,1.5,12345678901234567890,"x",{"a":{"b":[]}},[]]"#)
        #expect(j == .array([.bool(true), .bool(false), .null, .number(-0.0005), .int(100), .int(2), .number(1.5),
                             .number(1.2345678901234567e19), .string("x"), .object([("a", .object([("b", .array([]))]))]), .array([])]))
    }

    /// Whole numbers are read exactly from their digits, as JSONDecoder reads them (a fuzzer find:
    /// through a Double, 4222222222222222e2 came out as …208).
    @Test func wholeNumbersAreReadExactly() throws {
        #expect(try JSON(parsing: "4222222222222222e2") == .int(422222222222222200))
        #expect(try JSON(parsing: "9223372036854775807") == .int(Int.max))
        #expect(try JSON(parsing: "-9223372036854775808") == .int(Int.min))
        #expect(try JSON(parsing: "9223372036854775808") == .number(9223372036854775808))
        #expect(try JSON(parsing: "1000000000000000000000000e-10") == .int(100_000_000_000_000))
        #expect(try JSON(parsing: "12.50e1") == .int(125))
        #expect(try JSON(parsing: "-0.0") == .int(0))
        #expect(try JSON(parsing: "0e99999999999999999999") == .int(0))
        #expect(try JSON(parsing: "4222222222222222222222e-5") == .number(42222222222222222.22222))
        #expect(try JSON(parsing: "1e-99999999999999999999") == .number(0))
        #expect(throws: JSON.ParseError.self) { try JSON(parsing: "1e99999999999999999999") }
    }

    @Test func stringsAndEscapes() throws {
        #expect(try JSON(parsing: #""はい""#) == .string("はい"))
        #expect(try JSON(parsing: #""a\"b\\c\/d\n\t\r\b\f""#) == .string("a\"b\\c/d\n\t\r\u{8}\u{C}"))
        #expect(try JSON(parsing: #""\u00e9\u3042\ud83d\ude00""#) == .string("éあ😀"))
    }

    @Test func aRepeatedKeyKeepsItsFirstValue() throws {
        #expect(try JSON(parsing: #"{"a":1,"a":2}"#) == .object([("a", .int(1))]))
        // Also past the size where keys are tracked in a set.
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let j = try JSON(parsing: "{" + many + ",\"k3\":99}")
        #expect(j["k3"] == .int(3))
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "tru", "nul",
        "\"abc", "\"a\u{01}b\"", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "{a:1}",
        "{\"a\" 1}", "[1 2]", "1 2", "// c\n1", "1e400", "{\"a\":1}x",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSON.ParseError.self) { try JSON(parsing: text) }
    }

    @Test func nestingIsLimited() throws {
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSON(parsing: ok) }
        let deep = String(repeating: "[", count: 4000) + String(repeating: "]", count: 4000)
        #expect(throws: JSON.ParseError.self) { try JSON(parsing: deep) }
    }

    @Test func rendersWhatItReads() throws {
        let text = #"{"a":["x\"y",1,2.5,null,true],"b":"改行\n","c":{}}"#
        #expect(try JSON(parsing: text).rendered() == text)
    }
}

/// A stored record read back for printing keeps its members in the order written, so it renders to
/// the bytes that were stored (`records show`, `export`).
@Suite struct JSONParseKeepingOrderTests {
    @Test func aDocumentReadKeepingOrderRendersToTheSameBytes() throws {
        let text = #"{"dialog":{"id":"intake","version":"1"},"status":"complete","answers":{"zeta":[1,2.5,"\u202e"],"alpha":{"b":null,"a":true}},"computed":{}}"#
        let kept = try JSON(parsing: text, keepingOrder: true)
        #expect(kept.rendered() == text)
        guard case .object(let members) = kept else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["dialog", "status", "answers", "computed"])
        // Without it, keys are sorted as before (the kiosk's requests, JSONDecoder's order).
        guard case .object(let sorted) = try JSON(parsing: text) else { Issue.record("not an object"); return }
        #expect(sorted.map(\.0) == ["answers", "computed", "dialog", "status"])
        // A repeated key keeps its first value either way.
        #expect(try JSON(parsing: #"{"b":1,"a":2,"b":3}"#, keepingOrder: true) == .object([("b", .int(1)), ("a", .int(2))]))
    }
}
