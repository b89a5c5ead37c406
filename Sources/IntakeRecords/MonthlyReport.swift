import IntakeEngine
import IntakeRuntime

/// The monthly counts a counselor reports (DOMAIN.md): consultations as 延べ件数 (all of them) and
/// 実件数 (distinct clients), and 就業件数 (clients who found work, from follow-up records), per office;
/// with the list of follow-ups and what changed. Sessions abandoned before the first real answer
/// are not consultations and are not counted (`isAbandoned`).
public struct MonthlyReport: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        public var office: String
        /// The counselor (her identity) whose consultations these are, in a report per counselor;
        /// nil in a report per office. A kiosk consultation nobody took over has none (`-`).
        public var counselor: String? = nil
        /// 延べ件数: every consultation held in the month.
        public var consultations: Int
        /// 実件数: distinct clients (a consultation without a client number counts as one client).
        public var clients: Int
        /// 就業件数: distinct clients whose follow-up in the month says they found work.
        public var foundWork: Int

        public init(office: String, counselor: String? = nil, consultations: Int, clients: Int, foundWork: Int) {
            self.office = office
            self.counselor = counselor
            self.consultations = consultations
            self.clients = clients
            self.foundWork = foundWork
        }
    }

    public struct Change: Sendable, Equatable {
        public var session: String
        /// The office the visit was at (`-`: none named): the client number is that office's.
        public var office: String
        public var client: String?
        public var date: String
        public var dialogID: String
        public var foundWork: Bool?
        /// What she said changed, in her words (the follow-up's free text).
        public var changes: String?
        /// At a later visit: every answer that differs from her last record.
        public var changed: [Changed] = []

        public init(session: String, office: String = "-", client: String?, date: String, dialogID: String, foundWork: Bool?, changes: String?,
                    changed: [Changed] = []) {
            self.session = session
            self.office = office
            self.client = client
            self.date = date
            self.dialogID = dialogID
            self.foundWork = foundWork
            self.changes = changes
            self.changed = changed
        }
    }

    /// One answer that differs from the last record: its value before and after (`.value(.null)`
    /// when there was none), or declined.
    public struct Changed: Sendable, Equatable {
        public typealias Answer = IntakeRecord.Visit.Answer
        public var question: String
        public var before: Answer
        public var after: Answer

        public init(question: String, before: Answer, after: Answer) {
            self.question = question
            self.before = before
            self.after = after
        }
    }

    public var counts: [Counts]
    public var changes: [Change]

    /// Every row together (the prefecture's view): a client is her office's, so the distinct
    /// clients of different offices add up; in a report per counselor, a client seen by two
    /// counselors of one office counts once per counselor.
    public var total: Counts {
        Counts(office: "", consultations: counts.reduce(0) { $0 + $1.consultations }, clients: counts.reduce(0) { $0 + $1.clients },
               foundWork: counts.reduce(0) { $0 + $1.foundWork })
    }

    public init(counts: [Counts], changes: [Change]) {
        self.counts = counts
        self.changes = changes
    }
}

extension MonthlyReport {
    /// The month of `year`/`month` in the office's time zone (`utcOffsetMinutes`) as epoch
    /// milliseconds [from, to); nil when there is no such month.
    public static func bounds(year: Int, month: Int, utcOffsetMinutes: Int) -> (from: Int64, to: Int64)? {
        bounds(year: year, month: month, time: OfficeTime(fixedOffsetMinutes: utcOffsetMinutes))
    }

    /// The month of `year`/`month` in the office's time zone as epoch milliseconds [from, to) —
    /// from its first midnight to the next month's (a change of offset within the month is followed);
    /// nil when there is no such month.
    public static func bounds(year: Int, month: Int, time: OfficeTime) -> (from: Int64, to: Int64)? {
        guard let first = CivilDate(year: year, month: month, day: 1),
              let next = month == 12 ? CivilDate(year: year + 1, month: 1, day: 1) : CivilDate(year: year, month: month + 1, day: 1) else {
            return nil
        }
        return (time.startOfDay(first), time.startOfDay(next))
    }

    /// The questions of `dialog`'s consent gate: those before its first `end` (intake: "may we
    /// record this?", whose no ends the dialog). Answering them alone is not a consultation.
    public static func consentGate(of dialog: Dialog) -> Set<String> {
        var gate: Set<String> = []
        func walk(_ items: [Item]) -> Bool {
            for item in items {
                switch item {
                case .question(let q): gate.insert(q.id)
                case .section(let s): if walk(s.items) { return true }
                case .group(let g): if walk(g.items) { return true }
                case .end: return true
                }
            }
            return false
        }
        // A dialog without an end has no gate: every answer is a real one.
        return walk(dialog.items) ? gate : []
    }

    /// Whether an unfinished session was abandoned before its first real answer: no event a person
    /// made (`input`: an answer, a decline, an edit) gave an answer (a value, or 答えない) to a
    /// question of `dialog` outside its consent gate. Answers brought forward from a last record
    /// (the start) or carried across a new dialog version (`migrate`), "add another?" prompts and
    /// a part's "still right?" are not answers she gave. Without the dialog, any answer counts.
    public static func isAbandoned(_ log: [LogEntry], dialog: Dialog?) -> Bool {
        let gate = dialog.map(consentGate) ?? []
        for entry in log where entry.seq > 0 {
            guard case .input = entry.event else { continue }
            for change in entry.answers ?? [] {
                guard let given = change.entry?.answer, given != .skipped, !change.path.isPrompt, !gate.contains(change.path.id) else { continue }
                if let dialog, dialog.index.question(change.path.id) == nil { continue }
                return false
            }
        }
        return true
    }

    /// The report for the month of `year`/`month` in the office's time zone, read from `store`:
    /// its sessions started in the month, those abandoned before the first real answer (with no
    /// answer at all, as the store finds them; unfinished ones whose log holds none but the consent
    /// gate's, by `isAbandoned` on the `dialogs`), and the records of the others. A damaged session
    /// (in the listing, its log or its record) refuses the whole report (`StoreError.damagedSessions`,
    /// `RuntimeError.damaged`): its counts would be wrong.
    /// `office`: that office's counts and list only (nil: every office, the prefecture's view).
    public static func make(from store: any Store, year: Int, month: Int, office: String? = nil, perCounselor: Bool = false,
                            time: OfficeTime = .tokyo, dialogs: [String: Dialog] = [:]) async throws -> MonthlyReport {
        guard let (from, to) = bounds(year: year, month: month, time: time) else {
            return MonthlyReport(counts: [], changes: [])
        }
        // A session abandoned before any answer was not a consultation.
        var abandoned = try await store.abandonedSessions(startedFrom: from, to: to)
        let sessions = try await store.sessions(SessionFilter(from: from, to: to, office: office))
        // Nor was one left after the consent gate alone: the unfinished ones' logs say.
        for s in sessions where (s.status == .inProgress || s.status == .suspended) && !abandoned.contains(s.id) {
            if isAbandoned(try await store.log(of: s.id), dialog: dialogs[s.dialogID]) { abandoned.insert(s.id) }
        }
        // Every consultation's record is read (a damaged one refuses the report, the oldest named
        // first), in the order the report counts them.
        let counted = sessions.filter { !abandoned.contains($0.id) }.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }.map(\.id)
        var records: [String: IntakeRecord] = [:]
        for (id, result) in zip(counted, await store.records(of: counted)) {
            guard let record = try result.get() else { continue }
            // A stored document that does not read as a record is damaged too.
            guard let typed = try? IntakeRecord(json: record) else { throw RuntimeError.damaged(session: id) }
            records[id] = typed
        }
        return MonthlyReport(year: year, month: month, time: time, sessions: sessions, abandoned: abandoned,
                             records: records, perCounselor: perCounselor)
    }

    /// As `init(year:month:time:…)`, in a zone of a fixed offset from UTC (`utcOffsetMinutes`).
    public init(year: Int, month: Int, utcOffsetMinutes: Int = 540, sessions: [SessionInfo], abandoned: Set<String>,
                records: [String: IntakeRecord], perCounselor: Bool = false) {
        self.init(year: year, month: month, time: OfficeTime(fixedOffsetMinutes: utcOffsetMinutes), sessions: sessions,
                  abandoned: abandoned, records: records, perCounselor: perCounselor)
    }

    /// The report for the month of `year`/`month` in the office's time zone, from `sessions` (those
    /// not started in the month are left out), the ids of those `abandoned` before any answer, and
    /// the finished sessions' `records` by session id. A pure function: the same data, the same report.
    /// `perCounselor`: a row per office and counselor (who took the consultation), not per office.
    public init(year: Int, month: Int, time: OfficeTime, sessions: [SessionInfo], abandoned: Set<String>,
                records: [String: IntakeRecord], perCounselor: Bool = false) {
        guard let (from, to) = Self.bounds(year: year, month: month, time: time) else {
            self.init(counts: [], changes: [])
            return
        }
        let sessions = sessions.filter { $0.startedAt >= from && $0.startedAt < to && !abandoned.contains($0.id) }
            .sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
        struct Row: Hashable, Comparable {
            var office: String
            var counselor: String?
            static func < (a: Row, b: Row) -> Bool { (a.office, a.counselor ?? "") < (b.office, b.counselor ?? "") }
        }
        var byOffice: [Row: (consultations: Int, clients: Set<String>, found: Set<String>)] = [:]
        var changes: [MonthlyReport.Change] = []
        for s in sessions {
            let office = s.office ?? "-"
            let row = Row(office: office, counselor: perCounselor ? (s.counselor ?? "-") : nil)
            let client = s.clientID ?? "session:" + s.id
            byOffice[row, default: (0, [], [])].consultations += 1
            byOffice[row, default: (0, [], [])].clients.insert(client)
            guard let record = records[s.id], s.dialogID == "followup" || record.visit != nil else { continue }
            let changed = (record.visit?.changes ?? []).map {
                MonthlyReport.Changed(question: $0.question, before: $0.before, after: $0.after)
            }
            let answers: RecordAnswers? = { if case .section(let a)? = record.answers["followup"] { return a } else { return nil } }()
            let found: Bool? = { if case .value(.bool(let b))? = answers?["found_work"] { return b } else { return nil } }()
            if found == true { byOffice[row, default: (0, [], [])].found.insert(client) }
            let said: String? = { if case .value(.string(let t))? = answers?["changes"] { return t } else { return nil } }()
            changes.append(MonthlyReport.Change(session: s.id, office: office, client: s.clientID,
                                                date: time.moment(s.startedAt).localDate.iso,
                                                dialogID: s.dialogID, foundWork: found, changes: said, changed: changed))
        }
        let counts = byOffice.keys.sorted().compactMap { row in
            byOffice[row].map {
                MonthlyReport.Counts(office: row.office, counselor: row.counselor, consultations: $0.consultations, clients: $0.clients.count,
                                     foundWork: $0.found.count)
            }
        }
        // The follow-up list office by office (a client number means something only in its office).
        let ordered = changes.enumerated().sorted { ($0.element.office, $0.offset) < ($1.element.office, $1.offset) }.map(\.element)
        self.init(counts: counts, changes: ordered)
    }
}
