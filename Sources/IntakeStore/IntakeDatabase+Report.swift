import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime

/// The monthly counts a counselor reports (DOMAIN.md): consultations as 延べ件数 (all of them) and
/// 実件数 (distinct clients), and 就業件数 (clients who found work, from follow-up records), per office;
/// with the list of follow-ups and what changed. Sessions abandoned before any answer are not
/// consultations and are not counted.
public struct MonthlyReport: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        public var office: String
        /// 延べ件数: every consultation held in the month.
        public var consultations: Int
        /// 実件数: distinct clients (a consultation without a client number counts as one client).
        public var clients: Int
        /// 就業件数: distinct clients whose follow-up in the month says they found work.
        public var foundWork: Int
    }

    public struct Change: Sendable, Equatable {
        public var session: String
        public var client: String?
        public var date: String
        public var dialogID: String
        public var foundWork: Bool?
        /// What she said changed, in her words (the follow-up's free text).
        public var changes: String?
        /// At a later visit: every answer that differs from her last record.
        public var changed: [Changed] = []
    }

    /// One answer that differs from the last record (values as in the records: `null` when there was none).
    public struct Changed: Sendable, Equatable {
        public var question: String
        public var before: JSON
        public var after: JSON
    }

    public var counts: [Counts]
    public var changes: [Change]
}

extension IntakeDatabase {
    /// The report for the month of `year`/`month` in the office's time zone (`utcOffsetMinutes`).
    public func monthlyReport(year: Int, month: Int, utcOffsetMinutes: Int = 540) throws -> MonthlyReport {
        guard let first = CivilDate(year: year, month: month, day: 1),
              let next = month == 12 ? CivilDate(year: year + 1, month: 1, day: 1) : CivilDate(year: year, month: month + 1, day: 1) else {
            return MonthlyReport(counts: [], changes: [])
        }
        func start(_ d: CivilDate) -> Int64 { (Int64(d.daysSinceEpoch) * 86_400 - Int64(utcOffsetMinutes) * 60) * 1000 }
        // A session abandoned before any answer was not a consultation.
        let abandoned = try abandonedSessions(startedFrom: start(first), to: start(next))
        let sessions = try self.sessions(from: start(first), to: start(next)).filter { !abandoned.contains($0.id) }
            .sorted { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
        var byOffice: [String: (consultations: Int, clients: Set<String>, found: Set<String>)] = [:]
        var changes: [MonthlyReport.Change] = []
        for s in sessions {
            let office = s.office ?? "-"
            let client = s.clientID ?? "session:" + s.id
            byOffice[office, default: (0, [], [])].consultations += 1
            byOffice[office, default: (0, [], [])].clients.insert(client)
            guard let text = try record(of: s.id),
                  let record = try? JSONDecoder().decode(JSON.self, from: Data(text.utf8)),
                  s.dialogID == "followup" || record["visit"] != nil else { continue }
            var changed: [MonthlyReport.Changed] = []
            if case .array(let list)? = record["visit"]?["changes"] {
                for c in list {
                    guard case .string(let q)? = c["question"] else { continue }
                    changed.append(MonthlyReport.Changed(question: q, before: c["before"] ?? .null, after: c["after"] ?? .null))
                }
            }
            let answers = record["answers"]?["followup"]
            let found: Bool? = { if case .bool(let b)? = answers?["found_work"] { return b } else { return nil } }()
            if found == true { byOffice[office, default: (0, [], [])].found.insert(client) }
            let said: String? = { if case .string(let t)? = answers?["changes"] { return t } else { return nil } }()
            changes.append(MonthlyReport.Change(session: s.id, client: s.clientID,
                                                date: Moment(epochMillis: s.startedAt, utcOffsetMinutes: utcOffsetMinutes).localDate.iso,
                                                dialogID: s.dialogID, foundWork: found, changes: said, changed: changed))
        }
        let counts = byOffice.keys.sorted().compactMap { office in
            byOffice[office].map { MonthlyReport.Counts(office: office, consultations: $0.consultations, clients: $0.clients.count, foundWork: $0.found.count) }
        }
        return MonthlyReport(counts: counts, changes: changes)
    }
}
