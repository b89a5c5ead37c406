import NIOCore
import Testing
@testable import IntakeServer

/// A reply of several lines goes out as one buffer: every line whole, in order, each ended by LF.
struct ReplyBytesTests {
    @Test func aReplysLinesAreSentInOrderEachEndedByALineFeed() {
        let lines = [#"{"type":"session","session":"s-1"}"#, #"{"type":"question","text":"お子さんは何人ですか。"}"#, ""]
        let buffer = Connection.bytes(lines)
        let text = String(buffer: buffer)
        #expect(text == lines.map { $0 + "\n" }.joined())
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == lines)
        #expect(buffer.readableBytes == lines.reduce(0) { $0 + $1.utf8.count + 1 })
    }
}
