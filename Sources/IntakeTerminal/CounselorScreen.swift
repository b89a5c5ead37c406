import IntakeEngine

/// What the counselor's terminal shows for the engine's effects, as lines wrapped to the
/// terminal's width: the question with its section, progress and numbered choices (help only on
/// request), reviews with the client's own answers marked, warnings that ask for a reason.
public struct CounselorScreen: Sendable {
    public let catalog: Catalog
    public var width: Int
    /// Answers the client gave herself (at a kiosk, before the handover), marked in reviews.
    public var clientAnswered: Set<String> = []

    public init(catalog: Catalog, width: Int) {
        self.catalog = catalog
        self.width = width
    }

    public func lines(_ effects: [Effect], locale: String) -> [String] {
        var out: [String] = []
        for e in effects {
            switch e {
            case .ask(let p): out += question(p, locale)
            case .invalid(let m): out += wrap("! " + m.text, hanging: "  ")
            case .warn(let ms):
                for m in ms { out += wrap("! " + m.text, hanging: "  ") }
                out += wrap("  " + catalog.text("repl.confirm_reason", locale))
            case .dropped(let lines):
                guard !lines.isEmpty else { continue }
                out += wrap(catalog.text("run.dropped", locale))
                for l in lines { out += wrap("  - \(l.question): \(l.answer)", hanging: "    ") }
            case .notice(let m): out += wrap(m.text)
            case .review(let r):
                out += review(r, locale)
                out += reviewHints(r, locale)
            case .done(let r):
                let status = catalog.optionalText("run.status." + r.status, locale) ?? r.status
                out += wrap(catalog.text("run.done", locale, ["status": status]))
                if !r.typed.suggestions.isEmpty {
                    out += wrap(catalog.text("run.suggestions", locale))
                    for item in r.typed.suggestions { out += wrap("  - " + item.text, hanging: "    ") }
                }
            }
        }
        return out
    }

    /// The question: `[section › instance]  12 / ~40`, the text, what the last record said, the
    /// choices numbered, the answer given before, and hints.
    public func question(_ p: Prompt, _ locale: String) -> [String] {
        var out = [""]
        let progress = catalog.text("repl.progress", locale, ["answered": String(p.answered), "total": String(p.answered + p.remaining)])
        out += wrap("[" + p.context.joined(separator: " › ") + "]  " + progress)
        for l in p.previous { out += wrap("    \(l.question) → \(l.answer)", hanging: "      ") }
        out += wrap(p.text)
        switch p.kind {
        case "choice", "multi", "yesno":
            let numberWidth = String(p.choices.count).count
            for c in p.choices {
                let n = String(repeating: " ", count: numberWidth - String(c.number).count) + "\(c.number). "
                out += wrap("  " + n + c.label, hanging: "  " + String(repeating: " ", count: n.count))
            }
        default: break
        }
        var hints: [String] = []
        if let current = p.current { hints.append(catalog.text("run.current", locale, ["answer": current])) }
        if p.declineHint { hints.append(catalog.text("run.decline_hint", locale)) }
        if p.help != nil { hints.append(catalog.text("repl.help_hint", locale)) }
        for h in hints { out += wrap("  " + h, hanging: "  ") }
        return out
    }

    /// The question's help (shown on `?`).
    public func help(_ p: Prompt, _ locale: String) -> [String] {
        guard let h = p.help else { return wrap(catalog.text("repl.no_help", locale)) }
        return wrap("  " + h, hanging: "  ")
    }

    /// What follows a final review: finish, or edit by number or words.
    public func reviewHints(_ r: Review, _ locale: String) -> [String] {
        guard r.final else { return [] }
        return wrap(catalog.text("engine.review.finish_or_edit", locale)) + wrap(catalog.text("run.finish_hint", locale))
    }

    /// The answers under their sections, numbered as `:edit` takes them; under `title` (default:
    /// "the answers so far"); only the lines `keeping` keeps (default: all).
    public func review(_ r: Review, _ locale: String, title: String? = nil, keeping: (AnswerLine) -> Bool = { _ in true }) -> [String] {
        var out = wrap(title ?? catalog.text("run.review", locale))
        var heading: [String] = []
        let mark = catalog.text("repl.client_mark", locale)
        for l in r.lines where keeping(l) {
            if l.context != heading {
                heading = l.context
                out += wrap("  [" + heading.joined(separator: " › ") + "]")
            }
            let who = clientAnswered.contains(l.path) ? " " + mark : ""
            let n = "\(l.number). "
            out += wrap("    " + n + "\(l.question) → \(l.answer)" + who, hanging: "    " + String(repeating: " ", count: n.count))
        }
        return out
    }

    /// Every line the screen shows goes through here: a client's text is shown, never acted on
    /// (control and bidi characters made visible, `ControlCharacters`).
    public func wrap(_ text: String, hanging: String? = nil) -> [String] {
        TextWidth.wrap(ControlCharacters.visible(text, keepingLineFeeds: true), width: width, hanging: hanging)
    }
}
