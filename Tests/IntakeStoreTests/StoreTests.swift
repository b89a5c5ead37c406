import Foundation
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeRecords
@testable import IntakeStore
import Testing

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let project = Project.load(paths: [root.appendingPathComponent("Dialogs").path], localesDirectory: root.appendingPathComponent("Locales").path)

private func engine() throws -> Engine {
    Engine(dialog: try #require(project.dialogs["intake"]), catalog: project.catalog)
}

private func tempFile() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("intake-\(UUID().uuidString).sqlite").path
}

/// A fixed generator, so tokens are reproducible in tests.
private struct Counter: RandomNumberGenerator {
    var n: UInt64
    mutating func next() -> UInt64 { n &+= 0x9E37_79B9_7F4A_7C15; return n }
}

private let t0 = Moment.noon(of: CivilDate(year: 2026, month: 11, day: 23) ?? CivilDate(daysSinceEpoch: 0))
private func at(_ minutes: Int64) -> Moment { Moment(epochMillis: t0.epochMillis + minutes * 60_000, utcOffsetMinutes: 540) }

@Suite struct DatabaseTests {
    @Test func aFileDatabaseIsWALWithFullSynchronousAndSecureDelete() throws {
        let db = try IntakeDatabase.open(path: tempFile())
        let (journal, synchronous, secureDelete) = try db.writer.read { conn in
            (try String.fetchOne(conn, sql: "PRAGMA journal_mode"), try Int.fetchOne(conn, sql: "PRAGMA synchronous"),
             try Int.fetchOne(conn, sql: "PRAGMA secure_delete"))
        }
        #expect(journal == "wal")
        #expect(synchronous == 2, "FULL: a commit is on disk when it returns")
        #expect(secureDelete == 1)
    }

    @Test func migrationsCreateTheSchemaOnceAndAreFrozenByName() throws {
        let path = tempFile()
        let first = try IntakeDatabase.open(path: path)
        let applied = try first.writer.read { try IntakeDatabase.migrator.appliedIdentifiers($0) }
        #expect(applied == ["v1: sessions, events, clients, audit", "v2: answer changes in the log", "v3: the process a session is live in", "v4: sealed databases, hash-chained log",
                           "v5: limits shared by every instance", "v6: clients belong to an office", "v7: who read which record",
                           "v8: records private to their counselor", "v9: snapshots of a session's state"])
        // Opening again migrates nothing and keeps the data.
        let second = try IntakeDatabase.open(path: path)
        let tables = try second.writer.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") }
        #expect(tables.filter { !$0.hasPrefix("grdb_") && !$0.hasPrefix("sqlite_") } == ["audit", "client", "event", "meta", "private_session", "rate_limit", "session", "snapshot", "unchained_session"])
    }
}

@Suite struct ClientsByOfficeMigrationTests {
    /// A database from before clients belonged to an office (v5): one client row per number, whose
    /// office was that of her first session, and sessions of two offices naming the same number.
    @Test func aDatabaseFromBeforeGivesEachOfficeItsOwnClient() async throws {
        let path = tempFile()
        do {
            let queue = try DatabaseQueue(path: path)
            try IntakeDatabase.migrator.migrate(queue, upTo: "v5: limits shared by every instance")
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO client (id, createdAt, office) VALUES ('1024', 100, '川越'), ('77', 50, NULL), ('gone', 10, 'さいたま')")
                let sessions: [(String, String?, String?, Int64)] = [("k1", "1024", "川越", 100), ("s1", "1024", "さいたま", 200),
                                                                    ("k2", "1024", "川越", 300), ("n1", "77", nil, 50), ("x", nil, "川越", 60)]
                for (i, (id, client, office, at)) in sessions.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO session (id, clientId, dialogId, dialogVersion, mode, locale, status, startedAt, updatedAt, office, tokenDigest, record)
                        VALUES (?, ?, 'intake', '1', 'counselor', 'ja', 'complete', ?, ?, ?, ?, ?)
                        """, arguments: [id, client, at, at, office, Data([UInt8(i)]), #"{"id":"\#(id)"}"#])
                    try db.execute(sql: "INSERT INTO unchained_session (id) VALUES (?)", arguments: [id])
                    try db.execute(sql: "INSERT INTO event (sessionId, seq, at, utcOffset, actor, event) VALUES (?, 0, ?, 540, 'client', '{}')",
                                   arguments: [id, at])
                }
            }
        }
        let database = try IntakeDatabase.open(path: path)
        let clients = try await database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT office, id, createdAt FROM client ORDER BY office, id").map {
                "\($0["office"] as String)|\($0["id"] as String)|\($0["createdAt"] as Int64)"
            }
        }
        // 川越's 1024 keeps her row's time; さいたま's 1024 is a new client since her first session
        // there; 77 of no named office; a number no session names any more keeps its row.
        #expect(clients == ["|77|50", "さいたま|1024|200", "さいたま|gone|10", "川越|1024|100"])
        let kawagoe = try database.records(ofClient: ClientKey(office: "川越", number: "1024")).map(\.session.id)
        #expect(kawagoe == ["k2", "k1"])
        #expect(try database.records(ofClient: ClientKey(office: "さいたま", number: "1024")).map(\.session.id) == ["s1"])
        #expect(try database.records(ofClient: ClientKey(office: nil, number: "77")).map(\.session.id) == ["n1"])
        // Every session and its log are still there, in the order written.
        let ids = try await database.writer.read { try String.fetchAll($0, sql: "SELECT id FROM session ORDER BY rowid") }
        #expect(ids == ["k1", "s1", "k2", "n1", "x"])
        #expect(try await database.writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM event") } == 5)
        let fk = try await database.writer.read { try Row.fetchAll($0, sql: "PRAGMA foreign_key_check") }
        #expect(fk.isEmpty)
        // A new session of a client of the same number in a third office is a third client.
        let third = SessionInfo(id: "t1", clientID: "1024", dialogID: "intake", dialogVersion: "1", mode: .counselor, locale: "ja",
                                status: .inProgress, startedAt: 400, updatedAt: 400, office: "所沢")
        try await database.store.create(third, first: LogEntry(seq: 0, at: Moment(epochMillis: 400, utcOffsetMinutes: 540), actor: .client,
                                                    event: .start(dialog: "intake", version: "1", locale: "ja", mode: .counselor)),
                            token: ResumeToken.random())
        #expect(try await database.writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM client WHERE id = '1024'") } == 3)
    }
}

@Suite struct SessionRunnerTests {
    func runner(_ db: IntakeDatabase) throws -> SessionRunner { SessionRunner(engine: try engine(), store: db.store) }

    @Test func eachEventIsLoggedAndTheLogReplaysToTheSameState() async throws {
        let db = try IntakeDatabase.inMemory()
        let r = try runner(db)
        var gen = Counter(n: 1)
        let token = ResumeToken.random(using: &gen)
        var (session, effects) = try await r.start(id: "s1", token: token, locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        #expect(effects.last.flatMap { if case .ask(let p) = $0 { p.display } else { nil } } == "consent_record")
        for (i, a) in ["はい", "はい", "1", "答えない", "2"].enumerated() {
            _ = try await r.handle(.answer(a), in: &session, actor: .client, at: at(Int64(i + 1)))
        }
        let log = try db.log(of: "s1")
        #expect(log.count == 6)
        #expect(log.first?.event == .start(dialog: "intake", version: try engine().dialog.version, locale: "ja", mode: .kiosk))
        #expect(log.last?.event == .input(.answer("2")))
        #expect(try r.replay(log) == session.state)
        #expect(try db.session("s1")?.status == .inProgress)
    }

    @Test func aSuspendedSessionResumesByItsTokenAtTheSameQuestion() async throws {
        let path = tempFile()
        var gen = Counter(n: 7)
        let token = ResumeToken.random(using: &gen)
        var shown: [Effect] = []
        do {
            let r = try runner(try IntakeDatabase.open(path: path))
            var (session, _) = try await r.start(id: "s2", token: token, locale: "en", mode: .kiosk, actor: .client, at: at(0))
            for a in ["yes", "yes", "1"] { shown = try await r.handle(.answer(a), in: &session, actor: .client, at: at(1)) }
            try await r.suspend(&session, actor: .client, at: at(2))
        }
        // A new process: the database file opened again.
        let db = try IntakeDatabase.open(path: path)
        #expect(try db.session("s2")?.status == .suspended)
        let r = try runner(db)
        let typed = try #require(ResumeToken(text: token.description.lowercased()))
        let (session, effects) = try await r.resume(token: typed, mode: .kiosk, actor: .counselor("佐藤"), at: at(30))
        #expect(effects == shown.filter { if case .ask = $0 { true } else { false } })
        #expect(session.state.locale == "en")
        #expect(try db.log(of: "s2").map(\.event).suffix(2) == [.suspend, .resume(mode: .kiosk)])
        #expect(try db.log(of: "s2").last?.actor == .counselor("佐藤"))
    }

    @Test func aWrongTokenOpensNothing() async throws {
        let db = try IntakeDatabase.inMemory()
        let r = try runner(db)
        var gen = Counter(n: 3)
        _ = try await r.start(id: "s3", token: ResumeToken.random(using: &gen), locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        await #expect(throws: RuntimeError.unknownToken) { try await r.resume(token: ResumeToken.random(using: &gen), mode: .kiosk, actor: .client, at: at(1)) }
    }

    @Test func aFinishedSessionKeepsItsRecordAndCannotBeResumed() async throws {
        let db = try IntakeDatabase.inMemory()
        let r = try runner(db)
        var gen = Counter(n: 5)
        let token = ResumeToken.random(using: &gen)
        var (session, _) = try await r.start(id: "s4", token: token, locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        _ = try await r.handle(.answer("いいえ"), in: &session, actor: .client, at: at(1))
        #expect(try db.session("s4")?.status == .stopped)
        let record = try #require(try db.record(of: "s4"))
        #expect(record.contains("\"status\":\"stopped\""))
        await #expect(throws: RuntimeError.finished) { try await r.resume(token: token, mode: .kiosk, actor: .client, at: at(2)) }
    }

    /// A store that cannot append (a full disk): every other call goes to the store it wraps.
    /// Nothing may be shown as accepted.
    struct FailingStore: Store {
        struct Full: Error {}
        let inner: any Store
        /// Only the mark of a private session fails (appends go through).
        var onlyMarkFails = false
        var instance: String { inner.instance }
        var identity: String { inner.identity }
        func create(_ info: SessionInfo, first: LogEntry, token: ResumeToken) async throws { try await inner.create(info, first: first, token: token) }
        func append(_ entries: [LogEntry], to session: String, status: SessionInfo.Status, locale: String, record: JSON?, at: Int64) async throws {
            guard onlyMarkFails else { throw Full() }
            try await inner.append(entries, to: session, status: status, locale: locale, record: record, at: at)
        }
        func markPrivate(_ session: String, at: Int64) async throws {
            if onlyMarkFails { throw Full() }
            try await inner.markPrivate(session, at: at)
        }
        func privacy(of session: String) async throws -> Privacy? { try await inner.privacy(of: session) }
        func setDialogVersion(_ version: String, of session: String) async throws { try await inner.setDialogVersion(version, of: session) }
        func log(of session: String) async throws -> [LogEntry] { try await inner.log(of: session) }
        func session(_ id: String) async throws -> SessionInfo? { try await inner.session(id) }
        func session(resuming token: ResumeToken) async throws -> SessionInfo? { try await inner.session(resuming: token) }
        func listSessions(_ filter: SessionFilter) async throws -> SessionList { try await inner.listSessions(filter) }
        func holder(of session: String) async throws -> String? { try await inner.holder(of: session) }
        func sessionsHeldElsewhere(_ sessions: [String]) async throws -> [String] { try await inner.sessionsHeldElsewhere(sessions) }
        func record(of session: String) async throws -> JSON? { try await inner.record(of: session) }
        func records(ofClient client: ClientKey) async throws -> [FinishedRecord] { try await inner.records(ofClient: client) }
        func audit() async throws -> [AuditEntry] { try await inner.audit() }
        func recordReads(_ sessions: [String], kind: String, by actor: String, at: Int64) async throws {
            try await inner.recordReads(sessions, kind: kind, by: actor, at: at)
        }
        func accessHistory(of session: String) async throws -> [AuditEntry] { try await inner.accessHistory(of: session) }
        func deleteSession(_ id: String, by actor: Actor, at: Int64) async throws -> Bool { try await inner.deleteSession(id, by: actor, at: at) }
        func abandonedSessions(updatedBefore: Int64) async throws -> [String] { try await inner.abandonedSessions(updatedBefore: updatedBefore) }
        func abandonedSessions(startedFrom from: Int64, to: Int64) async throws -> Set<String> {
            try await inner.abandonedSessions(startedFrom: from, to: to)
        }
        func purgeAbandoned(olderThanDays days: Int, by actor: Actor, at: Int64) async throws -> Int {
            try await inner.purgeAbandoned(olderThanDays: days, by: actor, at: at)
        }
        func limit(_ rule: RateLimit, address: String, counting: RateLimit.Counting, at: Int64) async throws -> Bool {
            try await inner.limit(rule, address: address, counting: counting, at: at)
        }
        func checkStorage() async throws { try await inner.checkStorage() }
        func verify() async throws -> Verification { try await inner.verify() }
    }

    /// The mark that makes a session private is written before the answer that calls for it: if
    /// it cannot be, her "no" is not taken (nothing of it is stored, the question is asked again).
    @Test func whenTheSessionCannotBeMarkedPrivateHerNoIsNotTaken() async throws {
        let db = try IntakeDatabase.inMemory()
        let project = StoreTestProject.project
        let intake = try #require(project.dialogs["intake"])
        let r = SessionRunner(engine: Engine(dialog: intake, catalog: project.catalog), store: FailingStore(inner: db.store, onlyMarkFails: true))
        var (session, _) = try await r.start(id: "s6", token: ResumeToken.random(), locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        _ = try await r.handle(.answer("はい"), in: &session, actor: .client, at: at(1))
        let before = session.state
        await #expect(throws: FailingStore.Full.self) {
            _ = try await r.handle(.answer("いいえ"), in: &session, actor: .client, at: at(2))
        }
        #expect(session.state == before)
        #expect(try await db.store.log(of: "s6").count == 2)
        #expect(try await db.store.privacy(of: "s6") == nil)
    }

    @Test func whenTheLogCannotBeWrittenTheAnswerIsNotAccepted() async throws {
        let db = try IntakeDatabase.inMemory()
        let r = SessionRunner(engine: try engine(), store: FailingStore(inner: db.store))
        var gen = Counter(n: 9)
        var (session, _) = try await r.start(id: "s5", token: ResumeToken.random(using: &gen), locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        let before = session.state
        await #expect(throws: FailingStore.Full.self) { try await r.handle(.answer("はい"), in: &session, actor: .client, at: at(1)) }
        #expect(session.state == before)
        #expect(try db.log(of: "s5").count == 1, "only the start is logged")
    }
}

@Suite struct DeletionTests {
    @Test func deletingASessionLeavesAnAuditEntryAndNoTraceOfTheAnswers() async throws {
        let path = tempFile()
        let db = try IntakeDatabase.open(path: path)
        let r = SessionRunner(engine: try engine(), store: db.store)
        var gen = Counter(n: 11)
        var (session, _) = try await r.start(id: "s6", token: ResumeToken.random(using: &gen), locale: "ja", mode: .counselor,
                                       actor: .counselor("佐藤"), at: at(0))
        let secret = "ZQXJ-秘密の回答-\(UUID().uuidString)"
        for a in ["はい", "はい", "1", "2", "1", secret] { _ = try await r.handle(.answer(a), in: &session, actor: .client, at: at(1)) }
        #expect(try db.deleteSession("s6", by: .counselor("佐藤"), at: at(2).epochMillis))
        #expect(try db.session("s6") == nil)
        #expect(try db.log(of: "s6").isEmpty)
        let audit = try db.audit()
        #expect(audit.count == 1)
        #expect(audit.first?.action == "delete-session")
        #expect(audit.first?.actor == "counselor:佐藤")
        #expect(audit.first?.detail.contains(secret) == false)
        for file in [path, path + "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) still holds the answer")
        }
    }
}

@Suite struct ResumeTokenTests {
    @Test func aTokenIs128BitsIn26CharactersAndReadsBackAsTyped() throws {
        var gen = Counter(n: 42)
        let token = ResumeToken.random(using: &gen)
        #expect(token.bytes.count == 16)
        let text = token.description
        #expect(text.replacingOccurrences(of: "-", with: "").count == 26)
        #expect(ResumeToken(text: text) == token)
        #expect(ResumeToken(text: text.lowercased().replacingOccurrences(of: "-", with: " ")) == token)
        #expect(ResumeToken(text: text.replacingOccurrences(of: "0", with: "O")) == token)
        #expect(ResumeToken(text: "too short") == nil)
        #expect(ResumeToken(text: text + "X") == nil)
    }

    @Test func theSystemGeneratorGivesDifferentTokens() {
        let tokens = Set((0..<1000).map { _ in ResumeToken.random().description })
        #expect(tokens.count == 1000)
    }
}

@Suite struct GroupCommitTests {
    @Test func concurrentSessionsShareCommitsAndLoseNothing() async throws {
        let db = try IntakeDatabase.open(path: tempFile())
        let store = db.store
        let sessions = 40, perSession = 25
        for s in 0..<sessions {
            let info = SessionInfo(id: "c\(s)", dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja",
                                   status: .inProgress, startedAt: 0, updatedAt: 0)
            try await store.create(info, first: LogEntry(seq: 0, at: at(0), actor: .client,
                                                         event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk)),
                                   token: ResumeToken.random())
        }
        let before = db.asyncCommitStats
        await withTaskGroup(of: Void.self) { group in
            for s in 0..<sessions {
                group.addTask {
                    for i in 1...perSession {
                        try? await store.append([LogEntry(seq: i, at: at(Int64(i)), actor: .client, event: .input(.answer("\(s)-\(i)")))],
                                                to: "c\(s)", status: .inProgress, locale: "ja", record: nil, at: at(Int64(i)).epochMillis)
                    }
                }
            }
        }
        for s in 0..<sessions {
            let log = try db.log(of: "c\(s)")
            #expect(log.count == perSession + 1)
            #expect(log.last?.event == .input(.answer("\(s)-\(perSession)")))
        }
        let after = db.asyncCommitStats
        #expect(after.writes - before.writes == sessions * perSession)
        #expect(after.commits - before.commits < sessions * perSession, "concurrent appends share transactions")
    }

    @Test func oneFailingAppendDoesNotFailTheOthersInItsBatch() async throws {
        let db = try IntakeDatabase.inMemory()
        let store = db.store
        var gen = Counter(n: 3)
        let info = SessionInfo(id: "ok", dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja",
                               status: .inProgress, startedAt: 0, updatedAt: 0)
        try await store.create(info, first: LogEntry(seq: 0, at: at(0), actor: .client, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk)),
                               token: ResumeToken.random(using: &gen))
        // seq 0 again: refused (out of order), for this request only.
        await #expect(throws: (any Error).self) {
            try await store.append([LogEntry(seq: 0, at: at(1), actor: .client, event: .suspend)], to: "ok", status: .suspended, locale: "ja", record: nil, at: 1)
        }
        try await store.append([LogEntry(seq: 1, at: at(1), actor: .client, event: .suspend)], to: "ok", status: .suspended, locale: "ja", record: nil, at: 1)
        #expect(try db.log(of: "ok").count == 2)
    }
}

@Suite struct MonthlyReportTests {
    @Test func consultationsClientsAndFoundWorkPerOffice() async throws {
        let db = try IntakeDatabase.inMemory()
        func holdConsultations() async throws {
            let intake = SessionRunner(engine: try engine(), store: db.store)
            let followup = SessionRunner(engine: Engine(dialog: try #require(project.dialogs["followup"]), catalog: project.catalog), store: db.store)
            func token() -> ResumeToken { ResumeToken.random() }
            // November 2026 (office time): client A twice, client B once, A's follow-up; one consultation in October.
            // Each consultation answers at least its first question (a session left before any answer is not one).
            let consultations: [(String, String, String, Int64)] = [("a1", "A", "川越", 0), ("a2", "A", "川越", 60 * 24), ("b1", "B", "川越", 60 * 48),
                                                                    ("c1", "C", "所沢", -60 * 24 * 40)]
            for (id, client, office, minutes) in consultations {
                var (s, _) = try await intake.start(id: id, token: token(), locale: "ja", mode: .kiosk, actor: .client, clientID: client, office: office, at: at(minutes))
                _ = try await intake.handle(.answer("はい"), in: &s, actor: .client, at: at(minutes))
            }
            var (f, _) = try await followup.start(id: "f1", token: token(), locale: "en", mode: .counselor, actor: .counselor("佐藤"),
                                            clientID: "A", office: "川越", at: at(60 * 72))
            for a in ["yes", "令和8年11月1日", "2", "ABC Care", "moved house", "3", "", "4", "no", "", "not yet", "2", ":finish"] {
                let event = LineInputEvent.of(a)
                _ = try await followup.handle(event, in: &f, actor: .counselor("佐藤"), at: at(60 * 72 + 1))
            }
            #expect(try db.session("f1")?.status == .complete)
            // The record names whose it is, after its mode: 川越's client A.
            let record = try #require(try await db.store.record(of: "f1"))
            guard case .object(let members) = record else { Issue.record("not an object"); return }
            #expect(Array(members.map(\.0).prefix(6)) == ["dialog", "status", "locale", "mode", "office", "client"])
            #expect(record["office"] == .string("川越") && record["client"] == .string("A"))
            // …and the counselor who took it (her identity; the 就労相談記録票's 相談員).
            #expect(members.map(\.0).dropFirst(6).first == "counselor" && record["counselor"] == .string("佐藤"))
        }
        try await holdConsultations()
        let report = try await MonthlyReport.make(from: db.store, year: 2026, month: 11)
        #expect(report.counts == [MonthlyReport.Counts(office: "川越", consultations: 4, clients: 2, foundWork: 1)])
        #expect(report.changes == [MonthlyReport.Change(session: "f1", office: "川越", client: "A", date: "2026-11-26", dialogID: "followup", foundWork: true, changes: "moved house")])
        let october = try await MonthlyReport.make(from: db.store, year: 2026, month: 10)
        #expect(october.counts == [MonthlyReport.Counts(office: "所沢", consultations: 1, clients: 1, foundWork: 0)])
    }
}

/// A line as `intake run` reads it.
enum LineInputEvent {
    static func of(_ line: String) -> Event {
        if case .event(let e) = LineInput.parse(line) { return e }
        return .answer(line)
    }
}

@Suite struct DialogVersionTests {
    /// A copy of the repository's dialogs as version 1.2.0: `kana` renamed to `name_kana`, `city` removed.
    static func nextVersion() throws -> Project {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-v2-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: root.appendingPathComponent("Dialogs"), to: dir.appendingPathComponent("Dialogs"))
        try FileManager.default.copyItem(at: root.appendingPathComponent("Locales"), to: dir.appendingPathComponent("Locales"))
        let intake = dir.appendingPathComponent("Dialogs/intake.yaml")
        var text = try String(contentsOf: intake, encoding: .utf8)
        // The version line, whatever the current version is.
        let line = try #require(text.range(of: #"(?m)^version: "[0-9.]+"$"#, options: .regularExpression))
        text.replaceSubrange(line, with: "version: \"1.2.0\"\nrenamed:\n  kana: name_kana")
        try text.write(to: intake, atomically: true, encoding: .utf8)
        let family = dir.appendingPathComponent("Dialogs/modules/family.yaml")
        var f = try String(contentsOf: family, encoding: .utf8)
        f = f.replacingOccurrences(of: "  - id: kana\n", with: "  - id: name_kana\n    text: family.kana\n")
        f = f.replacingOccurrences(of: "  - id: city\n    kind: text\n    max_length: 40\n", with: "")
        try f.write(to: family, atomically: true, encoding: .utf8)
        for sheet in ["record", "referral"] {
            let file = dir.appendingPathComponent("Dialogs/sheets/\(sheet).yaml")
            let text = try String(contentsOf: file, encoding: .utf8)
            try text.replacingOccurrences(of: "field: kana,", with: "field: name_kana,")
                .replacingOccurrences(of: "      - { field: city, label: sheet.label.city }\n", with: "")
                .write(to: file, atomically: true, encoding: .utf8)
        }
        let project = Project.load(paths: [dir.appendingPathComponent("Dialogs").path], localesDirectory: dir.appendingPathComponent("Locales").path)
        #expect(project.diagnostics.filter { $0.severity == .error }.map { $0.rendered(project.catalog, locale: "en") } == [])
        return project
    }

    @Test func aSessionSuspendedUnderAnOlderVersionResumesUnderTheNewOne() async throws {
        let db = try IntakeDatabase.inMemory()
        let v1 = SessionRunner(engine: try engine(), store: db.store)
        let earlier = v1.engine.dialog.version
        let token = ResumeToken.random()
        var (session, _) = try await v1.start(id: "m1", token: token, locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        for a in ["はい", "はい", "5", "3", "5", "1", "いいえ", "山田 花子", "やまだ はなこ", "平成6年7月15日", "川越市"] {
            _ = try await v1.handle(.answer(a), in: &session, actor: .client, at: at(1))
        }
        try await v1.suspend(&session, actor: .client, at: at(2))

        let next = try Self.nextVersion()
        let v2 = SessionRunner(engine: Engine(dialog: try #require(next.dialogs["intake"]), catalog: next.catalog), store: db.store)
        let (moved, effects) = try await v2.resume(token: token, mode: .kiosk, actor: .client, at: at(60))
        if case .notice(let m)? = effects.first {
            #expect(m.key == "engine.dialog_changed")
            #expect(m.text == "質問の内容が新しくなりました。これまでの答えはそのまま使い、続きからお聞きします。")
        } else {
            Issue.record("no notice of the change")
        }
        let dropped = effects.compactMap { if case .dropped(let lines) = $0 { lines } else { nil } }.flatMap { $0 }
        #expect(dropped.map(\.question) == ["city"], "the removed question is named")
        #expect(dropped.first?.answer == "川越市")
        #expect(moved.state.answers[Path("name_kana")]?.answer == .value(.text("やまだ はなこ")), "the renamed question keeps its answer")
        #expect(moved.state.answers[Path("name")]?.answer == .value(.text("山田 花子")))
        #expect(moved.state.answers[Path("city")] == nil)
        #expect(moved.state.earlierVersions == [earlier])
        #expect(moved.state.dialogVersion == "1.2.0")
        if case .ask(let p)? = effects.last { #expect(p.display == "address") } else { Issue.record("no question after the move") }
        #expect(try db.session("m1")?.dialogVersion == "1.2.0")
        // The log replays to the same state under the new version, and the record names both versions.
        #expect(try v2.replay(try db.log(of: "m1")).answers == moved.state.answers)
        // Replaying the log after the move gives the session the move made: the trail in the same order.
        let replayed = try v2.replay(try db.log(of: "m1"))
        #expect(replayed.trail == moved.state.trail)
        let record = v2.engine.record(moved.state).json
        #expect(record["dialog"] == .object([("id", .string("intake")), ("version", .string("1.2.0")),
                                             ("earlier_versions", .array([.string(earlier)]))]))
    }
}

@Suite struct EncryptionTests {
    func keyFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)").path
        try Cipher.newKeyFile(at: path)
        return path
    }

    @Test func withAKeyTheFilesHoldNoAnswerAndTheDataReadsBack() async throws {
        let path = tempFile()
        let key = try keyFile()
        let db = try IntakeDatabase.open(path: path, cipher: try Cipher(keyFile: key))
        let r = SessionRunner(engine: try engine(), store: db.store)
        var (session, _) = try await r.start(id: "e1", token: ResumeToken.random(), locale: "ja", mode: .kiosk, actor: .client, at: at(0))
        let secret = "ZQXJ-暗号化される回答-\(UUID().uuidString)"
        for a in ["はい", "はい", "5", "3", "5", "1", "いいえ", secret] { _ = try await r.handle(.answer(a), in: &session, actor: .client, at: at(1)) }
        for file in [path, path + "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the answer in clear")
        }
        #expect(try r.replay(try db.log(of: "e1")) == session.state)

        // A wrong key is refused when the database opens (its fingerprint differs), for reading too.
        #expect(throws: StoreError.wrongKey) { try IntakeDatabase.open(path: path, cipher: try Cipher(keyFile: try keyFile()), access: .read) }
        let none = try IntakeDatabase.open(path: path, access: .read)
        #expect(throws: Cipher.Failure.needsKey) { try none.log(of: "e1") }
        #expect(try none.sessions().map(\.id) == ["e1"], "the session list needs no key")
    }

    @Test func aKeyFileIsNeverOverwrittenAndAMalformedOneIsRefused() throws {
        let key = try keyFile()
        let before = try String(contentsOfFile: key, encoding: .utf8)
        #expect(throws: Cipher.Failure.self) { try Cipher.newKeyFile(at: key) }
        #expect(try String(contentsOfFile: key, encoding: .utf8) == before)
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)").path
        try "not a key".write(toFile: bad, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: bad)
        #expect(throws: Cipher.Failure.badKeyFile(bad)) { try Cipher(keyFile: bad) }
    }
}

@Suite struct LaterVisitTests {
    /// A finished session with `record` as its record, for client `client`.
    func finished(_ db: IntakeDatabase, _ id: String, client: String, dialog: String, minutes: Int64, record: JSON) async throws {
        let info = SessionInfo(id: id, clientID: client, dialogID: dialog, dialogVersion: "1.0.0", mode: .counselor, locale: "ja",
                               status: .inProgress, startedAt: at(minutes).epochMillis, updatedAt: at(minutes).epochMillis)
        try await db.store.create(info, first: LogEntry(seq: 0, at: at(minutes), actor: .client,
                                                        event: .start(dialog: dialog, version: "1.0.0", locale: "ja", mode: .counselor)),
                                  token: ResumeToken.random())
        try await db.store.append([], to: id, status: .complete, locale: "ja", record: record, at: at(minutes).epochMillis)
    }

    /// A whole record holding `answers` (a later visit reads it as a record: a fragment is damaged).
    func record(_ answers: [(String, JSON)], declined: [String] = []) -> JSON {
        .object([("dialog", .object([("id", .string("intake")), ("version", .string("1.0.0"))])), ("status", .string("complete")),
                 ("locale", .string("ja")), ("mode", .string("counselor")), ("started", .string("2026-11-18T10:00:00+09:00")),
                 ("answers", .object(answers)), ("computed", .object([])), ("declined", .array(declined.map(JSON.string))),
                 ("skipped", .array([])), ("warnings", .array([])), ("suggestions", .array([])), ("notes", .array([]))])
    }

    /// A stored document that does not read as a record carries nothing silently: the visit is
    /// refused, naming the damaged session.
    @Test func aLaterVisitFromADocumentThatIsNotARecordIsRefused() async throws {
        let db = try IntakeDatabase.inMemory()
        let followup = try #require(project.dialogs["followup"])
        try await finished(db, "old", client: "A", dialog: "intake", minutes: 0,
                           record: .object([("answers", .object([("wishes", .object([("area", .string("川越市"))]))]))]))
        await #expect(throws: RuntimeError.damaged(session: "old")) {
            _ = try await db.store.carried(forClient: ClientKey(office: nil, number: "A"), into: followup)
        }
    }

    @Test func eachModuleComesFromTheNewestRecordThatHoldsIt() async throws {
        let db = try IntakeDatabase.inMemory()
        let followup = try #require(project.dialogs["followup"])
        try await finished(db, "old", client: "A", dialog: "intake", minutes: 0, record: record([
            ("plan", .object([("plan_now", .string("work_now")), ("lifework", .int(2))])),
            ("wishes", .object([("days_per_week", .int(5)), ("area", .string("川越市"))])),
        ], declined: ["area"]))
        try await finished(db, "new", client: "A", dialog: "followup", minutes: 60, record: record([
            ("followup", .object([("found_work", .bool(false))])),
            ("plan", .object([("plan_now", .string("cannot_think"))])),
        ]))
        try await finished(db, "other", client: "B", dialog: "intake", minutes: 90, record: record([
            ("wishes", .object([("days_per_week", .int(1))])),
        ]))
        let carried = try #require(try await db.store.carried(forClient: ClientKey(office: nil, number: "A"), into: followup))
        #expect(carried.previous == "new")
        #expect(carried.previousDate == "2026-11-23")
        // plan from the newer record only (its lifework is not mixed in from the older one).
        #expect(carried.answers[Path("plan_now")] == .value(.choice("cannot_think")))
        #expect(carried.answers[Path("lifework")] == nil)
        // wishes from the older one, with what she declined; followup is asked afresh, never carried.
        #expect(carried.answers[Path("days_per_week")] == .value(.int(5)))
        #expect(carried.answers[Path("area")] == .declined)
        #expect(carried.answers[Path("found_work")] == nil)
        #expect(try await db.store.carried(forClient: ClientKey(office: nil, number: "nobody"), into: followup) == nil)
    }

    @Test func aLaterVisitReplaysFromItsLogAndResumesAsOne() async throws {
        let db = try IntakeDatabase.inMemory()
        let followup = Engine(dialog: try #require(project.dialogs["followup"]), catalog: project.catalog)
        try await finished(db, "old", client: "A", dialog: "intake", minutes: -60 * 24 * 30, record: record([
            ("plan", .object([("lifework", .int(2)), ("plan_now", .string("work_now")), ("future_work", .string("事務")),
                              ("training_interest", .string("not_now")), ("next_steps", .string("求人を見る")),
                              ("job_ad_sources", .array([.string("internet")]))])),
        ]))
        let runner = SessionRunner(engine: followup, store: db.store)
        let carried = try await db.store.carried(forClient: ClientKey(office: nil, number: "A"), into: followup.dialog)
        var (s, effects) = try await runner.start(id: "v1", token: ResumeToken.random(), locale: "ja", mode: .counselor,
                                           actor: .counselor("佐藤"), clientID: "A", carrying: carried, at: at(0))
        #expect(effects.first.map { if case .notice(let m) = $0 { m.key } else { "" } } == "engine.revisit.started")
        for a in ["no", "", "2", "4", "", "", "", "", ""] {
            effects = try await runner.handle(.answer(a), in: &s, actor: .counselor("佐藤"), at: at(1))
        }
        // The log alone gives the same session back (the carried answers are in its first entry).
        #expect(try runner.replay(try db.log(of: "v1")) == s.state)
        #expect(s.state.answers[Path("lifework")]?.answer == .value(.int(4)))
        #expect(s.state.answers[Path("future_work")]?.answer == .value(.text("事務")))
        // Suspended and resumed: still a later visit, at the same question.
        try await runner.suspend(&s, actor: .counselor("佐藤"), at: at(2))
        let info = try #require(try db.session("v1"))
        let (back, shown) = try await runner.resume(info, mode: .counselor, actor: .counselor("佐藤"), at: at(3))
        #expect(back.state.revisit == s.state.revisit)
        #expect(shown == followup.current(s.state))
    }
}
