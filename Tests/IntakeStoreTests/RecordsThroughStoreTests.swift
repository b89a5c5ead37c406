import Foundation
import IntakeEngine
import IntakeRecords
import IntakeRuntime
import Testing
@testable import IntakeStore

/// What is made from records reads them only through the `Store` protocol: a record comes back as
/// it was written (its members in order, so `records show` and `export` print the stored bytes),
/// and the monthly report is the same through any store.
@Suite struct RecordsThroughStoreTests {
    typealias C = StoreConformanceTests

    /// A record as the engine writes one: members in the dialog's order, not sorted.
    static let record: JSON = .object([
        ("dialog", .object([("id", .string("intake")), ("version", .string("1"))])),
        ("status", .string("complete")),
        ("locale", .string("ja")),
        ("answers", .object([("consent", .object([("agree", .bool(true))])),
                             ("basic", .object([("name", .string("山田 花子")), ("age", .int(31)), ("children", .array([.object([("age", .int(4))])]))]))])),
        ("computed", .object([])),
        ("notes", .array([.object([("text", .string("本人は前向き\u{202E}")), ("at", .string("2026-11-18T10:00:00+09:00"))])])),
    ])

    @Test(arguments: StoreKind.all) func aRecordReadsBackAsWrittenMembersInOrder(_ kind: StoreKind) async throws {
        try await C.with(kind) { s in
            let store = s.store
            try await store.create(C.info("r-1", client: "9"), first: C.start(), token: C.token(31))
            try await store.append([C.answer(1, "name", .text("山田 花子"))], to: "r-1", status: .complete, locale: "ja",
                                   record: Self.record, at: C.at(5).epochMillis)
            let read = try #require(try await store.record(of: "r-1"))
            #expect(read == Self.record)
            #expect(read.rendered() == Self.record.rendered())
        }
    }

    @Test(arguments: StoreKind.all) func manyRecordsReadTogetherComeBackEachAtItsSessionsPlace(_ kind: StoreKind) async throws {
        try await C.with(kind) { s in
            let store = s.store
            var ids: [String] = []
            for i in 0..<20 {
                let id = "m-\(i)"
                ids.append(id)
                try await store.create(C.info(id), first: C.start(), token: C.token(UInt8(100 + i)))
                // Every third session is still in progress: no record.
                let record: JSON? = i % 3 == 0 ? nil : .object([("n", .int(i)), ("a", .string("\(i)"))])
                try await store.append([C.answer(1, "q", .int(i))], to: id, status: record == nil ? .inProgress : .complete, locale: "ja",
                                       record: record, at: C.at(1).epochMillis)
            }
            let read = await store.records(of: ids + ["nobody"], overlapping: 4)
            #expect(read.count == 21)
            for (i, result) in read.enumerated() {
                let expected: JSON? = i == 20 || i % 3 == 0 ? nil : .object([("n", .int(i)), ("a", .string("\(i)"))])
                #expect(try result.get() == expected)
            }
        }
    }

    /// The bytes `records show` printed before the commands went through the protocol (the stored
    /// text) are the bytes it prints now (the record read through the protocol, rendered).
    @Test func theSQLiteStoreGivesTheStoredTextByteForByte() async throws {
        let db = try IntakeDatabase.inMemory()
        try await db.store.create(C.info("r-2"), first: C.start(), token: C.token(32))
        try await db.store.append([C.answer(1, "name", .text("山田 花子"))], to: "r-2", status: .complete, locale: "ja",
                                  record: Self.record, at: C.at(5).epochMillis)
        let stored = try #require(try db.record(of: "r-2"))
        #expect(try await db.store.record(of: "r-2")?.rendered() == stored)
    }

    @Test(arguments: StoreKind.all) func theMonthlyReportThroughAStoreLeavesOutAbandonedSessionsAndOtherMonths(_ kind: StoreKind) async throws {
        try await C.with(kind) { s in
            let store = s.store
            // November 2026 (JST) from t0 (2026-11-18): A twice (one a follow-up that found work), B once,
            // one session started and left before any answer; one in December.
            // Whole records (the report reads them as records: a document that is not one is damaged).
            func complete(_ dialog: String, _ answers: [RecordMember] = []) -> JSON {
                IntakeRecord(dialog: IntakeRecord.DialogRef(id: dialog, version: "1"), status: "complete", locale: "ja", mode: "counselor",
                             started: "2026-11-18T10:00:00+09:00", answers: RecordAnswers(answers)).json
            }
            let followup = complete("followup", [RecordMember("followup", .section(RecordAnswers([
                RecordMember("found_work", .value(.bool(true))), RecordMember("changes", .value(.string("moved"))),
            ])))])
            let plan: [(id: String, client: String, dialog: String, minutes: Int64, record: JSON?)] = [
                ("a1", "A", "intake", 0, complete("intake")),
                ("b1", "B", "intake", 60, nil),
                ("f1", "A", "followup", 120, followup),
                ("d1", "D", "intake", 60 * 24 * 14, nil),
            ]
            for (i, p) in plan.enumerated() {
                try await store.create(C.info(p.id, client: p.client, dialog: p.dialog, minutes: p.minutes), first: C.start(minutes: p.minutes),
                                       token: C.token(UInt8(40 + i)))
                try await store.append([C.answer(1, "q", .int(1), minutes: p.minutes)], to: p.id, status: p.record == nil ? .suspended : .complete,
                                       locale: "ja", record: p.record, at: C.at(p.minutes).epochMillis)
            }
            try await store.create(C.info("x1", client: "X", minutes: 30), first: C.start(minutes: 30), token: C.token(50))
            let report = try await MonthlyReport.make(from: store, year: 2026, month: 11)
            #expect(report.counts == [MonthlyReport.Counts(office: "川越", consultations: 3, clients: 2, foundWork: 1)])
            #expect(report.changes == [MonthlyReport.Change(session: "f1", office: "川越", client: "A", date: "2026-11-18", dialogID: "followup",
                                                            foundWork: true, changes: "moved")])
            let december = try await MonthlyReport.make(from: store, year: 2026, month: 12)
            #expect(december.counts == [MonthlyReport.Counts(office: "川越", consultations: 1, clients: 1, foundWork: 0)])
        }
    }

    /// A stored document that does not read as a record (a fragment, another program's JSON) is a
    /// damaged record to the report, named, not a follow-up counted from whatever keys it has.
    @Test(arguments: StoreKind.all) func aStoredDocumentThatIsNotARecordRefusesTheReport(_ kind: StoreKind) async throws {
        try await C.with(kind) { s in
            try await s.store.create(C.info("a1", client: "A", dialog: "followup", minutes: 0), first: C.start(minutes: 0), token: C.token(60))
            let fragment: JSON = .object([("status", .string("complete")), ("answers", .object([("followup", .object([("found_work", .bool(true))]))]))])
            try await s.store.append([C.answer(1, "q", .int(1), minutes: 0)], to: "a1", status: .complete, locale: "ja", record: fragment,
                                     at: C.at(0).epochMillis)
            await #expect(throws: RuntimeError.damaged(session: "a1")) { try await MonthlyReport.make(from: s.store, year: 2026, month: 11) }
        }
    }
}
