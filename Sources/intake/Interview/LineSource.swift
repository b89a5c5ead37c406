import CLineEditor
import Foundation

/// Where the counselor's lines come from: GNU readline at a terminal (editing, history, Tab
/// completion, Ctrl-C), or plain standard input for scripts.
protocol LineSource {
    mutating func read(prompt: String) -> LineRead
    /// Words Tab completes the line to (commands; the current question's choice labels).
    func complete(with words: [String])
    /// Keeps a command line in the history file. Never called with an answer.
    func remember(_ line: String)
}

enum LineRead: Equatable {
    case line(String)
    /// Ctrl-D, or the terminal went away.
    case end
    /// Ctrl-C: the line being typed was cleared.
    case interrupt
}

/// GNU readline (GPL-3.0) through the CLineEditor shim.
struct ReadlineSource: LineSource {
    let historyFile: String?

    init(historyFile: String?) {
        self.historyFile = historyFile
        le_setup("intake")
        if let historyFile { _ = le_history_load(historyFile) }
    }

    mutating func read(prompt: String) -> LineRead {
        var status = LE_LINE
        guard let raw = le_read(prompt, &status) else { return status == LE_INTERRUPT ? .interrupt : .end }
        defer { free(raw) }
        // Invalid UTF-8 is repaired (U+FFFD), never trusted.
        return .line(String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)), as: UTF8.self))
    }

    func complete(with words: [String]) {
        var pointers = words.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        pointers.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { le_set_words($0, Int32(buffer.count)) }
            }
        }
    }

    func remember(_ line: String) {
        le_history_add(line)
        if let historyFile { _ = le_history_append(historyFile, 1000) }
    }
}

/// Standard input, line by line (not a terminal: scripts, pipes).
struct PlainSource: LineSource {
    mutating func read(prompt: String) -> LineRead {
        if !prompt.isEmpty {
            print(prompt, terminator: "")
            fflush(nil)
        }
        guard let line = readLine(strippingNewline: true) else { return .end }
        return .line(line)
    }

    func complete(with words: [String]) {}
    func remember(_ line: String) {}
}

extension FileHandle {
    static func columns() -> Int { Int(le_columns()) }
}

/// A long screen (a review) a page at a time, at a terminal only: its height, and a key after each
/// page (Enter or space: the next page; q, Esc, Ctrl-C, Ctrl-D: stop).
struct Pager: Sendable {
    /// The terminal's height in rows, read each time (the window may have been resized).
    var rows: @Sendable () -> Int
    /// Shows the prompt, waits for one key: true to go on.
    var more: @Sendable (String) -> Bool

    /// The terminal of the process (readline's; its height from the terminal size).
    static let terminal = Pager(rows: { Int(le_rows()) }, more: { prompt in
        let key = le_read_key(prompt)
        // q Q, Esc, Ctrl-C, Ctrl-D, or the terminal gone: stop.
        return ![Int32(-1), 0x71, 0x51, 0x1B, 0x03, 0x04].contains(key)
    })
}
