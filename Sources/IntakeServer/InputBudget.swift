import NIOConcurrencyHelpers

/// How much one address may have logged in a window: every input a session takes is written to its
/// log (an answer, an edit's target, a rejected answer too: replaying the log must reach the same
/// state), so an address that sends long inputs again and again would fill the disk within the
/// per-session and per-address limits on events and starts (60 sessions × 2,000 events × a line
/// of up to 8 KB). Each input counts its text's bytes and a fixed amount for its entry; past the
/// budget an input gets `too_much_input`, nothing is logged, and the session stays as it was.
///
/// Counted in this instance's memory (each `intake serve` instance and each restart counts anew),
/// unlike starts and wrong tokens, whose counts are rows in the database: counting every answer
/// there would add a write to every turn. A window ends `window` after its first input; the table
/// forgets addresses whose window ended, so it holds about one window's addresses.
final class InputBudget: Sendable {
    /// What one input costs besides its text: its log entry's sequence number, time, actor, hash.
    static let entryBytes = 128

    let limit: Int
    let window: Int64
    private let table = NIOLockedValueBox<[String: (start: Int64, bytes: Int)]>([:])

    init(limit: Int, window: Int64) {
        self.limit = limit
        self.window = window
    }

    /// Takes `bytes` from `address`'s budget at `now` (ms); false, with nothing taken, when they
    /// do not fit.
    func take(_ address: String, _ bytes: Int, at now: Int64) -> Bool {
        table.withLockedValue { t in
            if t.count >= 4096 { t = t.filter { now - $0.value.start < window } }
            var entry = t[address].flatMap { now - $0.start < window ? $0 : nil } ?? (start: now, bytes: 0)
            guard entry.bytes + bytes <= limit else {
                t[address] = entry
                return false
            }
            entry.bytes += bytes
            t[address] = entry
            return true
        }
    }

    var addresses: Int { table.withLockedValue { $0.count } }
}
