import Foundation
import IntakeEngine
import IntakeRuntime
import IntakeStore
import Logging
import NIOCore

/// One kiosk connection: reads frames in order, answers each with lines, and keeps at most one
/// session. Used only by its own task (not shared), so it needs no lock.
final class Connection {
    enum Mode { case unknown, json, plain }

    /// A session this connection runs.
    struct Live {
        let runner: SessionRunner
        var running: RunningSession
        let token: ResumeToken
        var locale: String { running.state.locale }
    }

    /// What a frame produced: lines to send, and whether to close after them.
    struct Reply {
        var lines: [String] = []
        var close = false
        /// Written after the lines, without a newline: plain text's prompt, where the client
        /// types next (`presented(_:)`). JSON: never.
        var prompt: String?
    }

    let context: ServerContext
    let channel: any Channel
    var logger: Logger
    var mode = Mode.unknown
    /// The connection's language before (and between) sessions.
    var locale = "ja"
    var live: Live?
    /// The question now shown (its display path), for `answer` with `question`.
    var shownQuestion: String?
    var wrongTokens = 0
    /// The `id` of the JSON message being answered.
    var replyID: JSON?
    /// The greeting (and its prompt, with no newline after it) was sent.
    var greeted = false

    /// `mode`: `.json` on the WebSocket (JSON only); `.unknown` on the line port (the first line picks).
    init(context: ServerContext, channel: any Channel, mode: Mode = .unknown) {
        self.context = context
        self.channel = channel
        self.mode = mode
        var logger = context.logger
        logger[metadataKey: "conn"] = "\(context.nextConnectionNumber())"
        self.logger = logger
    }

    /// How ja-easy's readings reach this client (`furigana` of `start`/`resume`; plain text: brackets).
    var furigana = FuriganaStyle.brackets
    var catalog: Catalog { context.catalogs[furigana] ?? context.catalog }
    /// The client's address as the limits count it (`AddressKey`: an IPv6 /64, not the port), for
    /// counting starts and wrong tokens across connections.
    var address: String { AddressKey.of(channel.remoteAddress) }
    var json: JSONRenderer { JSONRenderer(catalog: catalog) }
    var text: KioskTextRenderer { KioskTextRenderer(catalog: catalog) }
    var currentLocale: String { live?.locale ?? locale }

    // MARK: - The connection's life

    func serve(_ connection: NIOAsyncChannel<KioskFrame, ByteBuffer>) async {
        logger.debug("connection opened")
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    let reply = presented(await handle(frame))
                    if !reply.lines.isEmpty { try await outbound.write(Self.bytes(reply.lines, prompt: reply.prompt)) }
                    if reply.close { return }
                }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(type(of: error))"])
        }
        // The client left (or could not be written to) with a session running: it is suspended,
        // so that its token brings it back anywhere.
        if live != nil { await suspendLive(reason: "disconnect") }
        context.registry.remove(channel)
        logger.debug("connection closed")
    }

    /// A reply's lines in one buffer (one write and one flush for the whole reply), each ended by
    /// LF, then `prompt` (if any) with no LF after it.
    static func bytes(_ lines: [String], prompt: String? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 1 } + (prompt?.utf8.count ?? 0))
        for line in lines {
            buffer.writeString(line)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        if let prompt { buffer.writeString(prompt) }
        return buffer
    }

    func handle(_ frame: KioskFrame) async -> Reply {
        replyID = nil
        switch frame {
        case .line(let buffer):
            guard let line = String(validating: buffer.readableBytesView, as: UTF8.self) else {
                return error("invalid_utf8")
            }
            return await handle(line: line)
        case .tooLong:
            return error("line_too_long", ["max": String(context.configuration.maxLineBytes)])
        case .unterminated:
            logger.info("disconnected mid-line")
            return Reply(close: true)
        case .idle:
            return await end(reason: "idle")
        case .shutdown:
            return await end(reason: "shutdown")
        case .takenOver:
            return await end(reason: "resumed_elsewhere")
        case .heldElsewhere:
            // Checked again here, in order with this connection's own work: a resume of its own
            // (which writes the holder) has finished by now.
            guard let live, await context.heldElsewhere([live.running.id]).contains(live.running.id) else { return Reply() }
            return takenOverElsewhere()
        case .greet:
            return greeting()
        }
    }

    func handle(line: String) async -> Reply {
        switch mode {
        case .json: return await jsonLine(line)
        case .plain: return await plainLine(line)
        case .unknown:
            // A first line that is (or tries to be) a JSON object picks JSON lines; anything else, plain text.
            if line.drop(while: { $0 == " " || $0 == "\t" }).first == "{" {
                mode = .json
                var reply = await jsonLine(line)
                // After the greeting's prompt (no newline): every JSON message starts a line.
                if greeted { reply.lines.insert("", at: 0) }
                return reply
            }
            mode = .plain
            return await plainLine(line)
        }
    }

    // MARK: - Sessions

    /// Starts a session in kiosk mode (counselor-only questions are never asked).
    func start(dialog: String?, locale requested: String) async -> Reply {
        guard live == nil else { return error("session_active") }
        guard let runner = context.runner(dialog ?? context.configuration.dialog, style: furigana) else { return error("unknown_dialog") }
        let (token, id) = ResumeToken.forNewSession()
        do {
            // Every start costs a row and a commit: an address may start only so many in a window,
            // counted with the session's creation (in one transaction where the store can).
            let (running, effects) = try await runner.start(id: id, token: token, locale: requested, mode: .kiosk, actor: .client,
                                                            office: context.configuration.office,
                                                            admitting: context.admission(context.starts, address), at: now())
            _ = context.registry.claim(id, by: channel)
            live = Live(runner: runner, running: running, token: token)
            locale = running.state.locale
            logger[metadataKey: "session"] = "\(id)"
            logger.info("session started", metadata: ["dialog": "\(runner.engine.dialog.id)", "locale": "\(running.state.locale)"])
            var reply = Reply()
            switch mode {
            case .json:
                reply.lines.append(json.message("session", id: replyID, [
                    ("session", .string(id)), ("token", .string(token.description)),
                    ("dialog", .string(runner.engine.dialog.id)), ("locale", .string(running.state.locale)), ("resumed", .bool(false)),
                ]))
            case .plain, .unknown:
                reply.lines.append(catalog.text("serve.started", running.state.locale, ["token": token.description]))
            }
            return after(effects, reply)
        } catch is RateLimit.Refused {
            // Said in the language asked for: the session that would have set it does not start.
            if catalog.locales.contains(requested) { locale = requested }
            logger.warning("start refused: too many starts from this address", metadata: ["address": "\(address)"])
            return error("too_many_starts", key: "operations.serve.error.too_many_starts")
        } catch {
            logger.error("session could not start", metadata: ["error": "\(storageErrorDescription(error))"])
            return self.error("storage_failed")
        }
    }

    /// Comes back to a suspended session by its token; a wrong token counts against the connection
    /// and its address.
    func resume(tokenText: String) async -> Reply {
        guard live == nil else { return error("session_active") }
        guard await context.allowed(context.guesses, address, .check) else {
            // This address guessed too often: no token is even looked up until its window ends.
            logger.warning("resume refused: too many wrong tokens from this address", metadata: ["address": "\(address)"])
            var reply = error("too_many_attempts")
            reply.lines.append(byeLine(reason: "too_many_attempts", message: nil, token: nil))
            reply.close = true
            return reply
        }
        guard let token = ResumeToken(text: tokenText) else { return await wrongToken() }
        let info: SessionInfo?
        do {
            // Any runner reads the store; the session's own dialog runs it.
            info = try await context.runners.values.first?.session(resuming: token)
        } catch RuntimeError.damaged(let id) {
            return damaged(id)
        } catch {
            logger.error("token lookup failed", metadata: ["error": "\(storageErrorDescription(error))"])
            return self.error("storage_failed")
        }
        guard let info else { return await wrongToken() }
        guard info.status != .complete && info.status != .stopped else { return error("finished") }
        guard let runner = context.runner(info.dialogID, style: furigana) else { return error("unknown_dialog") }
        // One connection per session: a resume elsewhere takes it over (the other suspends first).
        if let holder = context.registry.claim(info.id, by: channel) {
            holder.pipeline.fireUserInboundEventTriggered(KioskSignal.takenOver)
            var claimed = false
            for _ in 0..<150 {
                try? await Task.sleep(for: .milliseconds(20))
                if context.registry.claim(info.id, by: channel) == nil { claimed = true; break }
            }
            guard claimed else { return error("session_in_use") }
        }
        do {
            let (running, effects) = try await runner.resume(info, mode: .kiosk, actor: .client, at: now())
            live = Live(runner: runner, running: running, token: token)
            locale = running.state.locale
            logger[metadataKey: "session"] = "\(info.id)"
            logger.info("session resumed")
            var reply = Reply()
            switch mode {
            case .json:
                reply.lines.append(json.message("session", id: replyID, [
                    ("session", .string(info.id)), ("token", .string(token.description)),
                    ("dialog", .string(runner.engine.dialog.id)), ("locale", .string(running.state.locale)), ("resumed", .bool(true)),
                ]))
            case .plain, .unknown:
                reply.lines.append(catalog.text("serve.resumed", running.state.locale))
            }
            return after(effects, reply)
        } catch RuntimeError.finished {
            context.registry.release(info.id, by: channel)
            return error("finished")
        } catch RuntimeError.tooLong {
            context.registry.release(info.id, by: channel)
            logger.warning("resume refused: the session's log is at its maximum", metadata: ["session": "\(info.id)"])
            return error("session_too_long", key: "operations.serve.error.session_too_long")
        } catch RuntimeError.damaged, RuntimeError.corruptLog {
            // Damaged in the store: this kiosk is told so; every other session goes on.
            context.registry.release(info.id, by: channel)
            return damaged(info.id)
        } catch {
            context.registry.release(info.id, by: channel)
            logger.error("session could not resume", metadata: ["error": "\(storageErrorDescription(error))"])
            return self.error("storage_failed")
        }
    }

    func wrongToken() async -> Reply {
        wrongTokens += 1
        let addressMayGoOn = await context.allowed(context.guesses, address, .failure)
        // Never the token itself: only that a guess failed, and how many so far.
        logger.notice("unknown resume token", metadata: ["attempts": "\(wrongTokens)"])
        var reply = error("unknown_token")
        if !addressMayGoOn {
            logger.warning("too many wrong resume tokens from this address: closing, resumes refused for a while",
                           metadata: ["address": "\(address)"])
        }
        if wrongTokens >= context.configuration.maxWrongTokens || !addressMayGoOn {
            logger.warning("too many wrong resume tokens: closing")
            reply.lines += error("too_many_attempts").lines
            reply.lines.append(byeLine(reason: "too_many_attempts", message: nil, token: nil))
            reply.close = true
        }
        return reply
    }

    /// Runs one event: the reply is made only after the event's log entry has committed.
    func step(_ event: Event) async -> Reply {
        guard var current = live else { return error("no_session") }
        // Every input is logged: one address may log only so much in a window (`InputBudget`).
        guard context.inputs.take(address, Self.loggedBytes(event), at: now().epochMillis) else {
            logger.warning("input refused: too much input from this address", metadata: ["address": "\(address)"])
            return error("too_much_input", key: "operations.serve.error.too_much_input")
        }
        do {
            let effects = try await current.runner.handle(event, in: &current.running, actor: .client, at: now())
            live = current
            locale = current.locale
            logger.debug("event", metadata: ["op": "\(Self.opName(event))"])
            return after(effects, Reply())
        } catch RuntimeError.tooLong {
            // Far more steps than any intake takes: a stuck or abusive client. The session is
            // suspended (a counselor can read it) and the connection closed.
            logger.warning("the session's log is at its maximum: suspended, connection closed",
                           metadata: ["max_events": "\(current.runner.maxEvents)"])
            var reply = error("session_too_long", key: "operations.serve.error.session_too_long")
            await suspendLive(reason: "session_too_long")
            reply.lines.append(byeLine(reason: "session_too_long", message: nil, token: nil))
            reply.close = true
            return reply
        } catch RuntimeError.damaged(let id) {
            return damaged(id)
        } catch RuntimeError.takenOver {
            return takenOverElsewhere()
        } catch StoreError.outOfOrder {
            // The store holds more of this session than this connection knows: an earlier commit
            // whose reply was lost (the database server's connection broke during COMMIT, and the
            // kiosk was told storage_failed) did land. Go on from what is stored: the session is
            // read again from its log, and the kiosk is shown where it stands (this input, sent
            // for a question no longer asked, is not stored).
            // Unless what it holds beyond includes a resumption: another connection took the
            // session over meanwhile (on this same server the lease cannot tell the two apart),
            // and this one must not take it back.
            do {
                let log = try await current.runner.store.log(of: current.running.id)
                let resumedSince = log.dropFirst(current.running.seq).contains { entry in
                    switch entry.event {
                    case .resume, .migrate: return true
                    default: return false
                    }
                }
                if resumedSince { return takenOverElsewhere() }
            } catch {
                logger.error("session could not be read again", metadata: ["error": "\(storageErrorDescription(error))"])
                return self.error("storage_failed")
            }
            logger.notice("the store holds more of this session than the connection knew: continuing from the store")
            do {
                let (running, effects) = try await current.runner.resume(token: current.token, mode: .kiosk, actor: .client, at: now())
                current.running = running
                live = current
                locale = current.locale
                return after(effects, Reply())
            } catch {
                logger.error("session could not be read again", metadata: ["error": "\(storageErrorDescription(error))"])
                return self.error("storage_failed")
            }
        } catch {
            logger.error("event could not be stored", metadata: ["op": "\(Self.opName(event))", "error": "\(storageErrorDescription(error))"])
            return self.error("storage_failed")
        }
    }

    /// Renders effects; a finished session ends the connection (so the next person sees nothing).
    func after(_ effects: [Effect], _ reply: Reply) -> Reply {
        var reply = reply
        let session = live?.running.id ?? ""
        for e in effects {
            switch e {
            case .ask(let p): shownQuestion = p.display
            case .review(let r) where r.final: shownQuestion = nil
            default: break
            }
        }
        switch mode {
        case .json: reply.lines += json.effects(effects, id: replyID, session: session)
        case .plain, .unknown: reply.lines += text.effects(effects, locale: currentLocale)
        }
        if let live, case .done(let status) = live.running.state.phase {
            logger.info("session finished", metadata: ["status": "\(status)"])
            context.registry.release(live.running.id, by: channel)
            self.live = nil
            shownQuestion = nil
            reply.lines.append(byeLine(reason: "done", message: catalog.text("serve.bye", currentLocale), token: nil))
            reply.close = true
        }
        return reply
    }

    /// Another process (a counselor's terminal, another server) resumed the session: nothing of
    /// this event was written, the session is not this connection's any more, and the client is
    /// told so, as when another connection of this server takes it over.
    func takenOverElsewhere() -> Reply {
        let loc = currentLocale
        if let live { context.registry.release(live.running.id, by: channel) }
        live = nil
        shownQuestion = nil
        logger.notice("session resumed in another process")
        return Reply(lines: [byeLine(reason: "resumed_elsewhere", message: catalog.text("serve.resumed_elsewhere", loc), token: nil)],
                     close: true)
    }

    /// Suspends the running session (durably); returns whether it was stored.
    @discardableResult
    func suspendLive(reason: String) async -> Bool {
        guard var current = live else { return false }
        live = nil
        defer { context.registry.release(current.running.id, by: channel) }
        do {
            try await current.runner.suspend(&current.running, actor: .client, at: now())
            logger.info("session suspended", metadata: ["reason": "\(reason)"])
            return true
        } catch RuntimeError.takenOver {
            logger.notice("session resumed in another process", metadata: ["reason": "\(reason)"])
            return false
        } catch {
            logger.error("session could not be suspended", metadata: ["reason": "\(reason)", "error": "\(storageErrorDescription(error))"])
            return false
        }
    }

    /// Ends the connection: the session (if any) is suspended and the client told so, with its
    /// token, in one `bye` line. `reason`: suspended, quit, idle, shutdown, resumed_elsewhere.
    func end(reason: String) async -> Reply {
        let loc = currentLocale
        let token = live?.token
        let suspended = await suspendLive(reason: reason)
        if mode == .unknown && !greeted {
            // Nothing was said yet, and the client's language and protocol are not known: just close.
            return Reply(close: true)
        }
        let message: String
        switch reason {
        case "idle":
            message = suspended ? catalog.text("serve.idle", loc, ["token": token?.description ?? ""]) : catalog.text("serve.idle_no_session", loc)
        case "shutdown":
            message = suspended ? catalog.text("serve.shutdown", loc, ["token": token?.description ?? ""]) : catalog.text("serve.shutdown_no_session", loc)
        case "resumed_elsewhere":
            message = catalog.text("serve.resumed_elsewhere", loc)
        default:
            message = suspended ? catalog.text("serve.suspended", loc, ["token": token?.description ?? ""]) : catalog.text("serve.bye", loc)
        }
        // Taken over: the token is the other connection's business now.
        let shownToken = suspended && reason != "resumed_elsewhere" ? token : nil
        return Reply(lines: [byeLine(reason: reason, message: message, token: shownToken)], close: true)
    }

    func byeLine(reason: String, message: String?, token: ResumeToken?) -> String {
        switch mode {
        case .json:
            var m: [(String, JSON)] = [("reason", .string(reason))]
            if let token { m.append(("token", .string(token.description))) }
            if let message { m.append(("message", .string(message))) }
            return json.message("bye", id: replyID, m)
        case .plain, .unknown:
            return message ?? ""
        }
    }

    /// A session whose stored data is damaged: the log names its id (never its content), the
    /// client gets the `damaged` code.
    func damaged(_ session: String) -> Reply {
        logger.error("session is damaged", metadata: ["damaged_session": "\(session)"])
        return error("damaged", key: "integrity.serve_damaged")
    }

    /// An error in the connection's protocol: `code` stable, `message` in the client's language.
    /// `key`: the message's key when it is not `serve.error.<code>`.
    func error(_ code: String, _ args: [String: String] = [:], key: String? = nil) -> Reply {
        logger.notice("error", metadata: ["code": "\(code)"])
        let message = catalog.text(key ?? "serve.error." + code, currentLocale, args)
        switch mode {
        case .json:
            return Reply(lines: [json.message("error", id: replyID, [("code", .string(code)), ("message", .string(message))])])
        case .plain, .unknown:
            // The message may quote what the client typed (an unknown command): shown, never acted on.
            return Reply(lines: ["! " + ControlCharacters.visible(message)])
        }
    }

    /// The wall clock, read here at the edge (the engine reads none).
    func now() -> Moment {
        Moment(epochMillis: Int64(Date().timeIntervalSince1970 * 1000), utcOffsetMinutes: TimeZone.current.secondsFromGMT() / 60)
    }

    /// What an input costs its address's budget: its text's bytes and its log entry's.
    static func loggedBytes(_ e: Event) -> Int {
        let text: Int
        switch e {
        case .answer(let s), .edit(let s), .add(let s), .remove(let s), .locale(let s), .note(let s): text = s.utf8.count
        case .confirm(let reason): text = reason?.utf8.count ?? 0
        case .value(.text(let s)), .value(.choice(let s)): text = s.utf8.count
        case .value(.choices(let cs)): text = cs.reduce(0) { $0 + $1.utf8.count + 3 }
        case .value, .decline, .skip, .back, .review, .finish, .repeatQuestion: text = 0
        }
        return text + InputBudget.entryBytes
    }

    /// An event's kind for the logs (never its content).
    static func opName(_ e: Event) -> String {
        switch e {
        case .answer: return "answer"
        case .value: return "value"
        case .decline: return "decline"
        case .skip: return "skip"
        case .back: return "back"
        case .edit: return "edit"
        case .add: return "add"
        case .remove: return "remove"
        case .review: return "review"
        case .locale: return "locale"
        case .confirm: return "confirm"
        case .finish: return "finish"
        case .note: return "note"
        case .repeatQuestion: return "repeat"
        }
    }
}
