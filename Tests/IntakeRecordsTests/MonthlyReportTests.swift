import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeRuntime
import Testing

/// The monthly report as a pure function of the sessions, the abandoned ones and the records: no
/// store, the same counts and list a counselor reads.
@Suite struct MonthlyReportComputationTests {
    /// Epoch ms of a local (JST) day and time.
    static func jst(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 10, _ minute: Int = 0) -> Int64 {
        let date = CivilDate(year: year, month: month, day: day) ?? CivilDate(daysSinceEpoch: 0)
        return (Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60) - 9 * 3600) * 1000
    }

    static func session(_ id: String, client: String?, office: String?, dialog: String = "intake", at: Int64,
                        status: SessionInfo.Status = .complete) -> SessionInfo {
        SessionInfo(id: id, clientID: client, dialogID: dialog, dialogVersion: "1.0.0", mode: .counselor, locale: "ja",
                    status: status, startedAt: at, updatedAt: at, counselor: "佐藤", office: office)
    }

    static func followup(found: Bool?, said: String?) throws -> IntakeRecord {
        var answers: [(String, JSON)] = []
        if let found { answers.append(("found_work", .bool(found))) }
        if let said { answers.append(("changes", .string(said))) }
        return try CSVExportTests.completed(.object([("status", .string("complete")), ("answers", .object([("followup", .object(answers))]))]))
    }

    @Test func consultationsClientsAndFoundWorkPerOfficeInTheOfficesMonth() throws {
        let sessions = [
            Self.session("a1", client: "A", office: "川越", at: Self.jst(2026, 11, 1, 0, 0)),       // first minute of November (JST)
            Self.session("a2", client: "A", office: "川越", at: Self.jst(2026, 11, 2)),
            Self.session("b1", client: "B", office: "川越", at: Self.jst(2026, 11, 3), status: .suspended),
            Self.session("n1", client: nil, office: "川越", at: Self.jst(2026, 11, 4)),              // no client number: one client
            Self.session("n2", client: nil, office: nil, at: Self.jst(2026, 11, 5)),                 // no office: "-"
            Self.session("x1", client: "X", office: "川越", at: Self.jst(2026, 11, 6)),              // abandoned before any answer
            Self.session("o1", client: "C", office: "所沢", at: Self.jst(2026, 10, 31, 23, 59)),     // October (JST), November in UTC
            Self.session("d1", client: "D", office: "所沢", at: Self.jst(2026, 12, 1, 0, 0)),        // December
            Self.session("f1", client: "A", office: "川越", dialog: "followup", at: Self.jst(2026, 11, 26)),
            Self.session("f2", client: "B", office: "川越", dialog: "followup", at: Self.jst(2026, 11, 27)),
        ]
        let records: [String: IntakeRecord] = [
            "a1": try CSVExportTests.completed(.object([("status", .string("complete"))])),
            "f1": try Self.followup(found: true, said: "moved house"),
            "f2": try Self.followup(found: false, said: nil),
            "x1": try Self.followup(found: true, said: "never counted"),
        ]
        let report = MonthlyReport(year: 2026, month: 11, sessions: sessions, abandoned: ["x1"], records: records)
        #expect(report.counts == [
            MonthlyReport.Counts(office: "-", consultations: 1, clients: 1, foundWork: 0),
            MonthlyReport.Counts(office: "川越", consultations: 6, clients: 3, foundWork: 1),
        ])
        #expect(report.changes == [
            MonthlyReport.Change(session: "f1", office: "川越", client: "A", date: "2026-11-26", dialogID: "followup", foundWork: true, changes: "moved house"),
            MonthlyReport.Change(session: "f2", office: "川越", client: "B", date: "2026-11-27", dialogID: "followup", foundWork: false, changes: nil),
        ])
        let october = MonthlyReport(year: 2026, month: 10, sessions: sessions, abandoned: ["x1"], records: records)
        #expect(october.counts == [MonthlyReport.Counts(office: "所沢", consultations: 1, clients: 1, foundWork: 0)])
        #expect(october.changes.isEmpty)
        let december = MonthlyReport(year: 2026, month: 12, sessions: sessions, abandoned: [], records: records)
        #expect(december.counts == [MonthlyReport.Counts(office: "所沢", consultations: 1, clients: 1, foundWork: 0)])
    }

    @Test func aLaterVisitListsEveryAnswerThatChangedInTheOrderOfTheVisits() throws {
        // (A change without a question or a before is no longer a record: `IntakeRecord(json:)` refuses it.)
        let visit = try CSVExportTests.completed(.object([
            ("status", .string("complete")),
            ("visit", .object([("previous", .string("a1")), ("sections", .object([])), ("changes", .array([
                .object([("question", .string("family.children")), ("before", .int(1)), ("after", .int(2))]),
                .object([("question", .string("work.hours")), ("before", .null), ("after", .string("20"))]),
            ]))])),
        ]))
        let sessions = [
            Self.session("v2", client: "A", office: "川越", at: Self.jst(2026, 11, 20)),
            Self.session("v1", client: "A", office: "川越", at: Self.jst(2026, 11, 10)),
        ]
        let report = MonthlyReport(year: 2026, month: 11, sessions: sessions, abandoned: [], records: ["v1": visit, "v2": visit])
        let changed = [MonthlyReport.Changed(question: "family.children", before: .value(.int(1)), after: .value(.int(2))),
                       MonthlyReport.Changed(question: "work.hours", before: .value(.null), after: .value(.string("20")))]
        #expect(report.changes == [
            MonthlyReport.Change(session: "v1", office: "川越", client: "A", date: "2026-11-10", dialogID: "intake", foundWork: nil, changes: nil, changed: changed),
            MonthlyReport.Change(session: "v2", office: "川越", client: "A", date: "2026-11-20", dialogID: "intake", foundWork: nil, changes: nil, changed: changed),
        ])
        #expect(report.counts == [MonthlyReport.Counts(office: "川越", consultations: 2, clients: 1, foundWork: 0)])
    }

    @Test func twoOfficesClientOfTheSameNumberAreCountedAndListedApart() throws {
        // Client "A" of さいたま and client "A" of 川越 are two people: one client each, and only
        // 川越's found work. The follow-up list is office by office.
        let sessions = [
            Self.session("k1", client: "A", office: "川越", at: Self.jst(2026, 11, 2)),
            Self.session("s1", client: "A", office: "さいたま", at: Self.jst(2026, 11, 3)),
            Self.session("kf", client: "A", office: "川越", dialog: "followup", at: Self.jst(2026, 11, 20)),
            Self.session("sf", client: "A", office: "さいたま", dialog: "followup", at: Self.jst(2026, 11, 21)),
        ]
        let records: [String: IntakeRecord] = ["kf": try Self.followup(found: true, said: nil), "sf": try Self.followup(found: false, said: nil)]
        let report = MonthlyReport(year: 2026, month: 11, sessions: sessions, abandoned: [], records: records)
        #expect(report.counts == [
            MonthlyReport.Counts(office: "さいたま", consultations: 2, clients: 1, foundWork: 0),
            MonthlyReport.Counts(office: "川越", consultations: 2, clients: 1, foundWork: 1),
        ])
        #expect(report.changes.map { "\($0.office) \($0.client ?? "") \($0.foundWork == true)" } == ["さいたま A false", "川越 A true"])
    }

    @Test func aMonthThatDoesNotExistIsAnEmptyReport() {
        let sessions = [Self.session("a1", client: "A", office: "川越", at: Self.jst(2026, 11, 1))]
        #expect(MonthlyReport(year: 2026, month: 13, sessions: sessions, abandoned: [], records: [:]) == MonthlyReport(counts: [], changes: []))
        #expect(MonthlyReport.bounds(year: 2026, month: 0, utcOffsetMinutes: 540) == nil)
        let bounds = MonthlyReport.bounds(year: 2026, month: 12, utcOffsetMinutes: 540)
        #expect(bounds?.from == Self.jst(2026, 12, 1, 0, 0))
        #expect(bounds?.to == Self.jst(2027, 1, 1, 0, 0))
    }
}

/// Which unfinished sessions were abandoned before the first real answer, from their logs.
@Suite struct AbandonedBeforeTheFirstRealAnswerTests {
    static let dialog = CSVExportTests.project.dialogs["intake"]

    static func entry(_ seq: Int, _ event: LogEvent, _ answers: [(String, Answer)] = []) -> LogEntry {
        LogEntry(seq: seq, at: Moment(epochMillis: Int64(seq) * 1000), actor: .client, event: event,
                 answers: answers.isEmpty ? nil : answers.map { AnswerChange(path: Path($0.0, []), entry: AnswerEntry($0.1, at: 0)) })
    }

    static let start = entry(0, .start(dialog: "intake", version: "1.0.0", locale: "ja", mode: .kiosk))

    @Test func theConsentGateIsWhatComesBeforeTheDialogsFirstEnd() throws {
        #expect(MonthlyReport.consentGate(of: try #require(Self.dialog)) == ["consent_record"])
        // A dialog without an end has no gate.
        #expect(MonthlyReport.consentGate(of: try #require(CSVExportTests.project.dialogs["followup"])) == [])
    }

    @Test func onlyAnAnswerBeyondTheConsentGateMakesAConsultation() throws {
        let dialog = try #require(Self.dialog)
        // Pressed start and left; said yes to recording and left; suspended and resumed without a word.
        #expect(MonthlyReport.isAbandoned([Self.start], dialog: dialog))
        #expect(MonthlyReport.isAbandoned([Self.start, Self.entry(1, .input(.answer("はい")), [("consent_record", .value(.bool(true)))])], dialog: dialog))
        #expect(MonthlyReport.isAbandoned([Self.start, Self.entry(1, .input(.answer("はい")), [("consent_record", .value(.bool(true)))]),
                                           Self.entry(2, .suspend), Self.entry(3, .resume(mode: .kiosk))], dialog: dialog))
        // An optional question left empty is not an answer given.
        #expect(MonthlyReport.isAbandoned([Self.start, Self.entry(1, .input(.skip), [("phone", .skipped)])], dialog: dialog))
        // Answers brought forward from her last record (the start) or carried to a new version are not hers today.
        let carried = LogEntry(seq: 0, at: Moment(epochMillis: 0), actor: .client, event: Self.start.event,
                               answers: [AnswerChange(path: Path("name", []), entry: AnswerEntry(.value(.text("花子")), at: 0))])
        #expect(MonthlyReport.isAbandoned([carried, Self.entry(1, .migrate(from: "0.9", to: "1.0.0"), [("name", .value(.text("花子")))])], dialog: dialog))
        // The next answer is real, and so is 答えない.
        #expect(!MonthlyReport.isAbandoned([Self.start, Self.entry(1, .input(.answer("はい")), [("consent_record", .value(.bool(true)))]),
                                            Self.entry(2, .input(.answer("はい")), [("share_counselors", .value(.bool(true)))])], dialog: dialog))
        #expect(!MonthlyReport.isAbandoned([Self.start, Self.entry(1, .input(.decline), [("share_outside", .declined)])], dialog: dialog))
        // Without its dialog, any answer counts (as before).
        #expect(!MonthlyReport.isAbandoned([Self.start, Self.entry(1, .input(.answer("はい")), [("consent_record", .value(.bool(true)))])], dialog: nil))
    }
}
