import Foundation
import IntakeEngine
import IntakeStore
import Testing

/// Issue 14's protocol contract, as an independent client written from PROTOCOL.md alone would meet
/// it: every question of the default dialog is answered with what its `question` message advertises
/// (a choice's `value`, a number within `min`/`max`), sent as a typed JSON `value` — never the words
/// a person would type.
@Suite struct AdvertisedAnswersTests {
    @Test func everyQuestionOfTheIntakeIsAnsweredWithWhatItsMessageAdvertises() async throws {
        let server = try await TestServer.start()
        let c = try await server.connect()
        try await c.send(json: [("op", .string("start")), ("dialog", .string("intake")), ("locale", .string("ja"))])
        #expect(await c.until("session") != nil)
        var tries: [String: Int] = [:]   // answers refused so far, per question
        var typeRefusals: [String] = []  // an advertised value refused as the wrong type
        var limitsAsStrings: [String] = []
        var asked = 0
        var status: String?
        var last: JSON?
        var confirming = false
        loop: for _ in 0..<2_000 {
            guard let m = await c.nextJSON() else { break }
            last = m
            switch m["type"]?.string {
            case "question" where confirming:
                // A warning re-shows its question: keep the answer.
                confirming = false
                try await c.send(json: [("op", .string("confirm"))])
            case "question":
                asked += 1
                let id = m["question"]?.string ?? ""
                let kind = m["kind"]?.string ?? ""
                for key in ["min", "max"] {
                    if let limit = m[key], ["integer", "decimal", "text"].contains(kind), limit.string != nil {
                        limitsAsStrings.append("\(id).\(key)")
                    }
                }
                let attempt = tries[id, default: 0]
                try await c.send(json: [("op", .string("answer")), ("question", .string(id)), ("value", Self.answer(m, attempt: attempt))])
            case "invalid":
                if m["key"]?.string == "engine.invalid.type" { typeRefusals.append(m["message"]?.string ?? "") }
                // The same question follows; the next advertised value is tried.
                if let last = await c.nextJSON(), let id = last["question"]?.string {
                    tries[id, default: 0] += 1
                    guard tries[id, default: 0] < 6 else { break loop }
                    try await c.send(json: [("op", .string("answer")), ("question", .string(id)),
                                            ("value", Self.answer(last, attempt: tries[id, default: 0]))])
                }
            case "warning":
                confirming = true
            case "review" where m["final"] == .bool(true):
                try await c.send(json: [("op", .string("finish"))])
            case "done":
                status = m["status"]?.string
                break loop
            case "error", "bye":
                break loop
            default:
                continue
            }
        }
        #expect(status == "complete", "asked \(asked), refused \(tries), last \(last.map { $0.rendered() } ?? "-")")
        #expect(asked > 60)
        #expect(typeRefusals.isEmpty, "advertised values refused as the wrong type: \(typeRefusals)")
        #expect(limitsAsStrings.isEmpty, "min/max sent as strings: \(limitsAsStrings)")
        try await server.stop()
    }

    /// An answer made only of what the message says: a choice's `value` (the `attempt`-th, for a
    /// retry; "add another?" prompts, whose path has a `+`, say the last choice: no), a number at or
    /// above `min`, a date within the limits, a year and month, a short text.
    static func answer(_ q: JSON, attempt: Int) -> JSON {
        let id = q["question"]?.string ?? ""
        let values: [String] = {
            guard case .array(let cs)? = q["choices"] else { return [] }
            return cs.compactMap { $0["value"]?.string }
        }()
        switch q["kind"]?.string {
        case "yesno", "choice", "multi":
            guard !values.isEmpty else { return .string("") }
            if id.contains("+") { return .string(values[values.count - 1]) }
            return .string(values[attempt % values.count])
        case "integer":
            let lo: Int = { if case .int(let i)? = q["min"] { return i } else { return 0 } }()
            return .int(lo + 1 + attempt)
        case "decimal":
            let lo: Double = { switch q["min"] { case .int(let i)?: return Double(i); case .number(let d)?: return d; default: return 0 } }()
            return .number(lo + 1 + Double(attempt))
        case "date":
            return .string(q["max"]?.string ?? q["min"]?.string ?? "1990-04-0\(1 + attempt % 9)")
        case "month":
            return .string("2015-0\(1 + attempt % 9)")
        case "time":
            // Hours as a number: 8:30, then later ones (a later answer satisfies "to after from").
            return .number(8.5 + Double(attempt * 9))
        default:
            // A text of a shape the message names: one of that shape.
            switch q["format"]?.string {
            case "phone": return .string("090-1234-5678")
            case "email": return .string("hanako@example.jp")
            default: return .string(["はい", "テスト", "とくになし"][attempt % 3])
            }
        }
    }
}

/// Issue 14's plain-text fixes that a person at `nc` meets: the resume number typed alone resumes
/// (it used to start a new interview), and at the final review a word finishes (it took `:finish`).
@Suite struct PlainTextWordsTests {
    @Test func theResumeNumberAloneResumesAndAWordFinishesAtTheReview() async throws {
        let server = try await TestServer.start { $0.dialog = "followup" }
        // A kiosk app answers every question, then stops at the final review (suspends).
        let c = try await server.connect()
        try await c.send(json: [("op", .string("start")), ("dialog", .string("followup")), ("locale", .string("ja"))])
        let token = try #require(await c.until("session")?["token"]?.string)
        var confirming = false, atReview = false
        var seen: [String] = []
        var tries: [String: Int] = [:], lastAsked = ""
        for _ in 0..<300 {
            guard let m = await c.nextJSON() else { break }
            seen.append((m["type"]?.string ?? "?") + ":" + (m["question"]?.string ?? m["code"]?.string ?? m["key"]?.string ?? ""))
            switch m["type"]?.string {
            case "question" where confirming:
                confirming = false
                try await c.send(json: [("op", .string("confirm"))])
            case "question":
                let id = m["question"]?.string ?? ""
                try await c.send(json: [("op", .string("answer")), ("question", .string(id)),
                                        ("value", AdvertisedAnswersTests.answer(m, attempt: tries[id, default: 0]))])
                lastAsked = id
            case "invalid":
                tries[lastAsked, default: 0] += 1  // the same question follows: the next advertised value
            case "warning":
                confirming = true
            case "review" where m["final"] == .bool(true):
                atReview = true
            default:
                break
            }
            if atReview { break }
        }
        #expect(atReview, "\(seen)")
        try await c.send(json: [("op", .string("suspend"))])
        #expect(await c.until("bye")?["reason"] == .string("suspended"))

        // At a terminal: the number alone, as the screen showed it.
        let p = try await server.connect()
        try await p.send(token)
        let resumed = await p.lines(until: "終了するには「終了」か :finish")
        #expect(resumed?.contains { $0.contains("再開しました") } == true, "\(resumed ?? [])")
        try await p.send("終了")
        let end = await p.lines(until: "ありがとうございました")
        #expect(end != nil)
        #expect(await p.waitClosed())
        // The session is finished, not a new one started.
        let sessions = try await server.store.sessions()
        #expect(sessions.count == 1)
        #expect(sessions.first?.status == .complete)
        try await server.stop()
    }
}
