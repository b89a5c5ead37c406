import IntakeEngine

/// Engine effects as JSON lines (the kiosk app's protocol; see PROTOCOL.md). Every message is one
/// object whose first member is `type`; `id` (echoed from the client's message) comes second.
struct JSONRenderer {
    let catalog: Catalog

    func message(_ type: String, id: JSON?, _ members: [(String, JSON)]) -> String {
        var all: [(String, JSON)] = [("type", .string(type))]
        if let id { all.append(("id", id)) }
        all += members
        return JSON.object(all).rendered()
    }

    func effects(_ effects: [Effect], id: JSON?, session: String) -> [String] {
        effects.map { effect in
            switch effect {
            case .ask(let p):
                var m: [(String, JSON)] = [
                    ("question", .string(p.display)), ("kind", .string(p.kind)), ("text", .string(p.text)),
                    ("help", p.help.map(JSON.string) ?? .null),
                    ("choices", .array(p.choices.map { .object([("value", .string($0.value)), ("label", .string($0.label))]) })),
                    ("required", .bool(p.required)), ("declinable", .bool(p.declinable)),
                    ("progress", .object([("answered", .int(p.answered)), ("remaining", .int(p.remaining))])),
                    ("section", p.context.first.map(JSON.string) ?? .null),
                    ("context", .array(p.context.map(JSON.string))),
                ]
                if let min = p.min { m.append(("min", Self.limit(min, kind: p.kind))) }
                if let max = p.max { m.append(("max", Self.limit(max, kind: p.kind))) }
                if let format = p.format { m.append(("format", .string(format))) }
                if let current = p.current { m.append(("current", .string(current))) }
                if !p.previous.isEmpty {
                    m.append(("previous", .array(p.previous.map { .object([("question", .string($0.question)), ("answer", .string($0.answer))]) })))
                }
                return message("question", id: id, m)
            case .invalid(let msg):
                return message("invalid", id: id, [("key", .string(msg.key)), ("message", .string(msg.text))])
            case .warn(let msgs):
                return message("warning", id: id, [("keys", .array(msgs.map { .string($0.key) })),
                                                   ("messages", .array(msgs.map { .string($0.text) }))])
            case .dropped(let lines):
                return message("dropped", id: id, [("answers", .array(lines.map {
                    .object([("question", .string($0.path)), ("text", .string($0.question)), ("answer", .string($0.answer))])
                }))])
            case .notice(let msg):
                return message("notice", id: id, [("key", .string(msg.key)), ("message", .string(msg.text))])
            case .review(let r):
                return message("review", id: id, [("final", .bool(r.final)), ("answers", .array(r.lines.map {
                    .object([("number", .int($0.number)), ("question", .string($0.path)), ("context", .array($0.context.map(JSON.string))),
                             ("text", .string($0.question)), ("answer", .string($0.answer))])
                }))])
            case .done(let r):
                return message("done", id: id, [("status", .string(r.status)), ("record", .string(session)),
                                                ("suggestions", .array(Self.suggestions(r)))])
            }
        }
    }

    /// A question's `min`/`max` as JSON: a number for the numeric kinds and for a text's longest
    /// length, the ISO string for a date.
    static func limit(_ text: String, kind: String) -> JSON {
        switch kind {
        case "integer", "text": return Int(text).map(JSON.int) ?? .string(text)
        case "decimal": return Int(text).map(JSON.int) ?? Double(text).map(JSON.number) ?? .string(text)
        default: return .string(text)
        }
    }

    /// The suggestions that fired, in the client's words as her screen shows them (readings in the
    /// connection's furigana style): `{id, text}`.
    static func suggestions(_ r: Record) -> [JSON] {
        let items = r.typed.suggestions
        let shown = r.shown.count == items.count ? r.shown : nil
        return items.enumerated().map { i, item in
            .object([("id", .string(item.id)), ("text", .string(shown?[i] ?? item.text))])
        }
    }
}

/// Engine effects as readable lines for a person at `nc` or `telnet`: the wording of `intake run`,
/// with the kiosk's commands.
struct KioskTextRenderer {
    let catalog: Catalog

    /// The lines for `effects`, each with control and bidi characters made visible: a client's text
    /// is shown on her terminal, never acted on (`ControlCharacters`).
    func effects(_ effects: [Effect], locale: String) -> [String] {
        lines(effects, locale: locale).map { ControlCharacters.visible($0, keepingLineFeeds: true) }
    }

    private func lines(_ effects: [Effect], locale: String) -> [String] {
        var out: [String] = []
        for e in effects {
            switch e {
            case .ask(let p): ask(p, locale, into: &out)
            case .invalid(let m): out.append("! " + m.text)
            case .warn(let ms):
                for m in ms { out.append("! " + m.text) }
                out.append("  " + catalog.text("serve.confirm_hint", locale))
            case .dropped(let lines):
                guard !lines.isEmpty else { continue }
                out.append(catalog.text("serve.dropped", locale))
                for l in lines { out.append("  - \(l.question): \(l.answer)") }
            case .notice(let m): out.append(m.text)
            case .review(let r):
                out.append(catalog.text("serve.review", locale))
                var heading: [String] = []
                for l in r.lines {
                    if l.context != heading {
                        heading = l.context
                        out.append("  [" + heading.joined(separator: " › ") + "]")
                    }
                    out.append("    \(l.number). \(l.question) → \(l.answer)")
                }
                if r.final { out.append(catalog.text("serve.finish_hint", locale)) }
            case .done(let r):
                let status = catalog.optionalText("serve.status." + r.status, locale) ?? r.status
                out.append(catalog.text("serve.done", locale, ["status": status]))
                let texts = JSONRenderer.suggestions(r).compactMap { item -> String? in
                    if case .string(let t)? = item["text"] { return t }
                    return nil
                }
                if !texts.isEmpty {
                    out.append(catalog.text("serve.suggestions", locale))
                    for t in texts { out.append("  - " + t) }
                }
            }
        }
        return out
    }

    private func ask(_ p: Prompt, _ locale: String, into out: inout [String]) {
        out.append("")
        let progress = catalog.text("serve.progress", locale, ["answered": String(p.answered), "remaining": String(p.remaining)])
        out.append("[" + p.context.joined(separator: " › ") + "]  " + progress)
        for l in p.previous { out.append("    \(l.question) → \(l.answer)") }
        out.append(p.text)
        if let h = p.help { out.append("  " + h) }
        if p.kind == "choice" || p.kind == "multi" {
            for c in p.choices { out.append("  \(c.number). \(c.label)") }
        }
        if p.kind == "yesno" { out.append("  " + p.choices.map { "\($0.number). \($0.label)" }.joined(separator: "  ")) }
        if let current = p.current { out.append("  " + catalog.text("serve.current", locale, ["answer": current])) }
        if p.declineHint { out.append("  " + catalog.text("serve.decline_hint", locale)) }
    }
}
