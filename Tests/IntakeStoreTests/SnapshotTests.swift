import Foundation
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore
import Testing

/// Resume without replaying everything (issue 18): the runner saves the session's state with its
/// log every so many entries, and a resume starts from the newest snapshot that checks against the
/// chain, replaying only the entries after it — and restores exactly what a replay of the whole
/// log restores, on every store. A damaged snapshot is passed over, never believed.
@Suite struct SnapshotTests {
    static let t0 = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))
    static func at(_ seconds: Int) -> Moment { Moment(epochMillis: t0.epochMillis + Int64(seconds) * 1_000, utcOffsetMinutes: 540) }

    static func engine(_ project: Project = StoreTestProject.project) throws -> Engine {
        Engine(dialog: try #require(project.dialogs["intake"]), catalog: project.catalog)
    }

    /// A kiosk session's inputs: the first questions answered, then going back, answering again,
    /// editing, notes, language switches, asking again — `count` events in all, never finishing.
    static func events(_ count: Int) -> [Event] {
        let forward = ["はい", "はい", "5", "3", "5", "1", "いいえ", "山田 花子", "やまだ はなこ", "平成6年7月15日", "川越市"]
        var out: [Event] = forward.map { .answer($0) }
        var i = 0
        while out.count < count {
            switch i % 8 {
            case 0: out.append(.back)
            case 1: out.append(.answer(forward[(i / 8) % forward.count]))
            case 2: out.append(.edit("name"))
            case 3: out.append(.answer(i % 16 == 3 ? "山田 花子" : "山田 はな"))
            case 4: out.append(.note("メモ \(i)"))
            case 5: out.append(.locale(i % 16 == 5 ? "en" : "ja"))
            case 6: out.append(.repeatQuestion)
            default: out.append(.answer("川越市"))
            }
            i += 1
        }
        return Array(out.prefix(count))
    }

    /// Starts `id`, gives it `events` one a second, and suspends it.
    static func taken(_ runner: SessionRunner, _ id: String, token: UInt8, _ events: [Event], from start: Int = 0) async throws -> RunningSession {
        var (session, _) = try await runner.start(id: id, token: StoreConformanceTests.token(token), locale: "ja", mode: .kiosk,
                                                  actor: .client, at: at(start))
        try await go(runner, &session, events, from: start + 1)
        return session
    }

    static func go(_ runner: SessionRunner, _ session: inout RunningSession, _ events: [Event], from start: Int) async throws {
        for (i, e) in events.enumerated() { _ = try await runner.handle(e, in: &session, actor: .client, at: at(start + i)) }
        try await runner.suspend(&session, actor: .client, at: at(start + events.count))
    }

    @Test(arguments: StoreKind.all) func aLongSessionResumesFromItsSnapshotToWhatAWholeReplayGives(_ kind: StoreKind) async throws {
        try await StoreConformanceTests.with(kind) { s in
            let store = s.store
            var runner = SessionRunner(engine: try Self.engine(), store: store)
            #expect(runner.snapshotInterval == 64)
            // The periodic snapshots alone (what a killed process leaves): no snapshot at the suspension.
            runner.suspendSnapshotGap = 0
            let session = try await Self.taken(runner, "long", token: 1, Self.events(1_100))
            guard case .asking = session.state.phase else { Issue.record("the session finished"); return }
            // 1,100 inputs (entries 1…1100) and the suspension (1101): snapshots after 64, 128, … 1088.
            let stored = try await store.resumeLog(of: "long")
            #expect(stored.snapshot?.seq == 1_088)
            #expect(stored.entries.map(\.seq) == Array(1_089...1_101), "only the entries after the snapshot are read")
            #expect(stored.ignored == nil)
            let info = try #require(try await store.session("long"))
            let restored = try await runner.restore(info)
            #expect(restored.snapshotSeq == 1_088)
            #expect(restored.nextSeq == 1_102)
            #expect(restored.ignored == nil)
            let whole = try runner.replay(try await store.log(of: "long"))
            #expect(restored.state == whole, "from the snapshot: exactly what a replay of the whole log gives")
            #expect(restored.state == session.state)
            // The resume itself, through the token, goes on where the session stood.
            let (resumed, effects) = try await runner.resume(token: StoreConformanceTests.token(1), mode: .kiosk, actor: .client, at: Self.at(2_000))
            #expect(resumed.state == runner.engine.continuing(in: .kiosk, whole, at: Self.at(2_000)).state)
            #expect(effects == runner.engine.continuing(in: .kiosk, whole, at: Self.at(2_000)).effects)
            #expect(resumed.seq == 1_103)
            #expect(resumed.snapshotSeq == 1_088)
        }
    }

    /// The usual way back: a session suspended (the client walked away, the kiosk timed out) saved
    /// its state with the suspension, so its resume replays no entry, and is still exactly what a
    /// replay of the whole log gives. A suspension soon after a snapshot saves none.
    @Test(arguments: StoreKind.all) func aSuspendedSessionResumesFromTheSnapshotItsSuspensionSaved(_ kind: StoreKind) async throws {
        try await StoreConformanceTests.with(kind) { s in
            let store = s.store
            let runner = SessionRunner(engine: try Self.engine(), store: store)
            #expect(runner.suspendSnapshotGap == 8)
            var session = try await Self.taken(runner, "s", token: 7, Self.events(300))
            // Inputs 1…300 (periodic snapshots, the last after 256), the suspension 301 with its own.
            #expect(session.snapshotSeq == 301)
            let stored = try await store.resumeLog(of: "s")
            #expect(stored.snapshot?.seq == 301)
            #expect(stored.entries.isEmpty, "nothing to replay")
            let info = try #require(try await store.session("s"))
            let restored = try await runner.restore(info)
            #expect(restored.snapshotSeq == 301)
            #expect(restored.nextSeq == 302)
            #expect(restored.state == (try runner.replay(try await store.log(of: "s"))))
            #expect(restored.state == session.state)
            // Resumed, three more inputs, suspended again: too few for another snapshot; the
            // resume replays the resumption, the inputs and the suspension after 301.
            (session, _) = try await runner.resume(info, mode: .kiosk, actor: .client, at: Self.at(400))
            try await Self.go(runner, &session, Array(Self.events(3)), from: 401)
            #expect(session.snapshotSeq == 301)
            let again = try await store.resumeLog(of: "s")
            #expect(again.snapshot?.seq == 301)
            #expect(again.entries.map(\.seq) == Array(302...306))
            let restoredAgain = try await runner.restore(try #require(try await store.session("s")))
            #expect(restoredAgain.state == session.state)
            #expect(restoredAgain.state == (try runner.replay(try await store.log(of: "s"))))
        }
    }

    @Test(arguments: StoreKind.all) func aTamperedSnapshotIsPassedOverAndTheResumeIsStillRight(_ kind: StoreKind) async throws {
        try await StoreConformanceTests.with(kind) { s in
            let store = s.store
            var runner = SessionRunner(engine: try Self.engine(), store: store)
            runner.snapshotInterval = 16
            let session = try await Self.taken(runner, "t", token: 2, Self.events(100))
            #expect(try await store.resumeLog(of: "t").snapshot?.seq == 96)
            try await s.damageSnapshot("t")
            let stored = try await store.resumeLog(of: "t")
            #expect(stored.snapshot == nil)
            #expect(stored.ignored == .chainMismatch)
            #expect(stored.entries.count == 102, "the whole log instead")
            let info = try #require(try await store.session("t"))
            let restored = try await runner.restore(info)
            #expect(restored.snapshotSeq == nil)
            #expect(restored.ignored == .chainMismatch)
            #expect(restored.state == session.state)
            #expect(restored.state == (try runner.replay(try await store.log(of: "t"))))
            // The resume is right, and the next answer saves a snapshot that is used again.
            var (resumed, _) = try await runner.resume(info, mode: .kiosk, actor: .client, at: Self.at(500))
            #expect(resumed.state == runner.engine.continuing(in: .kiosk, session.state, at: Self.at(500)).state)
            _ = try await runner.handle(.repeatQuestion, in: &resumed, actor: .client, at: Self.at(501))
            #expect(resumed.snapshotSeq == 103)
            let again = try await runner.restore(try #require(try await store.session("t")))
            #expect(again.snapshotSeq == 103)
            #expect(again.state == resumed.state)
        }
    }

    /// A session suspended with snapshots under one version and resumed under the next moves to it
    /// exactly as a session without snapshots does (the move reads the whole log), and the
    /// snapshots taken after the move restore it as a whole replay under the new version does.
    @Test(arguments: StoreKind.all) func aSnapshotFromBeforeADialogVersionChangeStillResumesRight(_ kind: StoreKind) async throws {
        try await StoreConformanceTests.with(kind) { s in
            let store = s.store
            var v1 = SessionRunner(engine: try Self.engine(), store: store)
            v1.snapshotInterval = 8
            var plain1 = v1
            plain1.snapshotInterval = 0
            let inputs = Self.events(40)
            _ = try await Self.taken(v1, "snap", token: 3, inputs)
            _ = try await Self.taken(plain1, "plain", token: 4, inputs)
            #expect(try await store.resumeLog(of: "snap").snapshot?.seq == 40)
            #expect(try await store.resumeLog(of: "plain").snapshot == nil)

            let next = try DialogVersionTests.nextVersion()
            var v2 = SessionRunner(engine: try Self.engine(next), store: store)
            v2.snapshotInterval = 8
            var plain2 = v2
            plain2.snapshotInterval = 0
            let (snap, snapEffects) = try await v2.resume(try #require(try await store.session("snap")), mode: .kiosk, actor: .client, at: Self.at(100))
            let (plain, plainEffects) = try await plain2.resume(try #require(try await store.session("plain")), mode: .kiosk, actor: .client, at: Self.at(100))
            #expect(snap.state == plain.state, "the move is the same with snapshots or without")
            #expect(snapEffects == plainEffects)
            #expect(snap.state.dialogVersion == "1.2.0")
            #expect(try await store.session("snap")?.dialogVersion == "1.2.0")
            // The snapshot of the old version is passed over (the move follows it): the whole log.
            let moved = try await v2.restore(try #require(try await store.session("snap")))
            #expect(moved.snapshotSeq == nil)
            #expect(moved.ignored == .migratedSince)
            #expect(moved.state == (try v2.replay(try await store.log(of: "snap"))))
            #expect(moved.state.answers == snap.state.answers)

            // Going on under the new version in the run that moved it: no snapshot of a state the
            // move made (a replay rebuilds it from the answers the move carried), so the resume
            // replays the whole log, as it does without snapshots.
            var (a, b) = (snap, plain)
            try await Self.go(v2, &a, Array(Self.events(30).suffix(20)), from: 101)
            try await Self.go(plain2, &b, Array(Self.events(30).suffix(20)), from: 101)
            #expect(try await store.resumeLog(of: "snap").snapshot?.seq == 40)
            let after = try await v2.restore(try #require(try await store.session("snap")))
            #expect(after.snapshotSeq == nil)
            #expect(after.state == (try v2.replay(try await store.log(of: "snap"))))
            let plainAfter = try await plain2.restore(try #require(try await store.session("plain")))
            #expect(after.state == plainAfter.state)

            // Resumed (its state replayed) and going on: snapshots again, restoring what a whole replay gives.
            (a, _) = try await v2.resume(try #require(try await store.session("snap")), mode: .kiosk, actor: .client, at: Self.at(200))
            (b, _) = try await plain2.resume(try #require(try await store.session("plain")), mode: .kiosk, actor: .client, at: Self.at(200))
            #expect(a.state == b.state)
            try await Self.go(v2, &a, Self.events(20), from: 201)
            try await Self.go(plain2, &b, Self.events(20), from: 201)
            let later = try await v2.restore(try #require(try await store.session("snap")))
            #expect(later.snapshotSeq != nil)
            #expect(later.ignored == nil)
            #expect(later.state == (try v2.replay(try await store.log(of: "snap"))))
            #expect(later.state == a.state)
            #expect(later.state == (try await plain2.restore(try #require(try await store.session("plain")))).state)
        }
    }

    /// A snapshot whose hash checks (recomputed with the unsealed chain's public key, as a forger
    /// could) but whose state does not decode, or was taken under another dialog version, is
    /// passed over too: the whole log is replayed.
    @Test func aSnapshotThatDoesNotDecodeOrIsOfAnotherVersionIsPassedOver() async throws {
        let db = try IntakeDatabase.inMemory()
        var runner = SessionRunner(engine: try Self.engine(), store: db.store)
        runner.snapshotInterval = 8
        let session = try await Self.taken(runner, "f", token: 6, Self.events(30))
        let info = try #require(try await db.store.session("f"))
        func forge(_ state: String) async throws {
            try await db.writer.write { conn in
                guard let row = try Row.fetchOne(conn, sql: "SELECT seq, entryHash FROM snapshot WHERE sessionId = 'f' ORDER BY seq DESC LIMIT 1"),
                      let seq = row["seq"] as Int64?, let entryHash = row["entryHash"] as Data? else { return }
                let hash = Chain.unkeyed.hash(Chain.Snapshot(session: "f", seq: seq, entryHash: entryHash, state: state))
                try conn.execute(sql: "UPDATE snapshot SET state = ?, hash = ? WHERE sessionId = 'f' AND seq = ?", arguments: [state, hash, seq])
            }
        }
        let header = "intake-snapshot 1 \(runner.engineFingerprint)\n"
        try await forge(header + "{}")
        #expect(try await db.store.resumeLog(of: "f").snapshot?.seq == 24, "its hash checks")
        let undecodable = try await runner.restore(info)
        #expect(undecodable.ignored == .undecodable)
        #expect(undecodable.snapshotSeq == nil)
        #expect(undecodable.state == session.state)

        var other = session.state
        other.dialogVersion = "0.9"
        try await forge(header + String(decoding: try JSONEncoder().encode(other), as: UTF8.self))
        let otherVersion = try await runner.restore(info)
        #expect(otherVersion.ignored == .otherVersion)
        #expect(otherVersion.snapshotSeq == nil)
        #expect(otherVersion.state == session.state)

        // A state that would be used, but named under another engine, or under none (written
        // before snapshots named theirs): passed over.
        var shifted = session.state
        shifted.started.epochMillis += 1
        let json = String(decoding: try JSONEncoder().encode(shifted), as: UTF8.self)
        for stored in ["intake-snapshot 1 0123456789abcdef\n" + json, json] {
            try await forge(stored)
            let otherEngine = try await runner.restore(info)
            #expect(otherEngine.ignored == .otherEngine)
            #expect(otherEngine.snapshotSeq == nil)
            #expect(otherEngine.state == session.state)
        }
        // …while the same under this engine's name is used as it is (so the cases above were
        // passed over for their names alone).
        try await forge(header + json)
        let used = try await runner.restore(info)
        #expect(used.ignored == nil)
        #expect(used.snapshotSeq == 24)
        #expect(used.state.started == shifted.started)
    }

    /// A dialog edited without a new version (here an office's setting changed, or one string of
    /// the locales reworded): a snapshot
    /// taken before is not trusted; the resume replays the log under the new dialog, as a session
    /// without snapshots would.
    @Test func aSnapshotTakenBeforeAnEditThatKeptTheVersionIsPassedOver() async throws {
        let db = try IntakeDatabase.inMemory()
        var before = SessionRunner(engine: try Self.engine(), store: db.store)
        before.snapshotInterval = 8
        _ = try await Self.taken(before, "e", token: 7, Self.events(30))
        let info = try #require(try await db.store.session("e"))
        #expect(try await before.restore(info).snapshotSeq == 24)

        var dialog = try #require(StoreTestProject.project.dialogs["intake"])
        #expect(dialog.settings["long_gap_years"] == .int(5))
        dialog.settings["long_gap_years"] = .int(3)
        var edited = SessionRunner(engine: Engine(dialog: dialog, catalog: StoreTestProject.project.catalog), store: db.store)
        edited.snapshotInterval = 8
        #expect(edited.engineFingerprint != before.engineFingerprint)
        let restored = try await edited.restore(info)
        #expect(restored.ignored == .otherEngine)
        #expect(restored.snapshotSeq == nil)
        #expect(restored.state == (try edited.replay(try await db.store.log(of: "e"))))

        var catalog = StoreTestProject.project.catalog
        let (locale, strings) = try #require(catalog.strings.first { !$0.value.isEmpty })
        let someKey = try #require(strings.keys.sorted().first)
        var changed = catalog.strings
        changed[locale]?[someKey] = (strings[someKey] ?? "") + "（改）"
        catalog = Catalog(changed, fallback: catalog.fallback)
        let reworded = SessionRunner(engine: Engine(dialog: try #require(StoreTestProject.project.dialogs["intake"]), catalog: catalog),
                                     store: db.store)
        #expect(reworded.engineFingerprint != before.engineFingerprint)
        #expect(try await reworded.restore(info).ignored == .otherEngine)
    }

    /// A resume reads only the newest snapshot (one that does not check means the whole log), so
    /// the ones before it are deleted as it is written: a long session keeps one state.
    @Test func aSessionKeepsOnlyItsNewestSnapshot() async throws {
        let db = try IntakeDatabase.inMemory()
        var runner = SessionRunner(engine: try Self.engine(), store: db.store)
        runner.snapshotInterval = 4
        let session = try await Self.taken(runner, "p", token: 8, Self.events(30))
        let seqs = try await db.writer.read { try Int.fetchAll($0, sql: "SELECT seq FROM snapshot WHERE sessionId = 'p'") }
        #expect(seqs == [28])
        let restored = try await runner.restore(try #require(try await db.store.session("p")))
        #expect(restored.snapshotSeq == 28)
        #expect(restored.state == session.state)
    }

    /// A snapshot goes with its session.
    @Test(arguments: [StoreKind.sqlite]) func deletingASessionDeletesItsSnapshots(_ kind: StoreKind) async throws {
        try await StoreConformanceTests.with(kind) { s in
            let store = s.store
            var runner = SessionRunner(engine: try Self.engine(), store: store)
            runner.snapshotInterval = 4
            _ = try await Self.taken(runner, "d", token: 5, Self.events(20))
            #expect(try await store.resumeLog(of: "d").snapshot?.seq == 20)
            #expect(try await store.deleteSession("d", by: .counselor("佐藤"), at: Self.at(100).epochMillis))
            #expect(try await store.resumeLog(of: "d") == ResumeLog(snapshot: nil, entries: []))
        }
    }
}
