import Foundation
import IntakeDialogs
import IntakeEngine
@testable import IntakeRuntime
import IntakeStore
import Testing

/// One suite, every store (`StoreKind.all`): every operation of the `Store` protocol, the
/// durability contract and the lease among them, so that SQLite and PostgreSQL can never drift.
/// What is asserted is what a counselor, a kiosk or a command would see through the protocol.
@Suite struct StoreConformanceTests {
    static let t0: Int64 = 1_795_000_000_000  // 2026-11-18 in epoch ms

    static func at(_ minutes: Int64) -> Moment { Moment(epochMillis: t0 + minutes * 60_000, utcOffsetMinutes: 540) }

    static func info(_ id: String, client: String? = nil, office: String? = "川越", counselor: String? = nil,
                     dialog: String = "intake", minutes: Int64 = 0) -> SessionInfo {
        SessionInfo(id: id, clientID: client, dialogID: dialog, dialogVersion: "1", mode: counselor == nil ? .kiosk : .counselor,
                    locale: "ja", status: .inProgress, startedAt: at(minutes).epochMillis, updatedAt: at(minutes).epochMillis,
                    counselor: counselor, office: office)
    }

    static func start(minutes: Int64 = 0, counselor: String? = nil) -> LogEntry {
        LogEntry(seq: 0, at: at(minutes), actor: counselor.map(Actor.counselor) ?? .client,
                 event: .start(dialog: "intake", version: "1", locale: "ja", mode: counselor == nil ? .kiosk : .counselor))
    }

    /// An answer entry: the input as typed, and the answer it set.
    static func answer(_ seq: Int, _ question: String, _ value: Value, minutes: Int64 = 1) -> LogEntry {
        LogEntry(seq: seq, at: at(minutes), actor: .client, event: .input(.value(value)),
                 answers: [AnswerChange(path: Path(question), entry: AnswerEntry(.value(value), at: at(minutes).epochMillis))])
    }

    static func token(_ n: UInt8) -> ResumeToken { ResumeToken(bytes: Array(repeating: n, count: 16)) }

    /// Runs `body` against a fresh store of `kind`, failing clearly when the store cannot run here
    /// and is required.
    static func with(_ kind: StoreKind, _ body: (StoreUnderTest) async throws -> Void) async throws {
        if let reason = kind.unavailable {
            if kind.required { Issue.record("\(kind.name) is required here but unavailable: \(reason)") }
            return
        }
        let s = try await kind.make()
        do {
            try await body(s)
        } catch {
            await s.cleanup()
            throw error
        }
        await s.cleanup()
    }

    @Test(arguments: StoreKind.all) func aSessionAndItsLogComeBackAsWritten(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            #expect(!store.instance.isEmpty)
            let info = Self.info("s-1", client: "1024")
            try await store.create(info, first: Self.start(), token: Self.token(1))
            let entries = [Self.answer(1, "found_work", .bool(false)), Self.answer(2, "name", .text("山田 花子"), minutes: 2)]
            try await store.append(entries, to: "s-1", status: .inProgress, locale: "en", record: nil, at: Self.at(2).epochMillis)
            #expect(try await store.log(of: "s-1") == [Self.start()] + entries)
            let read = try #require(try await store.session("s-1"))
            #expect(read.locale == "en")
            #expect(read.updatedAt == Self.at(2).epochMillis)
            #expect(read.clientID == "1024" && read.office == "川越" && read.mode == .kiosk && read.status == .inProgress)
            #expect(try await store.session(resuming: Self.token(1))?.id == "s-1")
            #expect(try await store.session(resuming: Self.token(2)) == nil)
            #expect(try await store.holder(of: "s-1") == store.instance)
            // What is not there is nothing, not an error.
            #expect(try await store.session("nope") == nil)
            #expect(try await store.log(of: "nope") == [])
            #expect(try await store.record(of: "nope") == nil)
            #expect(try await store.holder(of: "nope") == nil)
        }
    }

    @Test(arguments: StoreKind.all) func aFinishedSessionKeepsItsRecordAndTheClientsVisitsComeNewestFirst(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            for (i, minutes) in [(1, Int64(0)), (2, 60), (3, 120)] {
                try await store.create(Self.info("v-\(i)", client: "77", minutes: minutes), first: Self.start(minutes: minutes), token: Self.token(UInt8(10 + i)))
            }
            let record: JSON = .object([("answers", .object([("basic", .object([("name", .string("山田 花子"))]))]))])
            try await store.append([Self.answer(1, "name", .text("山田 花子"))], to: "v-1", status: .complete, locale: "ja", record: record, at: Self.at(5).epochMillis)
            try await store.append([Self.answer(1, "name", .text("山田"))], to: "v-2", status: .complete, locale: "ja", record: .object([("n", .int(2))]), at: Self.at(65).epochMillis)
            // v-3 is still in progress: not a record.
            #expect(try await store.record(of: "v-1") == record)
            #expect(try await store.record(of: "v-3") == nil)
            #expect(try await store.session("v-1")?.status == .complete)
            let visits = try await store.records(ofClient: ClientKey(office: "川越", number: "77"))
            #expect(visits.map(\.session.id) == ["v-2", "v-1"])
            #expect(visits.last?.record == record)
            #expect(try await store.records(ofClient: ClientKey(office: "川越", number: "78")).isEmpty)
        }
    }

    /// A whole record holding `answers` (a later visit reads it as a record: a fragment is damaged).
    static func whole(_ answers: [(String, JSON)]) -> JSON {
        .object([("dialog", .object([("id", .string("intake")), ("version", .string("1"))])), ("status", .string("complete")),
                 ("locale", .string("ja")), ("mode", .string("counselor")), ("started", .string("2026-11-18T10:00:00+09:00")),
                 ("answers", .object(answers)), ("computed", .object([])), ("declined", .array([])), ("skipped", .array([])),
                 ("warnings", .array([])), ("suggestions", .array([])), ("notes", .array([]))])
    }

    @Test(arguments: StoreKind.all) func twoOfficesClientsOfTheSameNumberAreTwoPeople(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            let followup = try #require(StoreTestProject.project.dialogs["followup"])
            // Client "1024" of 川越 and client "1024" of さいたま, and a "1024" of no named office:
            // each with her own intake, then a follow-up started in each office.
            let people: [(id: String, office: String?, area: String, days: Int)] =
                [("k", "川越", "川越市", 5), ("s", "さいたま", "さいたま市", 2), ("n", nil, "所沢市", 3)]
            for (i, p) in people.enumerated() {
                try await store.create(Self.info("\(p.id)-intake", client: "1024", office: p.office, minutes: Int64(i)),
                                       first: Self.start(minutes: Int64(i)), token: Self.token(UInt8(60 + i)))
                let record = Self.whole([("wishes", .object([("days_per_week", .int(p.days)), ("area", .string(p.area))]))])
                try await store.append([Self.answer(1, "area", .text(p.area), minutes: Int64(i) + 1)], to: "\(p.id)-intake", status: .complete,
                                       locale: "ja", record: record, at: Self.at(Int64(i) + 1).epochMillis)
            }
            for p in people {
                let key = ClientKey(office: p.office, number: "1024")
                #expect(try await store.records(ofClient: key).map(\.session.id) == ["\(p.id)-intake"])
                let carried = try #require(try await store.carried(forClient: key, into: followup))
                #expect(carried.previous == "\(p.id)-intake", "\(key): her own office's record, not the newest of any office")
                #expect(carried.answers[Path("area")] == .value(.text(p.area)))
                #expect(carried.answers[Path("days_per_week")] == .value(.int(p.days)))
            }
            #expect(try await store.records(ofClient: ClientKey(office: "所沢", number: "1024")).isEmpty)
            #expect(try await store.carried(forClient: ClientKey(office: "所沢", number: "1024"), into: followup) == nil)
            // A second visit in one office does not make the other's client her.
            try await store.create(Self.info("k-followup", client: "1024", office: "川越", minutes: 30), first: Self.start(minutes: 30), token: Self.token(70))
            try await store.append([Self.answer(1, "area", .text("川越市"), minutes: 31)], to: "k-followup", status: .complete, locale: "ja",
                                   record: Self.whole([("wishes", .object([("area", .string("川越市"))]))]),
                                   at: Self.at(31).epochMillis)
            #expect(try await store.records(ofClient: ClientKey(office: "川越", number: "1024")).map(\.session.id) == ["k-followup", "k-intake"])
            #expect(try await store.records(ofClient: ClientKey(office: "さいたま", number: "1024")).map(\.session.id) == ["s-intake"])
            #expect(try await store.verify().damaged.isEmpty)
        }
    }

    @Test(arguments: StoreKind.all) func listsFilterAndComeNewestFirst(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("a", client: "1", office: "川越", counselor: "佐藤", minutes: 0), first: Self.start(counselor: "佐藤"), token: Self.token(21))
            try await store.create(Self.info("b", client: "2", office: "さいたま", minutes: 10), first: Self.start(minutes: 10), token: Self.token(22))
            try await store.create(Self.info("c", client: "1", office: "川越", minutes: 20), first: Self.start(minutes: 20), token: Self.token(23))
            try await store.append([LogEntry(seq: 1, at: Self.at(21), actor: .client, event: .suspend)], to: "c", status: .suspended, locale: "ja",
                                   record: nil, at: Self.at(21).epochMillis)
            #expect(try await store.sessions().map(\.id) == ["c", "b", "a"])
            #expect(try await store.sessions(SessionFilter(status: .suspended)).map(\.id) == ["c"])
            #expect(try await store.sessions(SessionFilter(from: Self.at(5).epochMillis, to: Self.at(20).epochMillis)).map(\.id) == ["b"])
            #expect(try await store.sessions(SessionFilter(counselor: "佐藤")).map(\.id) == ["a"])
            #expect(try await store.sessions(SessionFilter(office: "川越")).map(\.id) == ["c", "a"])
            #expect(try await store.sessions(SessionFilter(client: "1")).map(\.id) == ["c", "a"])
            #expect(try await store.listSessions(.all).damaged == [])
        }
    }

    @Test(arguments: StoreKind.all) func entriesRunInOrderAndTheDialogVersionMoves(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("o"), first: Self.start(), token: Self.token(31))
            try await store.append([Self.answer(1, "q", .int(1))], to: "o", status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
            await #expect(throws: StoreError.outOfOrder(session: "o")) {
                try await store.append([Self.answer(1, "q", .int(2))], to: "o", status: .inProgress, locale: "ja", record: nil, at: Self.at(2).epochMillis)
            }
            #expect(try await store.log(of: "o").count == 2, "the refused entry wrote nothing")
            try await store.setDialogVersion("2", of: "o")
            #expect(try await store.session("o")?.dialogVersion == "2")
            #expect(try await store.log(of: "o").count == 2)
        }
    }

    /// The durability contract as another process sees it: once a call returned, a second opening of
    /// the database reads what it wrote; and concurrent sessions' appends all land.
    @Test(arguments: StoreKind.all) func whatAReturnedCallWroteIsThereForEveryOtherOpening(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            let n = 40
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<n {
                    group.addTask {
                        try await store.create(Self.info("c-\(i)"), first: Self.start(), token: Self.token(UInt8(100 + i)))
                        for seq in 1...5 {
                            try await store.append([Self.answer(seq, "q\(seq)", .int(seq))], to: "c-\(i)", status: .inProgress, locale: "ja",
                                                   record: nil, at: Self.at(Int64(seq)).epochMillis)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let other = try await s.reopen()
            #expect(other.instance != store.instance)
            #expect(try await other.sessions().count == n)
            for i in 0..<n { #expect(try await other.log(of: "c-\(i)").count == 6) }
        }
    }

    /// A session is live on one instance: another instance that resumes it takes the lease, and the
    /// first one's next answer is refused (`takenOver`) with nothing written.
    @Test(arguments: StoreKind.all) func aResumeElsewhereTakesTheLeaseAndTheOldHolderIsRefused(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let first = s.store
            try await first.create(Self.info("l"), first: Self.start(), token: Self.token(41))
            try await first.append([Self.answer(1, "q", .int(1))], to: "l", status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
            let second = try await s.reopen()
            #expect(try await first.sessionsHeldElsewhere(["l"]) == [])
            try await second.append([LogEntry(seq: 2, at: Self.at(2), actor: .client, event: .resume(mode: .kiosk))], to: "l",
                                    status: .inProgress, locale: "ja", record: nil, at: Self.at(2).epochMillis)
            #expect(try await first.holder(of: "l") == second.instance)
            #expect(try await first.sessionsHeldElsewhere(["l", "nope"]) == ["l"])
            await #expect(throws: RuntimeError.takenOver) {
                try await first.append([Self.answer(3, "q", .int(9))], to: "l", status: .inProgress, locale: "ja", record: nil, at: Self.at(3).epochMillis)
            }
            try await second.append([Self.answer(3, "q", .int(3))], to: "l", status: .inProgress, locale: "ja", record: nil, at: Self.at(3).epochMillis)
            let log = try await second.log(of: "l")
            #expect(log.count == 4)
            #expect(log.last?.answers?.first?.entry?.answer == .value(.int(3)), "the refused answer was not written")
        }
    }

    /// A takeover racing the old holder's answers (a client resuming on another instance while her
    /// old connection still sends): every answer the old holder was told is stored is in the log
    /// before the resume entry, and none comes after it.
    @Test(arguments: StoreKind.all) func answersRacingATakeoverAreStoredBeforeItOrRefused(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let one = s.store, two = try await s.reopen()
            for n in 0..<8 {
                let id = "race-\(n)"
                try await one.create(Self.info(id), first: Self.start(), token: Self.token(UInt8(n)))
                let holder = Task { () -> [Int] in
                    var acknowledged: [Int] = []
                    for seq in 1...25 {
                        do {
                            try await one.append([Self.answer(seq, "q\(seq)", .int(seq))], to: id, status: .inProgress, locale: "ja",
                                                 record: nil, at: Self.t0 + Int64(seq))
                            acknowledged.append(seq)
                        } catch {
                            break
                        }
                    }
                    return acknowledged
                }
                // The resume comes after the newest entry it read; an answer landing meanwhile makes it try again.
                try await Task.sleep(for: .milliseconds(n % 4 * 3))
                var resumedAt: Int?
                for _ in 0..<200 where resumedAt == nil {
                    let seq = try await two.log(of: id).count
                    do {
                        try await two.append([LogEntry(seq: seq, at: Self.at(2), actor: .client, event: .resume(mode: .kiosk))], to: id,
                                             status: .inProgress, locale: "ja", record: nil, at: Self.at(2).epochMillis)
                        resumedAt = seq
                    } catch {
                        continue
                    }
                }
                let acknowledged = await holder.value
                let log = try await two.log(of: id)
                let resume = try #require(resumedAt)
                #expect(log.count >= resume + 1 && log[resume].event == .resume(mode: .kiosk), "\(id): the resume is where it was written")
                for seq in acknowledged {
                    #expect(seq < resume, "\(id): answer \(seq) acknowledged to the old holder after the takeover at \(resume)")
                    #expect(seq < log.count && log[seq].answers?.first?.path == Path("q\(seq)"), "\(id): acknowledged answer \(seq) is stored")
                }
                #expect(log.count == resume + 1, "\(id): nothing after the resume")
            }
        }
    }

    @Test(arguments: StoreKind.all) func deletionLeavesAnAuditEntryAndNothingOfTheData(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("d", client: "5"), first: Self.start(), token: Self.token(51))
            try await store.append([Self.answer(1, "name", .text("秘密の名前"))], to: "d", status: .complete, locale: "ja",
                                   record: .object([("name", .string("秘密の名前"))]), at: Self.at(1).epochMillis)
            #expect(try await store.deleteSession("d", by: .counselor("佐藤"), at: Self.at(10).epochMillis))
            #expect(try await store.session("d") == nil)
            #expect(try await store.log(of: "d") == [])
            #expect(try await store.record(of: "d") == nil)
            #expect(try await store.records(ofClient: ClientKey(office: "川越", number: "5")).isEmpty)
            #expect(try await store.session(resuming: Self.token(51)) == nil)
            let audit = try await store.audit()
            #expect(audit.map(\.action) == ["delete-session"])
            #expect(audit.first?.actor == "counselor:佐藤")
            #expect(audit.first?.at == Self.at(10).epochMillis)
            #expect(audit.allSatisfy { !$0.detail.contains("秘密") })
            #expect(try await store.deleteSession("d", by: .counselor("佐藤"), at: Self.at(11).epochMillis) == false)
        }
    }

    /// Sessions abandoned before any answer: found by last touch and by start, left out of nothing
    /// else, and purged with an audit entry.
    @Test(arguments: StoreKind.all) func sessionsAbandonedBeforeAnyAnswerAreFoundAndPurged(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("empty", minutes: 0), first: Self.start(), token: Self.token(61))
            try await store.create(Self.info("suspended-empty", minutes: 1), first: Self.start(minutes: 1), token: Self.token(62))
            try await store.append([LogEntry(seq: 1, at: Self.at(2), actor: .client, event: .suspend)], to: "suspended-empty",
                                   status: .suspended, locale: "ja", record: nil, at: Self.at(2).epochMillis)
            try await store.create(Self.info("answered", minutes: 3), first: Self.start(minutes: 3), token: Self.token(63))
            try await store.append([Self.answer(1, "q", .int(1), minutes: 4)], to: "answered", status: .inProgress, locale: "ja",
                                   record: nil, at: Self.at(4).epochMillis)
            #expect(try await store.abandonedSessions(updatedBefore: Self.at(100).epochMillis) == ["empty", "suspended-empty"])
            #expect(try await store.abandonedSessions(updatedBefore: Self.at(1).epochMillis) == ["empty"])
            #expect(try await store.abandonedSessions(startedFrom: Self.at(1).epochMillis, to: Self.at(10).epochMillis) == ["suspended-empty"])
            // Thirty days later, a 30-day purge takes the two; the answered one stays.
            let later = Self.at(31 * 24 * 60).epochMillis
            #expect(try await store.purgeAbandoned(olderThanDays: 30, by: .counselor("admin"), at: later) == 2)
            #expect(try await store.sessions().map(\.id) == ["answered"])
            #expect(try await store.audit().map(\.action) == ["purge-abandoned"])
            #expect(try await store.purgeAbandoned(olderThanDays: 30, by: .counselor("admin"), at: later) == 0)
        }
    }

    /// Damage is never data: an event edited behind the store's back makes its session damaged (its
    /// log refused, `verify` naming it), and every other session reads on.
    @Test(arguments: StoreKind.all) func anEditedEventIsDamageAndTheOthersReadOn(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            for id in ["ok", "hit"] {
                try await store.create(Self.info(id), first: Self.start(), token: Self.token(id == "ok" ? 71 : 72))
                try await store.append([Self.answer(1, "q", .int(1))], to: id, status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
            }
            try await store.checkStorage()
            let before = try await store.verify()
            #expect(before.intact.map(\.id).sorted() == ["hit", "ok"])
            #expect(before.intact.allSatisfy { $0.entries == 2 && $0.head.count == 64 })
            try await s.damageEvent("hit", 1)
            await #expect(throws: RuntimeError.damaged(session: "hit")) { try await store.log(of: "hit") }
            #expect(try await store.log(of: "ok").count == 2)
            let after = try await store.verify()
            #expect(after.intact.map(\.id) == ["ok"])
            #expect(after.damaged == ["hit"])
            // Its row is intact: it is listed; resuming it would read the log and be refused.
            #expect(try await store.sessions().count == 2)
        }
    }

    /// Entries cut off the end of a session's log behind the store's back: the next append — by
    /// the instance that wrote the entries, which may remember the row — is refused as damage, and
    /// nothing of it is written.
    @Test(arguments: StoreKind.all) func anAppendAfterEntriesWereCutOffIsRefusedAsDamage(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("cut"), first: Self.start(), token: Self.token(73))
            try await store.append([Self.answer(1, "q", .int(1))], to: "cut", status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
            try await store.append([Self.answer(2, "r", .int(2))], to: "cut", status: .inProgress, locale: "ja", record: nil, at: Self.at(2).epochMillis)
            try await s.cutNewestEvent("cut")
            await #expect(throws: RuntimeError.damaged(session: "cut")) {
                try await store.append([Self.answer(3, "s", .int(3))], to: "cut", status: .inProgress, locale: "ja", record: nil, at: Self.at(3).epochMillis)
            }
            // Nor is the cut laundered by an append that goes on from the entry now newest.
            await #expect(throws: RuntimeError.damaged(session: "cut")) {
                try await store.append([Self.answer(2, "r", .int(5))], to: "cut", status: .inProgress, locale: "ja", record: nil, at: Self.at(3).epochMillis)
            }
            let other = try await s.reopen()
            #expect(try await other.verify().damaged == ["cut"])
        }
    }

    /// Appends to one session that arrive together (the same batch, on a store that groups
    /// commits): each is written after the other or refused as out of order — never both written
    /// from the same newest entry. The chain holds and the log has exactly the appends that returned.
    @Test(arguments: StoreKind.all) func appendsToOneSessionThatArriveTogetherKeepItsChain(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("pair"), first: Self.start(), token: Self.token(75))
            try await store.append([Self.answer(1, "q", .int(1))], to: "pair", status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
            var stored = [0, 1]
            var next = 2
            for _ in 0..<15 {
                let a = next, b = next + 1
                let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                    for seq in [a, b] {
                        group.addTask {
                            do {
                                try await store.append([Self.answer(seq, "q\(seq)", .int(seq))], to: "pair", status: .inProgress, locale: "ja",
                                                       record: nil, at: Self.at(Int64(seq)).epochMillis)
                                return (seq, true)
                            } catch {
                                return (seq, false)
                            }
                        }
                    }
                    return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
                }
                #expect(outcomes[a] == true || outcomes[b] == true, "one of two appends after the newest is written")
                stored += [a, b].filter { outcomes[$0] == true }
                next += 2
            }
            let other = try await s.reopen()
            let verification = try await other.verify()
            #expect(verification.damaged.isEmpty)
            #expect(try await other.log(of: "pair").map(\.seq) == stored)
        }
    }

    /// A session row edited behind the store's back (its locale, its hash left as it was): the next
    /// append by the instance that last wrote the row is refused as damage, nothing written.
    @Test(arguments: StoreKind.all) func anAppendToARowEditedBehindTheStoresBackIsRefused(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            try await store.create(Self.info("row"), first: Self.start(), token: Self.token(74))
            try await store.append([Self.answer(1, "q", .int(1))], to: "row", status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
            try await s.editRow("row")
            await #expect(throws: RuntimeError.damaged(session: "row")) {
                try await store.append([Self.answer(2, "r", .int(2))], to: "row", status: .inProgress, locale: "ja", record: nil, at: Self.at(2).epochMillis)
            }
            let other = try await s.reopen()
            await #expect(throws: RuntimeError.damaged(session: "row")) { try await other.session("row") }
            #expect(try await other.verify().damaged == ["row"])
        }
    }

    /// Attempts from one address that arrive at once (the same moment), on two instances, are each
    /// counted once, in a committed transaction: of 30 starts with a limit of 10 exactly 10 are
    /// admitted, and of five wrong tokens with a limit of 3 exactly the first two may go on.
    @Test(arguments: StoreKind.all) func attemptsThatArriveAtOnceAreEachCountedOnce(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let one = s.store, two = try await s.reopen()
            let starts = RateLimit(kind: "start", limit: 10, window: 60_000)
            let t = Self.t0
            let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<30 {
                    let store: any Store = i % 2 == 0 ? one : two
                    group.addTask { try await store.limit(starts, address: "10.0.0.9", counting: .admit, at: t) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(admitted == 10)
            #expect(try await one.limit(starts, address: "10.0.0.9", counting: .check, at: t + 10) == false)
            let guesses = RateLimit(kind: "wrong_token", limit: 3, window: 600_000)
            let mayGoOn = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<5 {
                    let store: any Store = i % 2 == 0 ? one : two
                    group.addTask { try await store.limit(guesses, address: "10.0.0.9", counting: .failure, at: t) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(mayGoOn == 2)
            #expect(try await two.limit(guesses, address: "10.0.0.9", counting: .check, at: t + 10) == false)
            #expect(try await two.limit(guesses, address: "10.0.0.10", counting: .check, at: t + 10), "another address counts apart")
        }
    }

    /// Starts admitted under their address's limit as they are created: of 30 arriving at once on
    /// two instances (with answers to another session in the same moment), exactly the limit's
    /// worth are created; every other one is refused and leaves nothing stored.
    @Test(arguments: StoreKind.all) func startsAdmittedAsTheyAreCreatedStopAtTheLimit(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let one = s.store, two = try await s.reopen()
            let starts = RateLimit(kind: "start", limit: 10, window: 60_000)
            let t = Self.t0
            try await one.create(Self.info("busy"), first: Self.start(), token: Self.token(99))
            let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for i in 0..<30 {
                    let store: any Store = i % 2 == 0 ? one : two
                    let id = "start-\(i)"
                    group.addTask {
                        do {
                            try await store.create(Self.info(id), first: Self.start(), token: Self.token(UInt8(i)),
                                                   admitting: RateLimit.Admission(rule: starts, address: "10.0.0.7", at: t + Int64(i)))
                            return (id, true)
                        } catch is RateLimit.Refused {
                            return (id, false)
                        }
                    }
                }
                group.addTask {
                    for seq in 1...5 {
                        try await one.append([Self.answer(seq, "q\(seq)", .text("x"))], to: "busy", status: .inProgress, locale: "ja", record: nil, at: t)
                    }
                    return ("busy", false)
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let admitted = outcomes.filter { $0.key != "busy" && $0.value }.map(\.key)
            #expect(admitted.count == 10)
            for (id, created) in outcomes where id != "busy" {
                #expect((try await two.session(id) != nil) == created, "\(id): stored exactly when admitted")
            }
            #expect(try await one.log(of: "busy").count == 6)
            #expect(try await two.limit(starts, address: "10.0.0.7", counting: .check, at: t + 100) == false)
            #expect(try await two.limit(starts, address: "10.0.0.8", counting: .check, at: t + 100), "another address counts apart")
            try await one.create(Self.info("later"), first: Self.start(), token: Self.token(200),
                                 admitting: RateLimit.Admission(rule: starts, address: "10.0.0.7", at: t + 60_030))
            #expect(try await one.session("later") != nil, "the window ended")
        }
    }

    /// Limits per client address are counted in the store: a second instance on the same database
    /// sees the first one's count, and a window that has ended starts again.
    @Test(arguments: StoreKind.all) func rateLimitsAreSharedByEveryInstance(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let one = s.store, two = try await s.reopen()
            let starts = RateLimit(kind: "start", limit: 3, window: 60_000)
            let t = Self.t0
            #expect(try await one.limit(starts, address: "10.0.0.1", counting: .admit, at: t))
            #expect(try await two.limit(starts, address: "10.0.0.1", counting: .admit, at: t + 1))
            #expect(try await one.limit(starts, address: "10.0.0.1", counting: .admit, at: t + 2))
            #expect(try await two.limit(starts, address: "10.0.0.1", counting: .admit, at: t + 3) == false, "the fourth start, on the other instance")
            #expect(try await one.limit(starts, address: "10.0.0.2", counting: .admit, at: t + 3), "another address counts apart")
            #expect(try await two.limit(starts, address: "10.0.0.1", counting: .check, at: t + 59_999) == false)
            #expect(try await two.limit(starts, address: "10.0.0.1", counting: .admit, at: t + 60_000), "the window ended")
            let guesses = RateLimit(kind: "wrong_token", limit: 2, window: 600_000)
            #expect(try await one.limit(guesses, address: "10.0.0.1", counting: .check, at: t), "kinds count apart")
            #expect(try await one.limit(guesses, address: "10.0.0.1", counting: .failure, at: t))
            #expect(try await two.limit(guesses, address: "10.0.0.1", counting: .failure, at: t + 1) == false)
            #expect(try await one.limit(guesses, address: "10.0.0.1", counting: .check, at: t + 2) == false)
        }
    }

    /// An office's SQLite database moved into the store (`intake db copy`): every session, its log,
    /// its record and its resume token come across as they were, the chain heads match, and the
    /// same copy again is refused with nothing written.
    @Test(arguments: StoreKind.all) func anOfficesDatabaseIsCopiedInAndChecked(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-copy-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            let source = try IntakeDatabase.open(path: path, cipher: s.cipher).store
            try await source.create(Self.info("k-1", client: "1024"), first: Self.start(), token: Self.token(91))
            try await source.append([Self.answer(1, "name", .text("山田 花子"))], to: "k-1", status: .complete, locale: "ja",
                                    record: .object([("name", .string("山田 花子"))]), at: Self.at(1).epochMillis)
            try await source.create(Self.info("k-2", minutes: 5), first: Self.start(minutes: 5), token: Self.token(92))
            try await source.create(Self.info("k-3", minutes: 6), first: Self.start(minutes: 6), token: Self.token(93))
            #expect(try await source.deleteSession("k-3", by: .counselor("佐藤"), at: Self.at(7).epochMillis))
            // The shared database already holds another office's session.
            try await s.store.create(Self.info("other-office", office: "さいたま"), first: Self.start(), token: Self.token(94))

            let report = try await StoreCopy.copy(from: source, to: s.store, by: .counselor("admin"), at: Self.at(10).epochMillis, describing: "kawagoe.sqlite")
            #expect(report.sessions == 2 && report.events == 3 && report.auditEntries == 1)
            let target = s.store
            #expect(try await target.sessions().map(\.id).sorted() == ["k-1", "k-2", "other-office"])
            #expect(try await target.log(of: "k-1") == source.log(of: "k-1"))
            #expect(try await target.record(of: "k-1") == .object([("name", .string("山田 花子"))]))
            #expect(try await target.records(ofClient: ClientKey(office: "川越", number: "1024")).map(\.session.id) == ["k-1"])
            #expect(try await target.session(resuming: Self.token(92))?.id == "k-2", "her resume number still works")
            #expect(try await target.audit().map(\.action) == ["delete-session", "copy-in"])
            let heads = try await target.verify().intact.filter { $0.id.hasPrefix("k-") }
            #expect(heads == (try await source.verify().intact))
            // A session copied in is live nowhere until resumed.
            #expect(try await target.holder(of: "k-2") == nil)

            await #expect(throws: StoreCopy.Failure.alreadyInTarget(["k-1", "k-2"])) {
                try await StoreCopy.copy(from: source, to: target, by: .counselor("admin"), at: Self.at(11).epochMillis, describing: "kawagoe.sqlite")
            }
            #expect(try await target.sessions().count == 3)
        }
    }

    /// A copy refuses, with nothing written, a source with a damaged session and stores sealed differently.
    @Test func aCopyRefusesADamagedSourceAndADifferentSeal() async throws {
        let plain = try StoreKind.sqliteStore(cipher: nil)
        let sealed = try await StoreKind.sqliteSealed.make()
        let target = try StoreKind.sqliteStore(cipher: nil)
        try await plain.store.create(Self.info("x"), first: Self.start(), token: Self.token(95))
        try await plain.store.append([Self.answer(1, "q", .int(1))], to: "x", status: .inProgress, locale: "ja", record: nil, at: Self.at(1).epochMillis)
        await #expect(throws: StoreCopy.Failure.sealMismatch) {
            try await StoreCopy.copy(from: plain.store, to: sealed.store, by: .client, at: 0, describing: "a file")
        }
        try await plain.damageEvent("x", 1)
        await #expect(throws: StoreCopy.Failure.sourceDamaged(["x"])) {
            try await StoreCopy.copy(from: plain.store, to: target.store, by: .client, at: 0, describing: "a file")
        }
        #expect(try await target.store.sessions().isEmpty)
        #expect(try await sealed.store.sessions().isEmpty)
        for s in [plain, sealed, target] { await s.cleanup() }
    }

    /// The session runner over each store: a start, an answer, a suspension and a resume by token
    /// that comes back at the same question.
    @Test(arguments: StoreKind.all) func theRunnerRunsASessionOverTheStore(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let project = StoreTestProject.project
            let dialog = try #require(project.dialogs["followup"])
            let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: s.store)
            var (session, _) = try await runner.start(id: "r", token: Self.token(81), locale: "ja", mode: .kiosk, actor: .client, at: Self.at(0))
            let firstQuestion = session.state.current
            _ = try await runner.handle(.answer("はい"), in: &session, actor: .client, at: Self.at(1))
            let asked = session.state.current
            #expect(asked != firstQuestion)
            try await runner.suspend(&session, actor: .client, at: Self.at(2))
            let other = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: try await s.reopen())
            let (resumed, _) = try await other.resume(token: Self.token(81), mode: .kiosk, actor: .client, at: Self.at(3))
            #expect(resumed.state.current == asked)
            #expect(resumed.state.answers == session.state.answers)
        }
    }
}

enum StoreTestProject {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)
}

/// Reading is audited (issue 16): a read of a record is an audit entry about its session — who
/// (the store's identity or a given actor), when, what kind of output — and nothing of the data;
/// a session's access history comes oldest first, outlives the session, and moves with a copy.
extension StoreConformanceTests {
    /// Three finished sessions of one client, each record holding `secret`.
    static func finished(_ store: any Store, _ ids: [String], secret: String, tokens: UInt8) async throws {
        for (i, id) in ids.enumerated() {
            try await store.create(Self.info(id, client: "77", minutes: Int64(i)), first: Self.start(minutes: Int64(i)), token: Self.token(tokens + UInt8(i)))
            try await store.append([Self.answer(1, "name", .text(secret), minutes: Int64(i) + 1)], to: id, status: .complete, locale: "ja",
                                   record: .object([("name", .string(secret))]), at: Self.at(Int64(i) + 1).epochMillis)
        }
    }

    @Test(arguments: StoreKind.all) func readsAreRecordedPerSessionOldestFirstAndOutliveTheSession(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let store = s.store
            #expect(!store.identity.isEmpty)
            try await Self.finished(store, ["a-1", "a-2", "a-3"], secret: "秘密の名前", tokens: 110)
            try await store.recordReads([], kind: "show", by: "nobody", at: Self.at(10).epochMillis)
            #expect(try await store.audit().isEmpty, "an empty read writes nothing")
            try await store.recordReads(["a-1"], kind: "show", by: "kawada", at: Self.at(11).epochMillis)
            try await store.recordReads(["a-1", "a-2", "a-3"], kind: "export:csv", by: "suzuki", at: Self.at(12).epochMillis)
            try await store.recordReads(["a-2"], kind: "sheet:record", by: store.identity, at: Self.at(13).epochMillis)
            #expect(try await store.accessHistory(of: "a-1") == [
                AuditEntry(at: Self.at(11).epochMillis, actor: "kawada", action: AuditEntry.read, detail: "show", session: "a-1"),
                AuditEntry(at: Self.at(12).epochMillis, actor: "suzuki", action: AuditEntry.read, detail: "export:csv", session: "a-1"),
            ])
            #expect(try await store.accessHistory(of: "a-2").map(\.detail) == ["export:csv", "sheet:record"])
            #expect(try await store.accessHistory(of: "a-2").last?.actor == store.identity)
            #expect(try await store.accessHistory(of: "a-3").map(\.at) == [Self.at(12).epochMillis])
            #expect(try await store.accessHistory(of: "nope") == [])
            // One row per record read, in the order read; the whole trail carries each row's subject.
            #expect(try await store.audit().map(\.session) == ["a-1", "a-1", "a-2", "a-3", "a-2"])
            // Deleted at her request: her record goes, who read it stays.
            #expect(try await store.deleteSession("a-1", by: .counselor("佐藤"), at: Self.at(14).epochMillis))
            #expect(try await store.record(of: "a-1") == nil)
            #expect(try await store.accessHistory(of: "a-1").map(\.actor) == ["kawada", "suzuki"])
            #expect(try await store.audit().last?.action == "delete-session")
            // Another opening (another process or machine) reads the same history.
            let other = try await s.reopen()
            #expect(try await other.accessHistory(of: "a-2") == store.accessHistory(of: "a-2"))
            // Nothing of the data in any audit row.
            #expect(try await store.audit().allSatisfy { !"\($0)".contains("秘密") })
        }
    }

    /// An office's database copied in (`intake db copy`) keeps who read which record.
    @Test(arguments: StoreKind.all) func aCopyCarriesTheAccessHistory(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-copy-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            let source = try IntakeDatabase.open(path: path, cipher: s.cipher).store
            try await Self.finished(source, ["c-1", "c-2"], secret: "秘密", tokens: 120)
            try await source.recordReads(["c-1", "c-2"], kind: "export:ndjson", by: "kawada", at: Self.at(10).epochMillis)
            try await source.recordReads(["c-2"], kind: "show", by: "suzuki", at: Self.at(11).epochMillis)
            #expect(try await source.deleteSession("c-1", by: .counselor("佐藤"), at: Self.at(12).epochMillis))
            _ = try await StoreCopy.copy(from: source, to: s.store, by: .counselor("admin"), at: Self.at(20).epochMillis, describing: "kawagoe.sqlite")
            #expect(try await s.store.accessHistory(of: "c-1") == source.accessHistory(of: "c-1"))
            #expect(try await s.store.accessHistory(of: "c-2").map(\.detail) == ["export:ndjson", "show"])
            #expect(try await s.store.audit().map(\.session) == [ "c-1", "c-2", "c-2", nil, nil])
        }
    }
}

/// A client who says no to sharing among counselors (issue 16): the store is told before her
/// answer is written, the mark names the counselor who took the interview, a later session of the
/// same client (her office's number) is private from its start, and a copy carries the mark.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.all) func aClientWhoSaysNoToSharingIsPrivateToHerCounselor(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let project = StoreTestProject.project
            let intake = try #require(project.dialogs["intake"]), followup = try #require(project.dialogs["followup"])
            let runner = SessionRunner(engine: Engine(dialog: intake, catalog: project.catalog), store: s.store)
            var (session, _) = try await runner.start(id: "p-1", token: Self.token(61), locale: "ja", mode: .counselor, actor: .counselor("佐藤"),
                                                      clientID: "5150", office: "川越", at: Self.at(0))
            #expect(session.state.current == Path("consent_record"))
            _ = try await runner.handle(.answer("はい"), in: &session, actor: .client, at: Self.at(1))
            #expect(session.state.current == Path("share_counselors"))
            #expect(try await s.store.privacy(of: "p-1") == nil)
            _ = try await runner.handle(.answer("いいえ"), in: &session, actor: .client, at: Self.at(2))
            #expect(try await s.store.privacy(of: "p-1") == Privacy(counselor: "佐藤"))
            #expect(session.isPrivate)

            // The same number in another office is another person: not private.
            let other = SessionRunner(engine: Engine(dialog: followup, catalog: project.catalog), store: s.store)
            _ = try await other.start(id: "p-2", token: Self.token(62), locale: "ja", mode: .counselor, actor: .counselor("田中"),
                                      clientID: "5150", office: "所沢", at: Self.at(3))
            #expect(try await s.store.privacy(of: "p-2") == nil)
            // Her later visit in 川越 is private from its start, to whoever takes it.
            _ = try await other.start(id: "p-3", token: Self.token(63), locale: "ja", mode: .counselor, actor: .counselor("鈴木"),
                                      clientID: "5150", office: "川越", at: Self.at(4))
            #expect(try await s.store.privacy(of: "p-3") == Privacy(counselor: "鈴木"))

            // Changing her answer back does not lift the mark (once private, always private).
            _ = try await runner.handle(.back, in: &session, actor: .client, at: Self.at(5))
            _ = try await runner.handle(.answer("はい"), in: &session, actor: .client, at: Self.at(6))
            #expect(try await s.store.privacy(of: "p-1") == Privacy(counselor: "佐藤"))

            // An office's file copied in keeps the mark.
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("intake-private-\(UUID().uuidString).sqlite").path
            defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            let source = try IntakeDatabase.open(path: path, cipher: s.cipher).store
            let kiosk = SessionRunner(engine: Engine(dialog: intake, catalog: project.catalog), store: source)
            var (k, _) = try await kiosk.start(id: "p-kiosk", token: Self.token(64), locale: "ja", mode: .kiosk, actor: .client,
                                               office: "川越", at: Self.at(7))
            _ = try await kiosk.handle(.answer("はい"), in: &k, actor: .client, at: Self.at(8))
            _ = try await kiosk.handle(.answer("いいえ"), in: &k, actor: .client, at: Self.at(9))
            #expect(try await source.privacy(of: "p-kiosk") == Privacy(counselor: nil), "taken at a kiosk: private to no counselor yet")
            _ = try await StoreCopy.copy(from: source, to: s.store, by: .counselor("admin"), at: Self.at(10).epochMillis, describing: "kawagoe.sqlite")
            #expect(try await s.store.privacy(of: "p-kiosk") == Privacy(counselor: nil))
        }
    }
}

extension StoreConformanceTests {
    /// A session started at a kiosk and taken over at a counselor's terminal: what it records from
    /// then on names the counselor who took it over (her sheet's 相談員); one she started names her.
    @Test(arguments: StoreKind.all) func aKioskSessionTakenOverNamesTheCounselorWhoTookIt(_ kind: StoreKind) async throws {
        try await Self.with(kind) { s in
            let project = StoreTestProject.project
            let dialog = try #require(project.dialogs["followup"])
            let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: s.store)
            var (session, _) = try await runner.start(id: "t-1", token: Self.token(71), locale: "ja", mode: .kiosk, actor: .client, at: Self.at(0))
            #expect(session.counselor == nil)
            _ = try await runner.handle(.answer("はい"), in: &session, actor: .client, at: Self.at(1))
            try await runner.suspend(&session, actor: .client, at: Self.at(2))
            let (taken, _) = try await runner.resume(token: Self.token(71), mode: .counselor, actor: .counselor("佐藤"), at: Self.at(3))
            #expect(taken.counselor == "佐藤")
            guard case .object(let members) = runner.record(taken.state, of: taken) else { Issue.record("no record object"); return }
            #expect(members.first { $0.0 == "counselor" }?.1 == .string("佐藤"))
            let (mine, _) = try await runner.start(id: "t-2", token: Self.token(72), locale: "ja", mode: .counselor, actor: .counselor("鈴木"),
                                                   at: Self.at(4))
            #expect(mine.counselor == "鈴木")
        }
    }
}
