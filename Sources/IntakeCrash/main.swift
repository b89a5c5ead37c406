import Synchronization
import Foundation
import Glibc
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import IntakeStore
import PostgresNIO

// Crash under load: runs `intake serve` as a child on a database file, C kiosk clients answering a
// dialog against it, and kills the server with SIGKILL at random moments, restarting it on the same
// database each time. Each client remembers every answer the server acknowledged (a reply came
// back) and, after each restart, resumes its session with its token and checks it stands at the
// right question. At the end every acknowledged answer is looked up in the database.
//
//   swift run -c release IntakeCrash [--binary .build/release/intake] [--kills 20] [--sessions 20]
//                                    [--dialog followup] [--dialogs Dialogs] [--counselors 0] [--seconds 1]
//                                    [--sabotage]
//
// --counselors N also runs N counselors beside the kiosks, on the same database file: each runs
// `intake run --mode counselor` (a follow-up, line by line, one run after another, with a client
// number of its own) while the kiosks write and the server is killed. Every answer a run showed as
// saved (the next question appeared) must be in its session's log, in order, and no run may fail.
//
// --sabotage checks the checker: after each kill, the two newest log entries of the session that
// wrote last are deleted before the restart (as a server that replied before committing would lose
// them), and the run must then report lost answers or wrong resumptions, and exit 1.
//
// --postgres ADMIN_URL runs the same on PostgreSQL: a fresh scratch database beside the one the URL
// names (its user needs CREATEDB; the password from PGPASSFILE / PGPASSWORD), --instances N (default
// 2) `intake serve` children on it, each on its own port. Every (re)connection of a client goes to an
// instance picked at random, so resumes move sessions across instances; each kill SIGKILLs a random
// instance and restarts it. Now and then a client walks away from its kiosk with an answer in flight
// and resumes at another one (a takeover, on either instance), then tries one more answer on the old
// connection: that one must never be acknowledged. --pg-restarts N stops the PostgreSQL server itself
// N times during the run (`pg_ctl stop -m immediate`) and starts it again a second later, with
// --pg-data DIR --pg-ctl PATH --pg-options OPTS (default: INTAKE_TEST_PG_DATA, INTAKE_TEST_PG_CTL,
// INTAKE_TEST_PG_OPTIONS, which Tests/Postgres/cluster prints; run as the `postgres` user when root).
// While it is down the instances answer `storage_failed` (not acknowledged; the clients retry).
// The checks, through PostgresStore (not GRDB): every acknowledged answer in its session's replayed
// log; every resumption at the right question; `verify()` clean; and no session live on two
// connections — an answer acknowledged on a connection after its session was resumed on another
// fails, and in each session's log the acknowledged inputs, in the order they were acknowledged,
// stand in log order with a `resume` entry between any two acknowledged on different connections
// and none between two acknowledged on the same one (after a resume, nothing from the old holder).
// --sabotage deletes the two newest events of the session that wrote last after each kill.

struct Options {
    var binary = ".build/release/intake"
    var kills = 20
    var sessions = 20
    var dialog = "followup"
    var dialogs = "Dialogs"
    var sabotage = false
    var counselors = 0
    /// Seconds the clients go on after the last kill (with --kills 0: a load run without crashes).
    var seconds = 1.0
    /// PostgreSQL: the admin URL (a scratch database is made beside it), instances, server restarts.
    var postgres: String?
    var instances = 2
    var pgRestarts = 0
    var pgData = ProcessInfo.processInfo.environment["INTAKE_TEST_PG_DATA"]
    var pgCtl = ProcessInfo.processInfo.environment["INTAKE_TEST_PG_CTL"]
    var pgOptions = ProcessInfo.processInfo.environment["INTAKE_TEST_PG_OPTIONS"]
    /// The instances connect as a login of their own, a member of intake_kiosk only (issue 16): the
    /// roles are in force while they are killed and the database restarts.
    var kioskRole = false
}

func options() -> Options {
    var o = Options()
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--binary": o.binary = args.next() ?? o.binary
        case "--kills": o.kills = args.next().flatMap(Int.init) ?? o.kills
        case "--sessions": o.sessions = args.next().flatMap(Int.init) ?? o.sessions
        case "--dialog": o.dialog = args.next() ?? o.dialog
        case "--dialogs": o.dialogs = args.next() ?? o.dialogs
        case "--sabotage": o.sabotage = true
        case "--counselors": o.counselors = args.next().flatMap(Int.init) ?? o.counselors
        case "--seconds": o.seconds = args.next().flatMap(Double.init) ?? o.seconds
        case "--postgres": o.postgres = args.next()
        case "--instances": o.instances = args.next().flatMap(Int.init) ?? o.instances
        case "--pg-restarts": o.pgRestarts = args.next().flatMap(Int.init) ?? o.pgRestarts
        case "--pg-data": o.pgData = args.next()
        case "--pg-ctl": o.pgCtl = args.next()
        case "--pg-options": o.pgOptions = args.next()
        case "--kiosk-role": o.kioskRole = true
        default:
            print("usage: IntakeCrash [--binary PATH] [--kills N] [--sessions C] [--dialog ID] [--dialogs DIR] [--counselors N] [--seconds S] [--sabotage]")
            print("                   [--postgres ADMIN_URL [--instances N] [--kiosk-role] [--pg-restarts N [--pg-data DIR] [--pg-ctl PATH] [--pg-options OPTS]]]")
            exit(64)
        }
    }
    return o
}

/// Everything the clients and the killer share; every access holds `lock`.
final class Shared: @unchecked Sendable {
    let lock = NSLock()
    /// The instances' ports (one on SQLite); a client picks one at random for each connection.
    var ports: [Int] = []
    /// PostgreSQL mode: clients also take their sessions over from another kiosk now and then.
    var takeovers = false
    /// Per session: every acknowledged input, in the order acknowledged, with the connection
    /// ("epoch", numbered per client) it was acknowledged on.
    var acks: [String: [(epoch: Int, question: String)]] = [:]
    /// Per session: each `storage_failed` an answer got, with its connection and how many inputs of
    /// the session were acknowledged before it. Such an answer may have been stored all the same;
    /// the connection's next answer then finds the session further on and reads it again from the
    /// store, on the same connection (its one `resume` entry, not another connection's).
    var inDoubt: [String: [(epoch: Int, acknowledgedBefore: Int)]] = [:]
    /// Per session: how many inputs were acknowledged before each attempt to take the session
    /// over on another connection (whether or not it succeeded). Only such an attempt can write a
    /// `resume` entry from another connection: the token is this client's alone.
    var takeoverAttemptsBefore: [String: [Int]] = [:]
    var takeoverAttempts = 0
    /// `bye resumed_elsewhere` seen on the old connection of a takeover.
    var takenOver = 0
    /// A session live on two connections, as a client saw it.
    var doubleLive: [String] = []
    var stop = false
    var acknowledged = 0
    /// When each answer was acknowledged (for the pause after a database restart).
    var acknowledgedAt: [Date] = []
    var wrongResumes: [String] = []
    var resumes = 0
    var completed = 0
    var started = 0
    /// Per session id: the acknowledged answers (question path, the text sent).
    var answers: [String: [(String, String)]] = [:]
    /// Kiosk answers sent, and those refused with `storage_failed`.
    var kioskAttempted = 0
    var kioskFailed = 0
    /// Counselors' runs: started, finished, failed (a write that failed ends a run: one answer each);
    /// per client number, the answers each run showed as saved.
    var counselorRuns = 0
    var counselorFinished = 0
    var counselorFailed: [String] = []
    var counselorAnswers: [String: [String]] = [:]
    /// How long each counselor's answer took to show the next question (ms).
    var counselorWaits: [Double] = []

    func with<T>(_ body: (Shared) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}

/// A blocking line connection (one per client thread).
final class Line {
    let fd: Int32
    private var buffer: [UInt8] = []

    init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Not closed here: a class's failable init that returns nil once every property is set
        // still runs `deinit`, which closes it. Closing it here too closed whatever the number had
        // been given to in between: a counselor's pipe, whose `intake run` then died of SIGPIPE.
        if rc != 0 { return nil }
    }

    deinit { close(fd) }

    func send(_ line: String) -> Bool {
        let bytes = Array((line + "\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// The next line as a JSON object, or nil when the connection ended.
    func next() -> [String: Any]? {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<lf])
                buffer.removeSubrange(...lf)
                return (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer += chunk[0..<n]
        }
    }

    /// Lines up to where the session stands: a question, the final review, done — or nil (closed).
    /// A soft-check warning is followed by the same question again: it stands as the warning.
    func standing() -> [String: Any]? {
        var warned = false
        while let m = next() {
            let type = m["type"] as? String
            if type == "question" || (type == "review" && m["final"] as? Bool == true) { return warned ? ["type": "warning"] : m }
            if type == "done" || type == "error" || type == "bye" { return m }
            if type == "warning" { warned = true }
        }
        return nil
    }
}

/// What a client types; `attempt` > 0 after the same question was refused.
func answerText(_ q: [String: Any], attempt: Int) -> String {
    let id = q["question"] as? String ?? ""
    switch q["kind"] as? String ?? "text" {
    case "yesno": return id.hasSuffix("+") || attempt > 0 ? "いいえ" : "はい"
    case "choice", "multi": return attempt == 0 ? "1" : "2"
    case "integer", "decimal": return attempt == 0 ? q["min"] as? String ?? "1" : q["max"] as? String ?? "2"
    case "date": return attempt == 0 ? "令和8年11月1日" : "2026-10-01"
    case "month": return "2020-04"
    case "time": return attempt == 0 ? "8時半" : "17"
    default: return attempt == 0 ? "テスト入力" : "1"
    }
}

let trace = ProcessInfo.processInfo.environment["INTAKE_CRASH_TRACE"] != nil

/// One kiosk client: sessions one after another, surviving every server kill.
func client(_ shared: Shared) {
    var token: String?
    var session: String?
    /// The question last shown with its answer acknowledged before it; and an answer sent but not acknowledged.
    var shown: String?
    var inFlight: (question: String, text: String)?
    /// The connection the answer in flight was sent on.
    var inFlightEpoch = 0
    /// Questions of this session whose answers were acknowledged: a resumption must never stand at one.
    var answered: Set<String> = []
    var attempt = 0
    /// The connection the session runs on now (a new one at each start or resume).
    var epoch = 0
    let takeovers = shared.with { $0.takeovers }
    func randomPort() -> Int { shared.with { $0.ports.randomElement() ?? 0 } }
    while !shared.with({ $0.stop }) {
        guard var line = Line(port: randomPort()) else {
            usleep(50_000)
            continue
        }
        var current: [String: Any]?
        if let t = token {
            let sent = line.send("{\"op\":\"resume\",\"token\":\"\(t)\"}")
            let reply = sent ? line.next() : nil
            guard let s = reply, s["type"] as? String == "session" else {
                if trace { print("resume refused: \(reply?["type"] as? String ?? "closed") \(reply?["code"] as? String ?? "")") }
                if takeovers { usleep(20_000) }  // the database may be down a while
                continue
            }
            epoch += 1
            current = line.standing()
            let at = current?["question"] as? String
            // Only where it stands tells whether the answer in flight was stored: a question (past
            // it or not), the final review, a warning waiting for its confirmation. No reply (a
            // receive timeout on a loaded machine), an error or a goodbye tells nothing: the answer
            // stays in flight for the next resumption to tell (counting it as stored found it, if
            // ever answered, later in the log, on a later connection: a false "log order" report).
            let type = current?["type"] as? String
            let tells = type == "question" || type == "review" || type == "warning"
            shared.with { sh in
                sh.resumes += 1
                // Where it must stand: at the question last shown, or — when an answer was in flight
                // and did reach the disk before the kill — past it.
                if let at, answered.contains(at) {
                    // Back at a question answered and acknowledged: that answer was lost.
                    sh.wrongResumes.append("\(session ?? "?"): at \(at), whose answer was acknowledged")
                } else if let inFlight, tells, at != inFlight.question {
                    sh.answers[session ?? "", default: []].append(inFlight)  // committed without its reply
                    sh.acks[session ?? "", default: []].append((inFlightEpoch, inFlight.question))
                } else if at != shown, inFlight == nil, current?["type"] as? String == "question" {
                    sh.wrongResumes.append("\(session ?? "?"): at \(at ?? "-"), expected \(shown ?? "-")")
                }
            }
            if tells { inFlight = nil }
        } else {
            guard line.send("{\"op\":\"start\",\"locale\":\"ja\"}"), let s = line.next(), s["type"] as? String == "session" else {
                if takeovers { usleep(20_000) }
                continue
            }
            token = s["token"] as? String
            session = s["session"] as? String
            epoch += 1
            shared.with { $0.started += 1 }
            current = line.standing()
        }
        /// A reply came: the answer in flight is acknowledged — unless it was refused (the same
        /// question again, or an error), waits for a confirmation, or the connection was told its
        /// session went elsewhere (`bye`: nothing written).
        func acknowledge(_ reply: [String: Any]?, on connection: Int) {
            guard let r = reply, let sent = inFlight else { return }
            let type = r["type"] as? String
            if type == "warning" || type == "bye" { return }
            if type == "error", r["code"] as? String == "storage_failed" {
                shared.with { sh in
                    sh.kioskFailed += 1
                    sh.inDoubt[session ?? "", default: []].append((connection, sh.acks[session ?? ""]?.count ?? 0))
                }
                // PostgreSQL: a connection lost while its COMMIT was under way leaves the outcome
                // unknown (the server restarting): the answer stays in flight, and the resumption
                // says whether it was stored (never counted as acknowledged unless it was).
                if takeovers { return }
            }
            if type != "error", !(type == "question" && r["question"] as? String == sent.question) {
                shared.with { sh in
                    sh.acknowledged += 1
                    sh.acknowledgedAt.append(Date())
                    sh.answers[session ?? "", default: []].append(sent)
                    sh.acks[session ?? "", default: []].append((connection, sent.question))
                }
                answered.insert(sent.question)
            }
            inFlight = nil
        }
        while let m = current, !shared.with({ $0.stop }) {
            if trace { print("< \(m["type"] as? String ?? "?") \(m["question"] as? String ?? "") \(m["code"] as? String ?? "")") }
            switch m["type"] as? String {
            case "question":
                let q = m["question"] as? String ?? ""
                attempt = shown == q ? attempt + 1 : 0
                shown = q
                let text = answerText(m, attempt: attempt)
                inFlight = (q, text)
                inFlightEpoch = epoch
                shared.with { $0.kioskAttempted += 1 }
                guard line.send("{\"op\":\"answer\",\"question\":\"\(q)\",\"text\":\"\(text)\"}") else { current = nil; break }
                if takeovers, Int.random(in: 0..<16) == 0, let t = token, let other = Line(port: randomPort()) {
                    // The client walks away with this answer in flight and resumes at another kiosk
                    // (on either instance); the old connection must give the session up.
                    shared.with { sh in
                        sh.takeoverAttempts += 1
                        sh.takeoverAttemptsBefore[session ?? "", default: []].append(sh.acks[session ?? ""]?.count ?? 0)
                    }
                    guard other.send("{\"op\":\"resume\",\"token\":\"\(t)\"}"), let s = other.next(), s["type"] as? String == "session" else {
                        current = line.standing()
                        acknowledge(current, on: epoch)
                        break
                    }
                    let old = line, oldEpoch = epoch
                    epoch += 1
                    let resumed = other.standing()
                    let reply = old.standing()
                    acknowledge(reply, on: oldEpoch)
                    let at = resumed?["type"] as? String == "question" ? resumed?["question"] as? String : nil
                    shared.with { sh in
                        sh.resumes += 1
                        if let at, at == q, answered.contains(q) {
                            sh.doubleLive.append("\(session ?? "?"): the answer to \(q) was acknowledged on the old connection, but the session resumed on the new one stands at \(q)")
                        } else if let at, answered.contains(at) {
                            sh.wrongResumes.append("\(session ?? "?"): at \(at), whose answer was acknowledged (takeover)")
                        } else if let sent = inFlight, reply?["type"] as? String != "warning", let at, at != sent.question {
                            sh.answers[session ?? "", default: []].append(sent)  // committed without its reply
                            sh.acks[session ?? "", default: []].append((oldEpoch, sent.question))
                            answered.insert(sent.question)
                        }
                        if reply?["type"] as? String == "bye", reply?["reason"] as? String == "resumed_elsewhere" { sh.takenOver += 1 }
                    }
                    if reply?["type"] as? String != "warning" { inFlight = nil }
                    // One more answer on the old connection, which may not have heard yet: it must
                    // never be acknowledged (the new connection holds the session).
                    if reply?["type"] as? String == "question", let q2 = reply?["question"] as? String, let r = reply {
                        let stale = answerText(r, attempt: 0)
                        if old.send("{\"op\":\"answer\",\"question\":\"\(q2)\",\"text\":\"\(stale)\"}") {
                            let r2 = old.standing()
                            let type = r2?["type"] as? String
                            shared.with { sh in
                                switch type {
                                case nil, "error": break
                                case "bye":
                                    if r2?["reason"] as? String == "resumed_elsewhere" { sh.takenOver += 1 }
                                case "question" where r2?["question"] as? String == q2: break
                                default:
                                    sh.doubleLive.append("\(session ?? "?"): an answer to \(q2) acknowledged (\(type ?? "?")) on a connection after its session was resumed on another")
                                }
                            }
                        }
                    }
                    line = other
                    current = resumed
                    break
                }
                current = line.standing()
                acknowledge(current, on: epoch)
            case "warning":
                // The answer waits for the confirmation; its reply acknowledges it.
                guard line.send("{\"op\":\"confirm\"}") else { current = nil; break }
                current = line.standing()
                acknowledge(current, on: epoch)
            case "review":
                guard line.send("{\"op\":\"finish\"}") else { current = nil; break }
                current = line.standing()
            case "done":
                shared.with { $0.completed += 1 }
                token = nil
                session = nil
                shown = nil
                answered = []
                current = nil
            default:
                current = nil
            }
        }
    }
}

/// A counselor's follow-up, line by line (the second conversation of Dialogs/tests/followup.yaml).
let counselorLines = ["いいえ", "10月に父が入院し、介護で手が離せない", "1", "", "いまはまだ考えられない", "3", "",
                      "父の退院の見通しが立つまでは動けない", "まだわからない"]

/// One counselor: `intake run` processes one after another on the database, never killed.
func counselor(_ number: Int, _ o: Options, db: String, _ shared: Shared) {
    var run = 0
    while !shared.with({ $0.stop }) {
        run += 1
        let client = "crash-c\(number)-\(run)"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: o.binary)
        p.arguments = ["run", "--db", db, "--dialog", "followup", "--dialogs", o.dialogs, "--mode", "counselor",
                       "--counselor", "相談員\(number)", "--client", client, "--fresh", "--today", "2026-11-23"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        do { try p.run() } catch {
            shared.with { $0.counselorFailed.append("\(client): could not start") }
            return
        }
        shared.with { $0.counselorRuns += 1 }
        // Line by line at a brisk human pace, each once the next question is shown (as a counselor
        // reads it), timing how long the answer took to be saved and the next question shown.
        let screen = output.fileHandleForReading
        var out = ""
        var waits: [Double] = []
        func questions() -> Int { out.split(separator: "\n").filter { $0.hasPrefix("[") }.count }
        func waitForQuestions(_ n: Int) -> Bool {
            while questions() < n {
                let chunk = screen.readAvailable()
                if chunk.isEmpty { return false }
                out += String(decoding: chunk, as: UTF8.self)
            }
            return true
        }
        var open = waitForQuestions(1)
        for (i, line) in counselorLines.enumerated() where open {
            usleep(UInt32.random(in: 0...20_000))
            let sent = DispatchTime.now().uptimeNanoseconds
            input.fileHandleForWriting.write(Data((line + "\n").utf8))
            // After the last answer comes the review, not a question.
            if i + 1 < counselorLines.count {
                open = waitForQuestions(i + 2)
                if open { waits.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6) }
            }
        }
        if open { input.fileHandleForWriting.write(Data(":finish\n".utf8)) }
        try? input.fileHandleForWriting.close()
        out += String(decoding: screen.readToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        shared.with { $0.counselorWaits += waits }
        // Shown as saved: every answer when the run finished; else those followed by a next question.
        let shown = p.terminationStatus == 0 ? counselorLines.count : max(0, questions() - 1)
        shared.with { sh in
            sh.counselorAnswers[client] = Array(counselorLines.prefix(shown))
            if p.terminationStatus == 0 {
                sh.counselorFinished += 1
            } else {
                // A signal is told apart from an exit status (SIGPIPE's 13 is also a plausible status).
                let how = p.terminationReason == .uncaughtSignal ? "signal" : "exit"
                sh.counselorFailed.append("\(client): \(how) \(p.terminationStatus) \(err.split(separator: "\n").first ?? "")")
            }
        }
    }
}

/// Each started server's log file.
let serveLogs = Mutex<[ObjectIdentifier: String]>([:])

func startServer(_ o: Options, db: String, environment: [String: String] = [:]) -> (Process, Int)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: o.binary)
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
    p.arguments = ["serve", "--port", "0", "--db", db, "--dialog", o.dialog, "--dialogs", o.dialogs, "--max-connections", "4096",
                   // Every client is 127.0.0.1: the per-address limits are not what this measures.
                   "--max-connections-per-address", "4096", "--max-starts-per-address", "1000000",
                   "--max-input-megabytes-per-address", "1000000"]
    let out = Pipe()
    p.standardOutput = out
    // Its log (no answers in it: the server never logs them), kept where an instance that ends on
    // its own can be looked into.
    let log = NSTemporaryDirectory() + "intake-crash-serve-\(getpid())-\(UUID().uuidString.prefix(8)).log"
    FileManager.default.createFile(atPath: log, contents: nil)
    p.standardError = FileHandle(forWritingAtPath: log) ?? FileHandle.nullDevice
    serveLogs.withLock { $0[ObjectIdentifier(p)] = log }
    do { try p.run() } catch { return nil }
    var text = ""
    while !text.contains("\n") {
        let d = out.fileHandleForReading.readAvailable()
        if d.isEmpty { return nil }
        text += String(decoding: d, as: UTF8.self)
    }
    guard let port = text.split(separator: "\n").first?.split(separator: ":").last.flatMap({ Int($0) }) else { return nil }
    return (p, port)
}

// MARK: - PostgreSQL

/// Runs async work from this synchronous tool (the main thread waits; the work runs detached).
final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

func blocking<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = Outcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { outcome.result = .success(try await body()) } catch { outcome.result = .failure(error) }
        done.signal()
    }
    done.wait()
    guard let result = outcome.result else { throw CancellationError() }
    return try result.get()
}

/// Runs a command to its end (as the cluster's owner, `postgres`, when this runs as root); whether it
/// succeeded. Spawned and reaped here (posix_spawn, waitpid): Foundation's Process never saw
/// `pg_ctl start` end, whose server lives on after it.
func runCommand(_ arguments: [String], asOwner: Bool) -> Bool {
    let argv = (asOwner && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + arguments
    guard let path = argv.first else { return false }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for a in cArgs { free(a) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, path, &actions, nil, cArgs, environ) == 0 else { return false }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return false }
    }
    return status == 0
}

/// In a session's log, the acknowledged inputs (in the order acknowledged, each with the connection
/// it was acknowledged on) found in log order: each is the next input entry that changed its
/// question's answer. Between two acknowledged on the same connection there may be no `resume`
/// entry (someone else took the session and the old holder still wrote); between two on different
/// connections there must be one. What breaks either, or is not found, is reported. (Except that
/// after each answer told `storage_failed` (`inDoubt`) its connection may have read the session
/// again from the store, one `resume` entry of its own: see `Shared.inDoubt`. And a `resume` entry
/// between two inputs acknowledged on one connection, with no attempt by the client to take the
/// session over in between, is that connection's own: only the client holds the token. It reads
/// the session again when the store holds more than it knew — a COMMIT that landed though the
/// database's connection broke, retried by the committer and found already written — without a
/// `storage_failed` in between: `Connection.step`, `StoreError.outOfOrder`.)
func interleavings(_ log: [LogEntry], acks: [(epoch: Int, question: String)], inDoubt: [(epoch: Int, acknowledgedBefore: Int)],
                   takeoverAttemptsBefore: [Int], dialog: Dialog, session: String) -> [String] {
    var problems: [String] = []
    var position = -1
    var previousEpoch: Int?
    for (k, (epoch, question)) in acks.enumerated() {
        guard let path = dialog.parsePath(question) else {
            problems.append("\(session) \(question): not a question of the dialog")
            continue
        }
        var found: Int?
        for i in (position + 1)..<max(position + 1, log.count) {
            guard case .input = log[i].event, log[i].answers?.contains(where: { $0.path == path }) == true else { continue }
            found = i
            break
        }
        guard let index = found else {
            problems.append("\(session) \(question): acknowledged, not in its log after the input acknowledged before it")
            continue
        }
        let resumes = log[(position + 1)..<index].count { entry in
            if case .resume = entry.event { return true }
            return false
        }
        // Answers told storage_failed on this connection since the one acknowledged before.
        let rereads = inDoubt.count { $0.epoch == epoch && $0.acknowledgedBefore == k }
        let attempts = takeoverAttemptsBefore.count { $0 == k }
        if let previousEpoch, previousEpoch == epoch, resumes > rereads, attempts > 0 {
            problems.append("\(session) \(question): acknowledged on a connection after the session was resumed on another (\(resumes) resume entries before it)")
        } else if let previousEpoch, previousEpoch != epoch, resumes == 0 {
            problems.append("\(session) \(question): acknowledged on a new connection, with no resume entry since the old one's last input")
        }
        position = index
        previousEpoch = epoch
    }
    return problems
}

/// The instances' URL and the environment they need: the scratch database as its owner, or with
/// --kiosk-role as a kiosk login made for this run (its password in PGPASSWORD, never on a command line).
nonisolated(unsafe) var serveLogin: (url: String, environment: [String: String], login: String?) = ("", [:], nil)

func startPostgresServer(_ o: Options, url: String) -> (Process, Int)? {
    startServer(o, db: serveLogin.login == nil ? url : serveLogin.url, environment: serveLogin.environment)
}

/// A login that is a member of intake_kiosk only, on the scratch database (migrated by its owner
/// first: a kiosk login may not change the schema).
func makeKioskLogin(_ scratch: PostgresScratch.Database) throws -> (url: String, environment: [String: String], login: String?) {
    let login = "crash_kiosk_" + UUID().uuidString.prefix(8).lowercased()
    let password = UUID().uuidString
    try blocking {
        let owner = try await scratch.open()
        _ = try await scratch.sql("CREATE ROLE \(login) LOGIN PASSWORD '\(password)'")
        try await owner.grant(.kiosk, to: login, office: nil, at: Int64(Date().timeIntervalSince1970 * 1000))
        await owner.close()
    }
    guard var components = URLComponents(string: scratch.url) else { throw CocoaError(.fileReadInvalidFileName) }
    components.user = login
    return (components.string ?? scratch.url, ["PGPASSWORD": password], login)
}

/// Drops the run's kiosk login (after its database: a role with privileges there cannot go first).
func dropKioskLogin(admin: String) {
    guard let login = serveLogin.login else { return }
    _ = try? blocking { try await PostgresScratch.texts(admin, ["DROP ROLE IF EXISTS \(login)"]) }
}

func runPostgres(_ o: Options, admin: String) -> Never {
    if o.pgRestarts > 0, o.pgData == nil || o.pgCtl == nil || o.pgOptions == nil {
        print("--pg-restarts needs --pg-data, --pg-ctl and --pg-options (or INTAKE_TEST_PG_DATA, INTAKE_TEST_PG_CTL, INTAKE_TEST_PG_OPTIONS from Tests/Postgres/cluster)")
        exit(64)
    }
    let scratch: PostgresScratch.Database
    do {
        scratch = try blocking { try await PostgresScratch.create(admin: admin) }
    } catch {
        print("could not create a scratch database beside \(admin): \(String(reflecting: type(of: error)))")
        exit(1)
    }
    let url = scratch.url
    if o.kioskRole {
        do {
            serveLogin = try makeKioskLogin(scratch)
            print("intake serve instances run as the kiosk login \(serveLogin.login ?? "?") (a member of intake_kiosk only)")
        } catch {
            print("could not make a kiosk login (the admin URL's user needs CREATEROLE): \(String(reflecting: error))")
            _ = try? blocking { await scratch.drop() }; dropKioskLogin(admin: admin)
            exit(1)
        }
    }
    let shared = Shared()
    shared.takeovers = true
    var servers: [Process] = []
    for _ in 0..<max(1, o.instances) {
        guard let (server, port) = startPostgresServer(o, url: url) else {
            print("could not start \(o.binary) serve on \(url)")
            _ = try? blocking { await scratch.drop() }; dropKioskLogin(admin: admin)
            exit(1)
        }
        servers.append(server)
        shared.with { $0.ports.append(port) }
    }
    let threads = (0..<o.sessions).map { _ in Thread { client(shared) } }
    for t in threads { t.stackSize = 512 * 1024; t.start() }
    var generator = SystemRandomNumberGenerator()
    enum Action { case kill, pgRestart }
    let actions = (Array(repeating: Action.kill, count: o.kills) + Array(repeating: Action.pgRestart, count: o.pgRestarts)).shuffled(using: &generator)
    var kills = 0, pgRestarts = 0, exitedOnTheirOwn = 0, sabotaged = 0
    /// When each database restart began (the server stopped) and when it was back up.
    var restartTimes: [(stopped: Date, back: Date)] = []
    let started = Date()
    func fail(_ message: String) -> Never {
        print(message)
        shared.with { $0.stop = true }
        for s in servers { kill(s.processIdentifier, SIGKILL) }
        _ = try? blocking { await scratch.drop() }; dropKioskLogin(admin: admin)
        exit(1)
    }
    for action in actions {
        usleep(UInt32.random(in: 200_000...900_000, using: &generator))
        switch action {
        case .kill:
            let i = Int.random(in: 0..<servers.count, using: &generator)
            kill(servers[i].processIdentifier, SIGKILL)
            servers[i].waitUntilExit()
            kills += 1
            if o.sabotage {
                // The two newest entries of the session that wrote last are lost, as if never written.
                do {
                    _ = try blocking {
                        try await scratch.sql("""
                            DELETE FROM event WHERE (session_id, seq) IN (
                              SELECT session_id, seq FROM event
                              WHERE session_id = (SELECT session_id FROM event ORDER BY at DESC, seq DESC LIMIT 1)
                              ORDER BY seq DESC LIMIT 2)
                            """)
                    }
                    sabotaged += 1
                } catch {
                    fail("could not sabotage the database: \(String(reflecting: type(of: error)))")
                }
            }
            guard let (next, port) = startPostgresServer(o, url: url) else { fail("could not restart an instance") }
            servers[i] = next
            shared.with { $0.ports[i] = port }
        case .pgRestart:
            guard let data = o.pgData, let ctl = o.pgCtl, let options = o.pgOptions else { fail("no --pg-data") }
            let stopped = Date()
            guard runCommand([ctl, "-D", data, "-m", "immediate", "-w", "stop"], asOwner: true) else { fail("pg_ctl stop failed") }
            usleep(1_000_000)
            guard runCommand([ctl, "-D", data, "-l", data + "/server.log", "-w", "-t", "60", "-o", options, "start"], asOwner: true) else {
                fail("pg_ctl start failed")
            }
            restartTimes.append((stopped, Date()))
            pgRestarts += 1
        }
        // An instance that ended without being killed (it must ride out the database's restarts).
        for i in servers.indices where !servers[i].isRunning {
            exitedOnTheirOwn += 1
            print("an instance ended on its own (status \(servers[i].terminationStatus)); its log: \(serveLogs.withLock { $0[ObjectIdentifier(servers[i])] } ?? "?")")
            guard let (next, port) = startPostgresServer(o, url: url) else { fail("could not restart an instance") }
            servers[i] = next
            shared.with { $0.ports[i] = port }
        }
    }
    usleep(UInt32(o.seconds * 1_000_000))
    // After a database restart, run on until a kiosk's answer is acknowledged again (up to 20 s), so
    // that how long kiosks waited is always measured, even when the restart was the last action.
    if let last = restartTimes.last {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, !shared.with({ $0.acknowledgedAt.contains { $0 > last.back } }) { usleep(50_000) }
    }
    shared.with { $0.stop = true }
    for s in servers where s.isRunning {
        kill(s.processIdentifier, SIGKILL)
        s.waitUntilExit()
    }
    while threads.contains(where: { !$0.isFinished }) { usleep(20_000) }
    let seconds = Date().timeIntervalSince(started)

    // The checks, read through the PostgreSQL store.
    let project = Project.load(paths: [o.dialogs])
    guard let dialog = project.dialogs[o.dialog] else { fail("unknown dialog \(o.dialog)") }
    let (answers, acks, inDoubt, attemptsBefore) = shared.with { ($0.answers, $0.acks, $0.inDoubt, $0.takeoverAttemptsBefore) }
    struct Findings: Sendable {
        var checked = 0
        var lost: [String] = []
        var interleaved: [String] = []
        var damaged = 0
        var sessions = 0
        var events = 0
    }
    let catalog = project.catalog
    let findings: Findings
    do {
        findings = try blocking {
            let store = try await scratch.open()
            var f = Findings()
            let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: catalog), store: store)
            // The log's hash chain must hold in every session (a log cut short or edited breaks it).
            let verification = try await store.verify()
            f.sessions = verification.intact.count + verification.damaged.count
            f.events = verification.intact.reduce(0) { $0 + $1.entries }
            f.damaged = verification.damaged.count
            for id in verification.damaged { f.lost.append("\(id) (log damaged: its hash chain does not hold)") }
            for id in verification.orphans { f.lost.append("\(id) (log entries without a session)") }
            for (session, sent) in answers {
                guard let log = try? await store.log(of: session) else { continue }  // damaged: counted above
                let state = try runner.replay(log)
                for (question, _) in sent {
                    f.checked += 1
                    guard let path = dialog.parsePath(question), state.answers[path] != nil else {
                        f.lost.append("\(session) \(question)")
                        continue
                    }
                }
                f.interleaved += interleavings(log, acks: acks[session] ?? [], inDoubt: inDoubt[session] ?? [],
                                               takeoverAttemptsBefore: attemptsBefore[session] ?? [], dialog: dialog, session: session)
            }
            await store.close()
            return f
        }
    } catch {
        fail("could not read the database back: \(String(reflecting: error))")
    }
    _ = try? blocking { await scratch.drop() }; dropKioskLogin(admin: admin)
    let s = shared.with { ($0.started, $0.completed, $0.acknowledged, $0.resumes, $0.wrongResumes, $0.kioskAttempted, $0.kioskFailed) }
    let t = shared.with { ($0.takeoverAttempts, $0.takenOver, $0.doubleLive) }
    print("PostgreSQL, \(max(1, o.instances)) instances, \(o.sessions) clients, \(String(format: "%.0f", seconds)) s\(o.sabotage ? ", sabotaged after each kill (\(sabotaged))" : "")")
    print("")
    print("| kills | pg restarts | sessions started | completed | answers acknowledged | answers checked | answers lost | resumes | wrong resumes |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("| \(kills) | \(pgRestarts) | \(s.0) | \(s.1) | \(s.2) | \(findings.checked) | \(findings.lost.count) | \(s.3) | \(s.4.count) |")
    print("")
    print("| answers attempted | storage_failed | takeovers | old connection told resumed_elsewhere | live on two connections | log order broken | sessions (damaged) | events | instances that exited on their own |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("| \(s.5) | \(s.6) | \(t.0) | \(t.1) | \(t.2.count) | \(findings.interleaved.count) | \(findings.sessions) (\(findings.damaged)) | \(findings.events) | \(exitedOnTheirOwn) |")
    // How long kiosks waited: from the database being back up to the next acknowledged answer.
    let acknowledgedAt = shared.with { $0.acknowledgedAt }.sorted()
    for (n, r) in restartTimes.enumerated() {
        let next = acknowledgedAt.first { $0 > r.back }
        print("pg restart \(n + 1): down \(String(format: "%.1f", r.back.timeIntervalSince(r.stopped))) s; the next answer acknowledged "
              + (next.map { String(format: "%.2f s after it was back", $0.timeIntervalSince(r.back)) } ?? "— none within the run (it waits 20 s after the last restart)"))
    }
    for l in findings.lost.prefix(10) { print("lost: \(l)") }
    for w in s.4.prefix(10) { print("wrong resume: \(w)") }
    for d in t.2.prefix(10) { print("live on two connections: \(d)") }
    for i in findings.interleaved.prefix(10) { print("log order: \(i)") }
    let ok = findings.lost.isEmpty && s.4.isEmpty && t.2.isEmpty && findings.interleaved.isEmpty && exitedOnTheirOwn == 0
    exit(ok ? 0 : 1)
}

let o = options()
if let admin = o.postgres { runPostgres(o, admin: admin) }
let dir = NSTemporaryDirectory() + "intake-crash-\(getpid())"
try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let db = dir + "/intake.sqlite"
let shared = Shared()
guard var (server, port) = startServer(o, db: db) else {
    print("could not start \(o.binary) serve")
    exit(1)
}
shared.with { $0.ports = [port] }
let threads = (0..<o.sessions).map { _ in Thread { client(shared) } }
    + (0..<o.counselors).map { n in Thread { counselor(n + 1, o, db: db, shared) } }
for t in threads { t.stackSize = 512 * 1024; t.start() }
var generator = SystemRandomNumberGenerator()
for _ in 0..<o.kills {
    usleep(UInt32.random(in: 200_000...900_000, using: &generator))
    kill(server.processIdentifier, SIGKILL)
    server.waitUntilExit()
    if o.sabotage {
        // The newest committed entry (of whichever session wrote last) is lost, as if never written.
        do {
            var config = Configuration()
            config.busyMode = .timeout(30)  // counselors write meanwhile
            let queue = try DatabaseQueue(path: db, configuration: config)
            try queue.write { db in
                // The two newest entries of the session that wrote last: the newest may be an answer
                // committed whose reply the kill swallowed (not acknowledged, so not lost); the one
                // before it was acknowledged.
                try db.execute(sql: """
                    DELETE FROM event WHERE rowid IN (
                      SELECT rowid FROM event WHERE sessionId = (SELECT sessionId FROM event ORDER BY rowid DESC LIMIT 1)
                      ORDER BY seq DESC LIMIT 2)
                    """)
            }
            try queue.close()
        } catch {
            print("could not sabotage the database: \(error)")
            exit(2)
        }
    }
    guard let (next, newPort) = startServer(o, db: db) else {
        print("could not restart the server")
        exit(1)
    }
    server = next
    shared.with { $0.ports = [newPort] }
}
usleep(UInt32(o.seconds * 1_000_000))
shared.with { $0.stop = true }
kill(server.processIdentifier, SIGKILL)
server.waitUntilExit()
while threads.contains(where: { !$0.isFinished }) { usleep(20_000) }

// Every acknowledged answer must be in the database: each session's log replayed.
let project = Project.load(paths: [o.dialogs])
guard let dialog = project.dialogs[o.dialog] else {
    print("unknown dialog \(o.dialog)")
    exit(1)
}
let store = try IntakeDatabase.open(path: db)
let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: store.store)
var checked = 0, lost: [String] = []
// The log's hash chain must hold in every session (a log cut short or edited breaks it).
let verification = try store.verify()
for id in verification.damaged { lost.append("\(id) (log damaged: its hash chain does not hold)") }
for (session, answers) in shared.with({ $0.answers }) {
    guard let log = try? store.log(of: session) else { continue }  // damaged: counted above
    let state = try runner.replay(log)
    for (question, _) in answers {
        checked += 1
        guard let path = dialog.parsePath(question), state.answers[path] != nil else {
            lost.append("\(session) \(question)")
            continue
        }
    }
}
// Every answer a counselor's run showed as saved must be in its session's log, in order.
var counselorChecked = 0
for (client, sent) in shared.with({ $0.counselorAnswers }) where !sent.isEmpty {
    let id = try store.writer.read { db in try String.fetchOne(db, sql: "SELECT id FROM session WHERE clientId = ?", arguments: [client]) }
    var logged: [String] = []
    if let id {
        for entry in (try? store.log(of: id)) ?? [] {
            if case .input(.answer(let text)) = entry.event, !text.isEmpty { logged.append(text) }
        }
    }
    var rest = logged[...]
    for (i, text) in sent.enumerated() where !text.isEmpty {
        counselorChecked += 1
        if rest.first == text { rest = rest.dropFirst() } else { lost.append("\(client) (counselor) answer \(i + 1)") }
    }
}
let s = shared.with { ($0.started, $0.completed, $0.acknowledged, $0.resumes, $0.wrongResumes) }
print("| kills | sessions started | completed | answers acknowledged | answers checked | answers lost | resumes | wrong resumes |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
print("| \(o.kills) | \(s.0) | \(s.1) | \(s.2) | \(checked) | \(lost.count) | \(s.3) | \(s.4.count) |")
let k = shared.with { ($0.kioskAttempted, $0.kioskFailed, $0.counselorRuns, $0.counselorFinished, $0.counselorFailed) }
let counselorAttempted = shared.with { $0.counselorAnswers.values.reduce(0) { $0 + $1.count } } + k.4.count
print("")
print("| who | answers attempted | failed | checked | lost | runs (finished) |")
print("|---|---:|---:|---:|---:|---:|")
print("| kiosks | \(k.0) | \(k.1) | \(checked) | \(lost.count { !$0.contains("(counselor)") }) | \(s.0) (\(s.1)) |")
if o.counselors > 0 {
    print("| counselors | \(counselorAttempted) | \(k.4.count) | \(counselorChecked) | \(lost.count { $0.contains("(counselor)") }) | \(k.2) (\(k.3)) |")
}
let waits = shared.with { $0.counselorWaits }.sorted()
if !waits.isEmpty {
    let p99 = waits[min(waits.count - 1, waits.count * 99 / 100)]
    print("")
    print(String(format: "counselors' answers saved and the next question shown: median %.1f ms, p99 %.1f ms, max %.1f ms (%d answers)",
                 waits[waits.count / 2], p99, waits.last ?? 0, waits.count))
}
for l in lost.prefix(10) { print("lost: \(l)") }
for w in s.4.prefix(10) { print("wrong resume: \(w)") }
for f in k.4.prefix(10) { print("counselor run failed: \(f)") }
try? FileManager.default.removeItem(atPath: dir)
let passed = lost.isEmpty && s.4.isEmpty && k.1 == 0 && k.4.isEmpty
// The instances' logs are for looking into a failure: a passing run leaves none behind.
let logs = serveLogs.withLock { Array($0.values) }
if passed {
    for log in logs { try? FileManager.default.removeItem(atPath: log) }
} else if !logs.isEmpty {
    print("intake serve logs kept: \(NSTemporaryDirectory())intake-crash-serve-\(getpid())-*.log (\(logs.count))")
}
exit(passed ? 0 : 1)
