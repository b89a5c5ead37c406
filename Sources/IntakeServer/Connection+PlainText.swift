import IntakeEngine

/// What a person at `nc` or `telnet` meets besides the dialog: a greeting when she connects and
/// waits, lines wrapped to her terminal, and a prompt where she types next.
extension Connection {
    /// The greeting's languages, in this order: the client's is not known yet.
    static let greetingLocales = ["ja", "en", "ja-easy"]

    /// Nothing read `greetAfter` after connecting (`KioskFrame.greet`): how to begin, how to
    /// resume with the number, how to leave, in every language, then the prompt. The protocol is
    /// still open: a JSON first line after it makes a JSON connection.
    func greeting() -> Reply {
        guard mode == .unknown, live == nil else { return Reply() }
        greeted = true
        logger.debug("greeted a silent connection")
        return Reply(lines: greetingLines(), prompt: prompt)
    }

    /// The greeting's text in every language, a blank line between them, wrapped.
    func greetingLines() -> [String] {
        var lines: [String] = []
        for l in Self.greetingLocales where catalog.locales.contains(l) {
            if !lines.isEmpty { lines.append("") }
            lines += catalog.text("plain.greeting", l).split(separator: "\n", omittingEmptySubsequences: false)
                .flatMap { PlainText.wrap(String($0)) }
        }
        return lines
    }

    /// What a plain-text reply ends with where the client types next (no newline after it).
    var prompt: String { catalog.optionalText("plain.prompt", currentLocale) ?? "> " }

    /// A reply as it goes out. Plain text (and a greeted connection whose protocol is not known
    /// yet: an error before its first line): its lines wrapped at `PlainText.width`, and the prompt
    /// after them unless the connection closes. JSON: as it is.
    func presented(_ reply: Reply) -> Reply {
        guard mode == .plain || (mode == .unknown && greeted), !reply.lines.isEmpty else { return reply }
        var out = reply
        out.lines = reply.lines.flatMap { PlainText.wrap($0) }
        if !reply.close { out.prompt = prompt }
        return out
    }
}
