import NIOConcurrencyHelpers
import NIOCore

/// Wrong resume tokens counted per client address, across connections: a connection is closed after
/// a few wrong tokens (`ServerConfiguration.maxWrongTokens`), and an address that keeps reconnecting
/// to guess more is refused every resume — right or wrong — until its window ends. A token has 128
/// random bits, so guessing one is hopeless anyway; this keeps a guesser from costing the store a
/// lookup per try, and makes the attempt visible in the log.
///
/// The same mechanism limits session starts per address (`ServerConfiguration.maxStartsPerAddress`,
/// with `admit`): a second instance, counting starts instead of wrong tokens.
///
/// Fixed windows per address (the count starts again once `window` has passed since the first wrong
/// token); at most `maxAddresses` are remembered (the stalest entry makes room).
final class GuessLimiter: Sendable {
    private struct Entry {
        var windowStart: NIODeadline
        var failures: Int
    }

    private let entries = NIOLockedValueBox([String: Entry]())
    let limit: Int
    let window: TimeAmount
    let maxAddresses: Int

    init(limit: Int, window: TimeAmount, maxAddresses: Int = 10_000) {
        self.limit = limit
        self.window = window
        self.maxAddresses = maxAddresses
    }

    /// Whether `address` may try a token now.
    func allows(_ address: String, now: NIODeadline = .now()) -> Bool {
        entries.withLockedValue { table in
            guard let e = table[address] else { return true }
            if now - e.windowStart >= window {
                table[address] = nil
                return true
            }
            return e.failures < limit
        }
    }

    /// Counts a wrong token from `address`; returns whether the address may still try.
    @discardableResult
    func recordFailure(_ address: String, now: NIODeadline = .now()) -> Bool {
        entries.withLockedValue { table in
            var e = table[address] ?? Entry(windowStart: now, failures: 0)
            if now - e.windowStart >= window { e = Entry(windowStart: now, failures: 0) }
            e.failures += 1
            store(e, for: address, in: &table, now: now)
            return e.failures < limit
        }
    }

    /// The same window used as a rate limit (session starts): counts one attempt from `address` and
    /// returns true while the address is under `limit` in its window; past it, returns false and
    /// counts nothing more until the window ends.
    func admit(_ address: String, now: NIODeadline = .now()) -> Bool {
        entries.withLockedValue { table in
            var e = table[address] ?? Entry(windowStart: now, failures: 0)
            if now - e.windowStart >= window { e = Entry(windowStart: now, failures: 0) }
            guard e.failures < limit else { return false }
            e.failures += 1
            store(e, for: address, in: &table, now: now)
            return true
        }
    }

    private func store(_ e: Entry, for address: String, in table: inout [String: Entry], now: NIODeadline) {
        if table[address] == nil, table.count >= maxAddresses {
            // Forget what has expired; if nothing has, the entry whose window began first.
            table = table.filter { now - $0.value.windowStart < window }
            if table.count >= maxAddresses, let stalest = table.min(by: { $0.value.windowStart < $1.value.windowStart }) {
                table[stalest.key] = nil
            }
        }
        table[address] = e
    }

    /// Addresses remembered now (for tests).
    var count: Int { entries.withLockedValue { $0.count } }
}
