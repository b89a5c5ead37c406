/// Why an answer was not accepted: a locale key and its placeholders.
struct Problem: Error {
    var key: String
    var args: [String: String] = [:]
}

extension Engine {
    /// Reads an answer as a person types it, for a question of `kind`.
    /// `folded`: `TextFolding.fold(text)` (an answer is folded once, to look for a decline word
    /// and to read it); a choice is read from it, a free text kept as typed.
    func parse(_ text: String, folded: String, as kind: QuestionKind, _ state: SessionState, question: String? = nil) -> Result<Value, Problem> {
        switch kind {
        case .text:
            // A phone number or an e-mail address: stored in half-width, refused with an example.
            if let q = question, let format = dialog.index.question(q)?.format {
                guard let normalized = format.normalize(text) else { return .failure(Problem(key: "engine.invalid." + format.rawValue)) }
                return .success(.text(normalized))
            }
            return .success(.text(text))
        case .integer:
            // A year may be typed in 和暦 ("平成30年", "H30", "へいせい30ねん"): it is that year.
            guard let i = NumberParser.parseInteger(text) ?? DateParser.parseEraYear(text) else {
                return .failure(Problem(key: "engine.invalid.integer"))
            }
            return .success(.int(i))
        case .decimal:
            guard let d = NumberParser.parseDecimal(text) else { return .failure(Problem(key: "engine.invalid.decimal")) }
            return .success(.decimal(d))
        case .yesNo:
            guard let b = parseYesNo(text, state) else { return .failure(Problem(key: "engine.invalid.yesno")) }
            return .success(.bool(b))
        case .date:
            guard let d = DateParser.parse(text) else {
                // A date that reads, on a day its month does not have: said as such, not as unreadable.
                if let (month, day) = DateParser.impossibleDay(text) {
                    return .failure(Problem(key: "engine.invalid.no_such_day", args: ["month": String(month), "day": String(day)]))
                }
                return .failure(Problem(key: "engine.invalid.date"))
            }
            return .success(.date(d))
        case .month:
            guard let m = DateParser.parseYearMonth(text) else { return .failure(Problem(key: "engine.invalid.month")) }
            return .success(.text(Engine.yearMonth(m.year, m.month)))
        case .time:
            guard let t = TimeParser.parse(text) else { return .failure(Problem(key: "engine.invalid.time")) }
            return .success(t.value)
        case .single(let choices):
            guard let c = matchFolded(folded, choices, state, question: question) else {
                return .failure(Problem(key: "engine.invalid.choice", args: ["count": String(choices.count)]))
            }
            return .success(.choice(c))
        case .multi(let choices, _, _):
            return parsePicks(folded: folded, choices, state, question: question).map { .choices($0) }
        }
    }

    /// Several picks: "1,3", "1、3", "1 3", or labels separated by commas. Each piece is a
    /// trimmed run of the folded text, so folding it again would change nothing: it is matched
    /// as it is (`matchFolded`).
    private func parsePicks(folded: String, _ choices: [Choice], _ state: SessionState, question: String?) -> Result<[String], Problem> {
        let characters = Array(folded)
        // Pieces between separators; a label that itself holds a separator ("パート・アルバイト")
        // is found by trying the longest run of pieces first.
        var pieces: [Range<Int>] = []
        var start = 0
        for (i, c) in characters.enumerated() where ",、;；・/".contains(c) {
            pieces.append(start..<i)
            start = i + 1
        }
        pieces.append(start..<characters.count)
        func piece(_ from: Int, _ to: Int) -> String {
            String(characters[pieces[from].lowerBound..<pieces[to].upperBound]).trimmingWhitespace
        }
        var picked: Set<String> = []
        var i = 0
        while i < pieces.count {
            if piece(i, i).isEmpty {
                i += 1
                continue
            }
            var matched = false
            for j in stride(from: pieces.count - 1, through: i, by: -1) {
                if let c = matchFolded(piece(i, j), choices, state, question: question) {
                    picked.insert(c)
                    i = j + 1
                    matched = true
                    break
                }
            }
            if matched { continue }
            // Numbers may also be separated by spaces: "1 3".
            let words = piece(i, i).split(separator: " ").map(String.init)
            guard words.count > 1, words.allSatisfy({ matchFolded($0, choices, state, question: question) != nil }) else {
                return .failure(Problem(key: "engine.invalid.pick", args: ["pick": piece(i, i), "count": String(choices.count)]))
            }
            for w in words { if let c = matchFolded(w, choices, state, question: question) { picked.insert(c) } }
            i += 1
        }
        guard !picked.isEmpty else { return .failure(Problem(key: "engine.invalid.required")) }
        return .success(choices.map(\.value).filter { picked.contains($0) })
    }

    /// A choice by its number as shown, its label in any locale (the session's own first), or its value.
    /// (`folded`: the text as `TextFolding.fold` leaves it.)
    func matchFolded(_ folded: String, _ choices: [Choice], _ state: SessionState, question: String? = nil) -> String? {
        var numberText = folded
        if numberText.hasSuffix(".") || numberText.hasSuffix(")") { numberText.removeLast() }
        if let n = Int(numberText) {
            return n >= 1 && n <= choices.count ? choices[n - 1].value : nil
        }
        let wanted = folded.lowercased()
        if let q = question, let table = choiceLabels[q] {
            // A label in the session's language, in any language, the value itself, or a label's
            // words before its bracketed explanation (「時給」 for 「時給（1時間いくら）」).
            return table.byLocale[state.locale]?[wanted] ?? table.anyLocale[wanted] ?? table.values[wanted]
                ?? table.shortByLocale[state.locale]?[wanted] ?? table.abbreviated(wanted, locale: state.locale)
        }
        if let c = choices.first(where: { catalog.typedForms($0.label, state.locale).contains { TextFolding.fold($0).lowercased() == wanted } }) {
            return c.value
        }
        return choices.first { $0.value.lowercased() == wanted }?.value
    }

    /// The part of a label before a bracketed explanation, trimmed.
    static func shortLabel(_ label: String) -> String {
        guard let cut = label.firstIndex(where: { $0 == "(" || $0 == "（" }) else { return label }
        return String(label[..<cut]).trimmingWhitespace
    }

    func parseYesNo(_ text: String, _ state: SessionState) -> Bool? {
        if let b = YesNoParser.parse(text) { return b }
        let folded = TextFolding.fold(text).lowercased()
        if catalog.typedForms("engine.yes", state.locale).contains(where: { folded == TextFolding.fold($0).lowercased() }) { return true }
        if catalog.typedForms("engine.no", state.locale).contains(where: { folded == TextFolding.fold($0).lowercased() }) { return false }
        return nil
    }

    /// "答えない", "decline", … as listed under `engine.decline.words` (separated by `|`).
    /// (`folded`: the text as `TextFolding.fold` leaves it.)
    func isDeclineWord(folded: String, _ state: SessionState) -> Bool {
        let word = folded.lowercased()
        return declineWords[state.locale]?.contains(word) == true || declineWords[catalog.fallback]?.contains(word) == true
    }

    /// "現在", "いま", "now", … as listed under `engine.ongoing.words` (the session's language, then the fallback's).
    func isOngoingWord(_ text: String, _ state: SessionState) -> Bool {
        let folded = TextFolding.fold(text).lowercased()
        return ongoingWords[state.locale]?.contains(folded) == true || ongoingWords[catalog.fallback]?.contains(folded) == true
    }

    /// `2019-04`
    static func yearMonth(_ year: Int, _ month: Int) -> String {
        let y = String(year), m = String(month)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + (m.count < 2 ? "0" + m : m)
    }

    /// A typed value from a JSON client, checked against the question's kind.
    func coerce(_ v: Value, to kind: QuestionKind) -> Result<Value, Problem> {
        switch (kind, v) {
        case (.text, .text), (.integer, .int), (.decimal, .decimal), (.yesNo, .bool), (.date, .date):
            return .success(v)
        case (.decimal, .int(let i)):
            return .success(.decimal(Double(i)))
        // A yes/no question advertises the choices `yes` and `no`: either, sent as a value, is an answer.
        case (.yesNo, .text(let c)), (.yesNo, .choice(let c)):
            guard let b = Self.yesNoChoice(c) else { return .failure(Problem(key: "engine.invalid.yesno")) }
            return .success(.bool(b))
        // One advertised choice of a multi-choice question, sent alone, is a one-pick answer.
        case (.multi, .text(let c)), (.multi, .choice(let c)):
            return coerce(.choices([c]), to: kind)
        case (.integer, .decimal(let d)) where d == d.rounded() && abs(d) < 1e15:
            return .success(.int(Int(d)))
        case (.single(let choices), .choice(let c)), (.single(let choices), .text(let c)):
            guard choices.contains(where: { $0.value == c }) else {
                return .failure(Problem(key: "engine.invalid.choice", args: ["count": String(choices.count)]))
            }
            return .success(.choice(c))
        case (.multi(let choices, _, _), .choices(let cs)):
            for c in cs where !choices.contains(where: { $0.value == c }) {
                return .failure(Problem(key: "engine.invalid.pick", args: ["pick": c, "count": String(choices.count)]))
            }
            let picked = Set(cs)
            return .success(.choices(choices.map(\.value).filter { picked.contains($0) }))
        case (.date, .text(let s)):
            guard let d = DateParser.parse(s) else { return .failure(Problem(key: "engine.invalid.date")) }
            return .success(.date(d))
        case (.time, .int(let h)):
            guard let t = TimeParser.time(hours: Double(h)) else { return .failure(Problem(key: "engine.invalid.time")) }
            return .success(t.value)
        case (.time, .decimal(let d)):
            guard let t = TimeParser.time(hours: d) else { return .failure(Problem(key: "engine.invalid.time")) }
            return .success(t.value)
        case (.time, .text(let s)):
            guard let t = TimeParser.parse(s) else { return .failure(Problem(key: "engine.invalid.time")) }
            return .success(t.value)
        case (.month, .text(let s)):
            guard let m = DateParser.parseYearMonth(s) else { return .failure(Problem(key: "engine.invalid.month")) }
            return .success(.text(Engine.yearMonth(m.year, m.month)))
        default:
            return .failure(Problem(key: "engine.invalid.type", args: ["kind": kind.name]))
        }
    }

    /// The advertised values of a yes/no question (`choices` `yes`, `no`) as the answer they stand for.
    static func yesNoChoice(_ value: String) -> Bool? {
        switch value {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }

    /// Limits that belong to the kind: length, range, number of picks, exclusive picks.
    func limitProblem(_ v: Value, _ kind: QuestionKind, _ state: SessionState) -> Problem? {
        switch (kind, v) {
        case (.text(let maxLength), .text(let s)) where s.count > (maxLength ?? Question.defaultMaxLength):
            let limit = maxLength ?? Question.defaultMaxLength
            return Problem(key: "engine.invalid.too_long", args: ["max": String(limit), "length": String(s.count)])
        case (.integer(let lo, let hi), .int(let i)):
            if let lo, i < lo { return range(lo.description, hi?.description) }
            if let hi, i > hi { return range(lo?.description, hi.description) }
        case (.decimal(let lo, let hi), .decimal(let d)):
            if let lo, d < lo { return range(format(lo), hi.map(format)) }
            if let hi, d > hi { return range(lo.map(format), format(hi)) }
        case (.date(let lo, let hi), .date(let d)):
            if let lo, d < lo { return range(lo.iso, hi?.iso) }
            if let hi, d > hi { return range(lo?.iso, hi.iso) }
        case (.multi(let choices, let minPicks, let maxPicks), .choices(let picked)):
            if let minPicks, picked.count < minPicks { return Problem(key: "engine.invalid.picks_min", args: ["min": String(minPicks)]) }
            if let maxPicks, picked.count > maxPicks { return Problem(key: "engine.invalid.picks_max", args: ["max": String(maxPicks)]) }
            if picked.count > 1, let ex = choices.first(where: { $0.exclusive && picked.contains($0.value) }) {
                return Problem(key: "engine.invalid.exclusive", args: ["choice": catalog.text(ex.label, state.locale)])
            }
        default:
            break
        }
        return nil
    }

    private func range(_ lo: String?, _ hi: String?) -> Problem {
        switch (lo, hi) {
        case let (lo?, hi?): return Problem(key: "engine.invalid.range", args: ["min": lo, "max": hi])
        case let (lo?, nil): return Problem(key: "engine.invalid.min", args: ["min": lo])
        case let (nil, hi?): return Problem(key: "engine.invalid.max", args: ["max": hi])
        default: return Problem(key: "engine.invalid.range")
        }
    }

    func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
