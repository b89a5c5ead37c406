import Foundation
import Glibc
import GRDB
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeStore

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
        default:
            print("usage: IntakeCrash [--binary PATH] [--kills N] [--sessions C] [--dialog ID] [--dialogs DIR] [--counselors N] [--seconds S] [--sabotage]")
            exit(64)
        }
    }
    return o
}

/// Everything the clients and the killer share; every access holds `lock`.
final class Shared: @unchecked Sendable {
    let lock = NSLock()
    var port = 0
    var stop = false
    var acknowledged = 0
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
        if rc != 0 {
            close(fd)
            return nil
        }
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
    /// Questions of this session whose answers were acknowledged: a resumption must never stand at one.
    var answered: Set<String> = []
    var attempt = 0
    while !shared.with({ $0.stop }) {
        guard let line = Line(port: shared.with { $0.port }) else {
            usleep(50_000)
            continue
        }
        var current: [String: Any]?
        if let t = token {
            guard line.send("{\"op\":\"resume\",\"token\":\"\(t)\"}"), let s = line.next(), s["type"] as? String == "session" else { continue }
            current = line.standing()
            let at = current?["question"] as? String
            shared.with { sh in
                sh.resumes += 1
                // Where it must stand: at the question last shown, or — when an answer was in flight
                // and did reach the disk before the kill — past it.
                if let at, answered.contains(at) {
                    // Back at a question answered and acknowledged: that answer was lost.
                    sh.wrongResumes.append("\(session ?? "?"): at \(at), whose answer was acknowledged")
                } else if let inFlight, at != inFlight.question {
                    sh.answers[session ?? "", default: []].append(inFlight)  // committed without its reply
                } else if at != shown, inFlight == nil, current?["type"] as? String == "question" {
                    sh.wrongResumes.append("\(session ?? "?"): at \(at ?? "-"), expected \(shown ?? "-")")
                }
            }
            inFlight = nil
        } else {
            guard line.send("{\"op\":\"start\",\"locale\":\"ja\"}"), let s = line.next(), s["type"] as? String == "session" else { continue }
            token = s["token"] as? String
            session = s["session"] as? String
            shared.with { $0.started += 1 }
            current = line.standing()
        }
        /// A reply came: the answer in flight is acknowledged — unless it was refused (the same
        /// question again, or an error) or waits for a confirmation.
        func acknowledge(_ reply: [String: Any]?) {
            guard let r = reply, let sent = inFlight else { return }
            let type = r["type"] as? String
            if type == "warning" { return }
            if type == "error", r["code"] as? String == "storage_failed" { shared.with { $0.kioskFailed += 1 } }
            if type != "error", !(type == "question" && r["question"] as? String == sent.question) {
                shared.with { sh in
                    sh.acknowledged += 1
                    sh.answers[session ?? "", default: []].append(sent)
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
                shared.with { $0.kioskAttempted += 1 }
                guard line.send("{\"op\":\"answer\",\"question\":\"\(q)\",\"text\":\"\(text)\"}") else { current = nil; break }
                current = line.standing()
                acknowledge(current)
            case "warning":
                // The answer waits for the confirmation; its reply acknowledges it.
                guard line.send("{\"op\":\"confirm\"}") else { current = nil; break }
                current = line.standing()
                acknowledge(current)
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
                let chunk = screen.availableData
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
        out += String(decoding: screen.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        shared.with { $0.counselorWaits += waits }
        // Shown as saved: every answer when the run finished; else those followed by a next question.
        let shown = p.terminationStatus == 0 ? counselorLines.count : max(0, questions() - 1)
        shared.with { sh in
            sh.counselorAnswers[client] = Array(counselorLines.prefix(shown))
            if p.terminationStatus == 0 {
                sh.counselorFinished += 1
            } else {
                sh.counselorFailed.append("\(client): exit \(p.terminationStatus) \(err.split(separator: "\n").first ?? "")")
            }
        }
    }
}

func startServer(_ o: Options, db: String) -> (Process, Int)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: o.binary)
    p.arguments = ["serve", "--port", "0", "--db", db, "--dialog", o.dialog, "--dialogs", o.dialogs, "--max-connections", "4096",
                   // Every client is 127.0.0.1: the per-address limits are not what this measures.
                   "--max-connections-per-address", "4096", "--max-starts-per-address", "1000000"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return nil }
    var text = ""
    while !text.contains("\n") {
        let d = out.fileHandleForReading.availableData
        if d.isEmpty { return nil }
        text += String(decoding: d, as: UTF8.self)
    }
    guard let port = text.split(separator: "\n").first?.split(separator: ":").last.flatMap({ Int($0) }) else { return nil }
    return (p, port)
}

let o = options()
let dir = NSTemporaryDirectory() + "intake-crash-\(getpid())"
try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let db = dir + "/intake.sqlite"
let shared = Shared()
guard var (server, port) = startServer(o, db: db) else {
    print("could not start \(o.binary) serve")
    exit(1)
}
shared.with { $0.port = port }
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
    shared.with { $0.port = newPort }
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
exit(lost.isEmpty && s.4.isEmpty && k.1 == 0 && k.4.isEmpty ? 0 : 1)
