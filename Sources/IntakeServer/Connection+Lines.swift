import Foundation
import IntakeEngine
import IntakeRuntime

extension Connection {
    // MARK: - JSON lines

    func jsonLine(_ line: String) async -> Reply {
        guard let message = try? JSON(parsing: line), case .object = message else {
            return error("malformed_json")
        }
        if let id = message["id"] {
            switch id {
            case .string, .int, .number: replyID = id
            default: break
            }
        }
        guard case .string(let op)? = message["op"] else { return error("bad_request", ["field": "op"]) }
        switch op {
        case "start":
            guard let dialog = optionalString(message, "dialog"), let loc = optionalString(message, "locale") else {
                return error("bad_request", ["field": message["dialog"] != nil ? "dialog" : "locale"])
            }
            return await start(dialog: dialog.value, locale: loc.value ?? locale)
        case "resume":
            guard case .string(let token)? = message["token"] else { return error("bad_request", ["field": "token"]) }
            return await resume(tokenText: token)
        case "quit":
            return await end(reason: live == nil ? "quit" : "suspended")
        case "suspend":
            guard live != nil else { return error("no_session") }
            return await end(reason: "suspended")
        case "answer", "decline", "skip", "back", "edit", "review", "locale", "confirm", "finish", "repeat":
            guard live != nil else { return error("no_session") }
            return await sessionOp(op, message)
        default:
            // Nothing else exists: in particular, nothing lists, reads or exports records.
            return error("unknown_op", ["op": String(op.prefix(40))])
        }
    }

    private func sessionOp(_ op: String, _ message: JSON) async -> Reply {
        // An answer (or decline, skip) may say which question it is for.
        if ["answer", "decline", "skip"].contains(op), let q = message["question"] {
            guard case .string(let question) = q else { return error("bad_request", ["field": "question"]) }
            if question != shownQuestion {
                return error("wrong_question", ["current": shownQuestion ?? "—"])
            }
        }
        let event: Event
        switch op {
        case "answer":
            if let value = message["value"] {
                guard let v = Self.value(value) else { return error("bad_request", ["field": "value"]) }
                event = .value(v)
            } else if case .string(let typed)? = message["text"] {
                event = .answer(typed)
            } else {
                return error("bad_request", ["field": "value"])
            }
        case "decline": event = .decline
        case "skip": event = .skip
        case "back": event = .back
        case "review": event = .review
        case "finish": event = .finish
        case "repeat": event = .repeatQuestion
        case "edit":
            switch message["target"] {
            case .string(let t)?: event = .edit(t)
            case .int(let n)?: event = .edit(String(n))
            default: return error("bad_request", ["field": "target"])
            }
        case "locale":
            guard case .string(let l)? = message["locale"] else { return error("bad_request", ["field": "locale"]) }
            event = .locale(l)
        default: // confirm
            switch message["reason"] {
            case nil, .null?: event = .confirm(reason: nil)
            case .string(let r)?: event = .confirm(reason: r)
            default: return error("bad_request", ["field": "reason"])
            }
        }
        return await step(event)
    }

    /// A member that must be a string when present: nil when it has another type.
    private func optionalString(_ message: JSON, _ key: String) -> (value: String?, Void)? {
        switch message[key] {
        case nil, .null?: return (nil, ())
        case .string(let s)?: return (s, ())
        default: return nil
        }
    }

    /// A typed answer from JSON: true/false, a number, a string (text, a choice value, a date
    /// YYYY-MM-DD, a month YYYY-MM), an array of strings (a multi choice).
    static func value(_ j: JSON) -> Value? {
        switch j {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .number(let d): return .decimal(d)
        case .string(let s): return .text(s)
        case .array(let items):
            var picks: [String] = []
            for item in items {
                guard case .string(let s) = item else { return nil }
                picks.append(s)
            }
            return .choices(picks)
        default: return nil
        }
    }

    // MARK: - Plain text

    func plainLine(_ line: String) async -> Reply {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard live != nil else {
            // Before a session: `:quit` leaves, `:help` shows the greeting again, a language (or
            // `:lang` one) starts one, `resume TOKEN` comes back, anything else starts in Japanese.
            switch LineInput.parse(trimmed) {
            case .quit: return await end(reason: "quit")
            case .help: return Reply(lines: greetingLines())
            case .event(.locale(let l)) where catalog.strings[l.lowercased()] != nil:
                return await start(dialog: nil, locale: l.lowercased())
            default: break
            }
            let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\u{3000}" })
            if let first = words.first, ["resume", "再開", "さいかい", ":resume"].contains(first.lowercased()) {
                return await resume(tokenText: words.dropFirst().joined())
            }
            // The resume number typed alone (as the screen showed it, with or without its dashes)
            // comes back to that session, rather than starting a new one.
            if ResumeToken(text: trimmed.replacingOccurrences(of: "ー", with: "-").replacingOccurrences(of: "－", with: "-")) != nil {
                return await resume(tokenText: trimmed)
            }
            let lower = trimmed.lowercased()
            let chosen = catalog.strings[lower] != nil ? lower : "ja"
            return await start(dialog: nil, locale: chosen)
        }
        let folded = trimmed.replacingOccurrences(of: "：", with: ":").lowercased()
        if [":suspend", ":中断", ":ちゅうだん"].contains(folded) { return await end(reason: "suspended") }
        // At the final review a word says "finish" (終了, おわる, はい, finish, yes, … in any of the
        // languages), as well as `:finish`.
        if let live, case .reviewing = live.running.state.phase, finishWords.contains(folded) {
            return await step(.finish)
        }
        switch LineInput.parse(line) {
        case .event(let e):
            switch e {
            case .note, .add, .remove:
                // Counselor's commands: not at a kiosk.
                return unknownCommand(String(trimmed.dropFirst().prefix(while: { $0 != " " })))
            default:
                return await step(e)
            }
        case .help:
            var reply = Reply(lines: [catalog.text("serve.help", currentLocale)])
            if let live { reply.lines += text.effects(live.runner.engine.current(live.running.state), locale: currentLocale) }
            return reply
        case .quit:
            return await end(reason: "quit")
        case .unknownCommand(let w), .missingArgument(let w):
            return unknownCommand(w)
        }
    }

    /// The words that finish at the final review: `serve.finish_words` of every language.
    var finishWords: Set<String> {
        Set(catalog.locales.flatMap { locale in
            (catalog.optionalText("serve.finish_words", locale) ?? "").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        })
    }

    private func unknownCommand(_ word: String) -> Reply {
        var reply = error("unknown_command", ["command": ":" + String(word.prefix(40))])
        if let live { reply.lines += text.effects(live.runner.engine.current(live.running.state), locale: currentLocale) }
        return reply
    }
}
