import IntakeEngine
import IntakeRuntime

/// The monthly counts a counselor reports (DOMAIN.md): consultations as 延べ件数 (all of them) and
/// 実件数 (distinct clients), and 就業件数 (clients who found work, from follow-up records), per office;
/// with the list of follow-ups and what changed. Sessions abandoned before any answer are not
/// consultations and are not counted.
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

    /// One answer that differs from the last record (values as in the records: `null` when there was none).
    public struct Changed: Sendable, Equatable {
        public var question: String
        public var before: JSON
        public var after: JSON

        public init(question: String, before: JSON, after: JSON) {
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
        guard let first = CivilDate(year: year, month: month, day: 1),
              let next = month == 12 ? CivilDate(year: year + 1, month: 1, day: 1) : CivilDate(year: year, month: month + 1, day: 1) else {
            return nil
        }
        func start(_ d: CivilDate) -> Int64 { (Int64(d.daysSinceEpoch) * 86_400 - Int64(utcOffsetMinutes) * 60) * 1000 }
        return (start(first), start(next))
    }

    /// The report for the month of `year`/`month` in the office's time zone, read from `store`:
    /// its sessions started in the month, those abandoned before any answer, and the records of the
    /// others. A damaged session (in the listing, or its record) refuses the whole report
    /// (`StoreError.damagedSessions`, `RuntimeError.damaged`): its counts would be wrong.
    /// `office`: that office's counts and list only (nil: every office, the prefecture's view).
    public static func make(from store: any Store, year: Int, month: Int, office: String? = nil, perCounselor: Bool = false,
                            utcOffsetMinutes: Int = 540) async throws -> MonthlyReport {
        guard let (from, to) = bounds(year: year, month: month, utcOffsetMinutes: utcOffsetMinutes) else {
            return MonthlyReport(counts: [], changes: [])
        }
        // A session abandoned before any answer was not a consultation.
        let abandoned = try await store.abandonedSessions(startedFrom: from, to: to)
        let sessions = try await store.sessions(SessionFilter(from: from, to: to, office: office))
        // Every consultation's record is read (a damaged one refuses the report, the oldest named
        // first), in the order the report counts them.
        let counted = sessions.filter { !abandoned.contains($0.id) }.sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }.map(\.id)
        var records: [String: JSON] = [:]
        for (id, result) in zip(counted, await store.records(of: counted)) {
            if let record = try result.get() { records[id] = record }
        }
        return MonthlyReport(year: year, month: month, utcOffsetMinutes: utcOffsetMinutes, sessions: sessions, abandoned: abandoned,
                             records: records, perCounselor: perCounselor)
    }

    /// The report for the month of `year`/`month` in the office's time zone, from `sessions` (those
    /// not started in the month are left out), the ids of those `abandoned` before any answer, and
    /// the finished sessions' `records` by session id. A pure function: the same data, the same report.
    /// `perCounselor`: a row per office and counselor (who took the consultation), not per office.
    public init(year: Int, month: Int, utcOffsetMinutes: Int = 540, sessions: [SessionInfo], abandoned: Set<String>,
                records: [String: JSON], perCounselor: Bool = false) {
        guard let (from, to) = Self.bounds(year: year, month: month, utcOffsetMinutes: utcOffsetMinutes) else {
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
            guard let record = records[s.id], s.dialogID == "followup" || record["visit"] != nil else { continue }
            var changed: [MonthlyReport.Changed] = []
            if case .array(let list)? = record["visit"]?["changes"] {
                for c in list {
                    guard case .string(let q)? = c["question"] else { continue }
                    changed.append(MonthlyReport.Changed(question: q, before: c["before"] ?? .null, after: c["after"] ?? .null))
                }
            }
            let answers = record["answers"]?["followup"]
            let found: Bool? = { if case .bool(let b)? = answers?["found_work"] { return b } else { return nil } }()
            if found == true { byOffice[row, default: (0, [], [])].found.insert(client) }
            let said: String? = { if case .string(let t)? = answers?["changes"] { return t } else { return nil } }()
            changes.append(MonthlyReport.Change(session: s.id, office: office, client: s.clientID,
                                                date: Moment(epochMillis: s.startedAt, utcOffsetMinutes: utcOffsetMinutes).localDate.iso,
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
