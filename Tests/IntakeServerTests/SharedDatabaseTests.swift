import Foundation
import IntakeRuntime
import Glibc
import GRDB
import IntakeEngine
import IntakeStore
import Testing

/// The documented way of working: kiosks on `intake serve` while counselors use the REPL,
/// `records`, `export` and `report` on the same database file — separate processes, one file.
@Suite(.serialized) struct SharedDatabaseTests {
    /// A counselor's follow-up, line by line (the second conversation of Dialogs/tests/followup.yaml).
    static let counselorLines = ["いいえ", "10月に父が入院し、介護で手が離せない", "1", "", "いまはまだ考えられない", "3", "",
                                 "父の退院の見通しが立つまでは動けない", "まだわからない", ":finish"]

    /// Kiosks hammer the server while counselors' `intake run`, `records delete`, `export` and
    /// `report` write and read the same file: no answer fails anywhere, and none is lost. The
    /// kiosks and the processes run on threads of their own (blocking sockets and waits), so that
    /// tests blocking Swift's cooperative pool meanwhile cannot starve them.
    @Test func kiosksCounselorsAndRecordsShareOneDatabaseUnderLoad() async throws {
        let db = tempDatabase()
        // Every kiosk here is 127.0.0.1: the per-address start limit is lifted (this measures the
        // database under load, not the limit, which OperationsLimitTests checks).
        let (server, port, _, err) = try await ServeCommandTests.serve(db: db, ["--max-starts-per-address", "1000000"])
        // The server's log, drained so that it never blocks on a full pipe.
        Thread { _ = err.fileHandleForReading.readToEndOfFile() }.start()
        let outcome: LoadOutcome = await withCheckedContinuation { c in
            Thread { c.resume(returning: Self.load(db: db, port: port)) }.start()
        }
        kill(server.processIdentifier, SIGTERM)
        #expect(await ServeCommandTests.exitStatus(server) == 0)
        #expect(outcome.counselors.count == 6)
        for c in outcome.counselors {
            #expect(c.status == 0, "a counselor's run failed: \(c.stderr)")
            #expect(c.stdout.contains("受付が終わりました"))
        }
        #expect(!outcome.deletions.isEmpty, "kiosks: \(outcome.kiosks)")
        for d in outcome.deletions { #expect(d.status == 0, "records delete failed: \(d.stderr)") }
        #expect(outcome.export.status == 0, "export failed: \(outcome.export.stderr)")
        #expect(outcome.report.status == 0, "report failed: \(outcome.report.stderr)")
        let t = outcome.kiosks
        #expect(t.answers > 100)
        #expect(t.failed == 0, "kiosk answers refused with storage_failed: \(t.failed) of \(t.answers)")
        #expect(t.otherErrors == [], "kiosk errors")
    }

    struct LoadOutcome: Sendable {
        var counselors: [Child.Result] = []
        var deletions: [Child.Result] = []
        var export = Child.Result(status: -1, stdout: "", stderr: "")
        var report = Child.Result(status: -1, stdout: "", stderr: "")
        var kiosks: (answers: Int, failed: Int, otherErrors: [String]) = (0, 0, [])
    }

    /// Eight kiosks for 8 s; meanwhile six counselors' follow-ups (two at a time), then deletions,
    /// an export and a report. Blocking: run it on a thread of its own.
    static func load(db: String, port: Int) -> LoadOutcome {
        let tally = KioskTally()
        let stop = Date(timeIntervalSinceNow: 8)
        let kiosks = (0..<8).map { _ in Thread { blockingKiosk(port: port, until: stop, tally) } }
        for k in kiosks { k.start() }
        var outcome = LoadOutcome()
        for round in 0..<3 {
            let pair = ["佐藤\(round)", "鈴木\(round)"].map { name in
                Child.runInBackground(["run", "--db", db, "--dialog", "followup", "--mode", "counselor", "--counselor", name,
                                       "--today", "2026-11-23"], input: counselorLines)
            }
            outcome.counselors += pair.map { $0.wait() }
        }
        // Deletions at a client's request, an export and a report, while the kiosks go on.
        while tally.finished.count < 5 && Date() < stop { usleep(50_000) }
        for id in tally.finished.prefix(5) {
            outcome.deletions.append(Child.runInBackground(["records", "delete", id, "--db", db]).wait())
        }
        outcome.export = Child.runInBackground(["export", "--format", "ndjson", "--db", db]).wait()
        outcome.report = Child.runInBackground(["report", "--month", "2026-11", "--db", db]).wait()
        while kiosks.contains(where: { !$0.isFinished }) { usleep(20_000) }
        outcome.kiosks = tally.snapshot
        return outcome
    }

    /// A second `intake serve` on the same database is refused with a message and exit status 3;
    /// a server killed outright leaves no lock behind, so its restart on the same file starts at once.
    @Test func aSecondServeOnTheSameDatabaseIsRefused() async throws {
        let db = tempDatabase()
        let (first, _, _, _) = try await ServeCommandTests.serve(db: db)
        let second = try await Child.run(["serve", "--port", "0", "--db", db], timeout: 10)
        #expect(second.status == 3)
        #expect(second.stderr.contains("Another intake serve is already running on the database \(db) (process \(first.processIdentifier))"))
        #expect(second.stdout.isEmpty)
        let inJapanese = try await Child.run(["serve", "--port", "0", "--db", db, "--lang", "ja"], timeout: 10)
        #expect(inJapanese.stderr.contains("すでに別の intake serve が動いています"))
        kill(first.processIdentifier, SIGKILL)
        _ = await ServeCommandTests.exitStatus(first)
        let (again, _, _, _) = try await ServeCommandTests.serve(db: db)
        kill(again.processIdentifier, SIGTERM)
        #expect(await ServeCommandTests.exitStatus(again) == 0)
    }

    /// A session live at a kiosk and resumed at a counselor's terminal (another process) runs
    /// there only: the kiosk is told within a second, with `bye` `resumed_elsewhere`, and closed
    /// (and an answer it sent meanwhile would be refused, nothing of it written). The other way
    /// round, the counselor's terminal is told at its next answer and stops (exit 4).
    @Test func aSessionResumedInAnotherProcessEndsWhereItWas() async throws {
        let db = tempDatabase()
        let (server, port, _, _) = try await ServeCommandTests.serve(db: db)
        let kiosk = try await LineClient.connect(port: port)
        let (session, token, q1) = try await startJSON(kiosk)
        #expect(q1?["question"] == .string("found_work"))
        try await kiosk.send(json: [("op", .string("answer")), ("question", .string("found_work")), ("text", .string("いいえ"))])
        #expect(await untilStanding(kiosk)?["question"] == .string("changes"))

        // The counselor takes it over at her terminal and answers the next question.
        let counselor = try Child.start(["run", "--db", db, "--dialog", "followup", "--resume", token, "--counselor", "佐藤"])
        counselor.write("本人より：変わりない")
        #expect(await counselor.output(contains: "仕事はどのくらい大きなものですか", timeout: 30))
        // The kiosk, still connected and showing the question, is told without having to act.
        let bye = await kiosk.until("bye", timeout: .seconds(30))
        #expect(bye?["reason"] == .string("resumed_elsewhere"))
        #expect(bye?["message"] == .string("この受付は別の端末で再開されました。"))
        #expect(bye?["token"] == nil)
        #expect(await kiosk.waitClosed())

        // Back to a kiosk with the token: the counselor's terminal is told at its next answer, and stops.
        let again = try await LineClient.connect(port: port)
        try await again.send(json: [("op", .string("resume")), ("token", .string(token))])
        #expect(await again.until("session")?["resumed"] == .bool(true))
        #expect(await untilStanding(again)?["question"] == .string("lifework"))
        counselor.write("1")
        #expect(await counselor.output(contains: "この相談は別の場所（受付端末か、ほかの相談員の端末）で再開されました。", timeout: 30))
        counselor.closeInput()
        #expect(await counselor.exitStatus() == 4)

        // The log holds the counselor's answer and not the refused one.
        let store = try IntakeDatabase.open(path: db)
        let texts = try store.log(of: session).compactMap { entry -> String? in
            if case .input(.answer(let text)) = entry.event { return text }
            return nil
        }
        #expect(texts == ["いいえ", "本人より：変わりない"])
        try await again.send(json: [("op", .string("suspend"))])
        #expect(await again.until("bye")?["reason"] == .string("suspended"))
        kill(server.processIdentifier, SIGTERM)
        #expect(await ServeCommandTests.exitStatus(server) == 0)
    }

    /// A write that fails at the counselor's terminal (here a trigger refuses the third answer) does
    /// not end the program with a database error: the answer is said not saved, the session is
    /// suspended and its token shown, and the token resumes it at that question.
    @Test func aFailedWriteSuspendsTheSessionAndShowsItsToken() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-shared-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("intake.sqlite").path
        let store = try IntakeDatabase.open(path: db)
        try await store.writer.write { db in
            try db.execute(sql: """
                CREATE TRIGGER refuse_third_answer BEFORE INSERT ON event
                WHEN NEW.seq = 3 AND NEW.event LIKE '%answer%' BEGIN SELECT RAISE(ABORT, 'refused'); END
                """)
        }
        let out = try await Child.run(["interview", "--db", db, "--dialog", "followup", "--counselor", "佐藤", "--history", "none",
                                       "--today", "2026-11-23"],
                                      input: ["いいえ", "変わりない", "1", "", "3"])
        #expect(out.status == 5, "\(out.stderr)")
        // (The REPL wraps at 80 columns.)
        #expect(out.stdout.contains("この答えを保存できませんでした（データベースに書き込めません）。ここまでの答えは\nすべて保存されています。"))
        let token = try #require(out.stdout.components(separatedBy: "続きは再開番号 ").last?.components(separatedBy: " ").first)
        #expect(out.stderr.isEmpty)
        let sessions = try store.sessions()
        #expect(sessions.map(\.status) == [.suspended])
        try await store.writer.write { db in try db.execute(sql: "DROP TRIGGER refuse_third_answer") }
        let resumed = try await Child.run(["run", "--db", db, "--dialog", "followup", "--resume", token, "--counselor", "佐藤"], input: [])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("仕事はどのくらい大きなものですか"))
    }
}

/// What the kiosks saw.
final class KioskTally: @unchecked Sendable {
    // `@unchecked Sendable`: every access holds `lock`.
    private let lock = NSLock()
    private var answersSent = 0
    private var storageFailed = 0
    private var errors: [String] = []
    private var done: [String] = []

    func answered() { lock.withLock { answersSent += 1 } }
    func failed() { lock.withLock { storageFailed += 1 } }
    func error(_ code: String) { lock.withLock { errors.append(code) } }
    func finished(_ session: String) { lock.withLock { done.append(session) } }
    var finished: [String] { lock.withLock { done } }
    var snapshot: (answers: Int, failed: Int, otherErrors: [String]) { lock.withLock { (answersSent, storageFailed, errors) } }
}

/// What a kiosk client types for a question; `attempt` > 0 after the same question was refused.
func kioskAnswer(_ q: JSON, attempt: Int) -> String {
    let id = q["question"]?.string ?? ""
    switch q["kind"]?.string ?? "text" {
    case "yesno": return id.hasSuffix("+") || attempt > 0 ? "いいえ" : "はい"
    case "choice", "multi": return attempt == 0 ? "1" : "2"
    case "integer", "decimal": return attempt == 0 ? "1" : "2"
    case "date": return attempt == 0 ? "令和8年11月1日" : "2026-10-01"
    case "month": return "2020-04"
    case "time": return attempt == 0 ? "9" : "17時半"
    default: return attempt == 0 ? "テスト入力" : "1"
    }
}

/// A blocking JSON-lines connection (one per kiosk thread), over AbuseTests' blocking socket.
final class BlockingLine {
    private let socket: AbuseTests.Socket

    init?(port: Int) {
        guard let socket = AbuseTests.Socket(port: port) else { return nil }
        self.socket = socket
    }

    func send(_ message: [(String, JSON)]) -> Bool {
        socket.send(JSON.object(message).rendered())
    }

    /// The next line as JSON, or nil when the connection ended or timed out.
    func next() -> JSON? {
        socket.line().flatMap { try? JSONDecoder().decode(JSON.self, from: Data($0.utf8)) }
    }

    /// Up to where the session stands: a question, the final review, done, an error or bye. A
    /// soft-check warning (followed by the same question again) stands as the warning.
    func standing() -> JSON? {
        var warned = false
        while let m = next() {
            switch m["type"]?.string {
            case "warning": warned = true
            case "question": return warned ? .object([("type", .string("warning"))]) : m
            case "review" where m["final"] == .bool(true): return m
            case "done", "error", "bye": return m
            default: continue
            }
        }
        return nil
    }
}

/// One kiosk: follow-up sessions one after another as fast as the server answers, until `stop`.
func blockingKiosk(port: Int, until stop: Date, _ tally: KioskTally) {
    while Date() < stop {
        guard let c = BlockingLine(port: port) else {
            tally.error("cannot connect")
            return
        }
        guard c.send([("op", .string("start")), ("dialog", .string("followup")), ("locale", .string("ja"))]),
              let opened = c.next(), let session = opened["session"]?.string else {
            tally.error("cannot start")
            continue
        }
        var standing = c.standing()
        var shown: String?
        var attempt = 0
        while let m = standing, Date() < stop {
            switch m["type"]?.string {
            case "question":
                let q = m["question"]?.string ?? ""
                attempt = shown == q ? attempt + 1 : 0
                shown = q
                tally.answered()
                _ = c.send([("op", .string("answer")), ("question", .string(q)), ("text", .string(kioskAnswer(m, attempt: attempt)))])
                standing = c.standing()
            case "warning":
                _ = c.send([("op", .string("confirm"))])
                standing = c.standing()
            case "review":
                _ = c.send([("op", .string("finish"))])
                standing = c.standing()
            case "done":
                tally.finished(session)
                standing = nil
            case "error":
                let code = m["code"]?.string ?? "?"
                if code == "storage_failed" { tally.failed() } else { tally.error(code) }
                // The question stands: ask for it again.
                _ = c.send([("op", .string("repeat"))])
                standing = c.standing()
            default:
                tally.error("unexpected \(m["type"]?.string ?? "?")")
                standing = nil
            }
        }
    }
}

/// An `intake` child process with piped standard input and output.
final class Child: @unchecked Sendable {
    // `@unchecked Sendable`: `out` and `err` are written by reader threads and read by tests, always
    // holding `lock`; the Process and pipes are used as Foundation allows from any thread.
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let process = Process()
    private let input = Pipe()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private var readers = 0

    static func start(_ args: [String]) throws -> Child {
        let c = Child()
        signal(SIGPIPE, SIG_IGN)
        c.process.executableURL = ServeCommandTests.binary
        c.process.arguments = args
        c.process.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        env["LANG"] = "C"
        c.process.environment = env
        let out = Pipe(), err = Pipe()
        c.process.standardInput = c.input
        c.process.standardOutput = out
        c.process.standardError = err
        try c.process.run()
        c.read(out.fileHandleForReading, standardError: false)
        c.read(err.fileHandleForReading, standardError: true)
        return c
    }

    /// Runs to the end with `input` as its lines, then closed; killed after `timeout` seconds.
    static func run(_ args: [String], input: [String] = [], timeout: TimeInterval = 60) async throws -> Result {
        let c = try start(args)
        for line in input { c.write(line) }
        c.closeInput()
        let pid = c.process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(pid, SIGKILL)
        }
        let status = await c.exitStatus()
        watchdog.cancel()
        while c.lock.withLock({ c.readers }) > 0 { try await Task.sleep(for: .milliseconds(5)) }
        return Result(status: status, stdout: c.stdoutText, stderr: c.lock.withLock { String(decoding: c.err, as: UTF8.self) })
    }

    private func read(_ handle: FileHandle, standardError: Bool) {
        lock.withLock { readers += 1 }
        Thread { [self] in
            while true {
                let chunk = handle.readAvailable()
                if chunk.isEmpty { break }
                lock.withLock { if standardError { err += chunk } else { out += chunk } }
            }
            lock.withLock { readers -= 1 }
        }.start()
    }

    /// Starts it with `input` as its lines, then closed (blocking callers: `wait()` for the result).
    static func runInBackground(_ args: [String], input: [String] = []) -> Child {
        do {
            let c = try start(args)
            for line in input { c.write(line) }
            c.closeInput()
            return c
        } catch {
            let c = Child()
            c.failedToStart = true
            return c
        }
    }

    /// Waits (blocking) for the end, then returns its status and output.
    func wait() -> Result {
        guard !failedToStart else { return Result(status: -1, stdout: "", stderr: "could not start") }
        process.waitUntilExit()
        while lock.withLock({ readers }) > 0 { usleep(2_000) }
        return Result(status: process.terminationStatus, stdout: stdoutText, stderr: lock.withLock { String(decoding: err, as: UTF8.self) })
    }

    private var failedToStart = false

    func write(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    var stdoutText: String { lock.withLock { String(decoding: out, as: UTF8.self) } }

    /// Waits until standard output contains `text`.
    func output(contains text: String, timeout: TimeInterval) async -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if stdoutText.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func exitStatus() async -> Int32 {
        await ServeCommandTests.exitStatus(process)
    }
}
