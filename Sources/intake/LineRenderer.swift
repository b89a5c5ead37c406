import Foundation
import IntakeEngine

/// Shows engine effects as plain text lines (for `intake run`; the REPL and the plain-text kiosk
/// build on the same wording).
struct LineRenderer {
    let catalog: Catalog
    /// Everything shown goes to standard error instead of standard output: `intake run --print-record`
    /// keeps standard output for the record alone (`> record.json`), and at a terminal standard error
    /// is the screen, so the person still sees every question.
    var toStandardError = false

    /// Every line goes through here: a client's text is shown, never acted on (`ControlCharacters`).
    func say(_ s: String) {
        write(ControlCharacters.visible(s, keepingLineFeeds: true) + "\n")
    }

    private func write(_ s: String) {
        if toStandardError {
            FileHandle.standardError.write(Data(s.utf8))
        } else {
            print(s, terminator: "")
        }
    }

    func show(_ effects: [Effect], locale: String) {
        for e in effects {
            switch e {
            case .ask(let p): ask(p, locale)
            case .invalid(let m): say("! " + m.text)
            case .warn(let ms):
                for m in ms { say("! " + m.text) }
                say("  " + catalog.text("run.confirm_hint", locale))
            case .dropped(let lines):
                guard !lines.isEmpty else { continue }
                say(catalog.text("run.dropped", locale))
                for l in lines { say("  - \(l.question): \(l.answer)") }
            case .notice(let m): say(m.text)
            case .review(let r):
                say(catalog.text("run.review", locale))
                var heading: [String] = []
                for l in r.lines {
                    // Grouped: a heading line whenever the section or repeat instance changes.
                    if l.context != heading {
                        heading = l.context
                        say("  [" + heading.joined(separator: " › ") + "]")
                    }
                    say("    \(l.number). \(l.question) → \(l.answer)")
                }
                if r.final {
                    say(catalog.text("engine.review.finish_or_edit", locale))
                    say(catalog.text("run.finish_hint", locale))
                    prompt()
                }
            case .done(let r):
                let status = catalog.optionalText("run.status." + r.status, locale) ?? r.status
                say(catalog.text("run.done", locale, ["status": status]))
                if !r.typed.suggestions.isEmpty {
                    say(catalog.text("run.suggestions", locale))
                    for item in r.typed.suggestions { say("  - " + item.text) }
                }
            }
        }
        fflush(nil)
    }

    private func ask(_ p: Prompt, _ locale: String) {
        say("")
        let progress = catalog.text("run.progress", locale, ["answered": String(p.answered), "remaining": String(p.remaining)])
        say("[" + p.context.joined(separator: " › ") + "]  " + progress)
        // A later visit: what the last record says, before "is this still right?".
        for l in p.previous { say("    \(l.question) → \(l.answer)") }
        say(p.text)
        if let h = p.help { say("  " + h) }
        for c in p.choices where p.kind == "choice" || p.kind == "multi" { say("  \(c.number). \(c.label)") }
        if p.kind == "yesno" { say("  " + p.choices.map { "\($0.number). \($0.label)" }.joined(separator: "  ")) }
        if let current = p.current { say("  " + catalog.text("run.current", locale, ["answer": current])) }
        if p.declineHint { say("  " + catalog.text("run.decline_hint", locale)) }
        prompt()
    }

    /// The "> " marker, only for a person at a terminal (scripts read cleaner output without it).
    private func prompt() {
        guard isatty(0) == 1 else { return }
        write("> ")
        fflush(nil)
    }
}
