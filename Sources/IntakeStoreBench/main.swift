// Durable answers per second: `swift run -c release IntakeStoreBench [DIR]`.
// Each answer is one log entry committed (WAL, synchronous = FULL) before its caller goes on; C
// concurrent sessions append at once through the async `Store` (`SQLiteStore`: the commit thread
// gathers every waiting append into one transaction), each session a task awaiting its appends. Beside it, in the same run, raw SQLite
// single-row inserts in one transaction each with the same settings: the disk's fsync rate.
import Foundation
import GRDB
import IntakeEngine
import IntakeRuntime
import IntakeStore

let dir = CommandLine.arguments.dropFirst().first ?? FileManager.default.temporaryDirectory.path

func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func percentile(_ xs: [UInt64], _ p: Double) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return 0 }
    return Double(s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]) / 1e6
}

func row(_ name: String, _ count: Int, _ seconds: Double, _ lat: [UInt64]) {
    print("| \(name) | \(count) | \(Int(Double(count) / seconds)) | \(String(format: "%.2f", percentile(lat, 0.5))) | \(String(format: "%.2f", percentile(lat, 0.99))) |")
}

print("| measure | commits | per second | p50 ms | p99 ms |")
print("|---|---:|---:|---:|---:|")

// Raw SQLite: one INSERT per transaction, WAL, synchronous = FULL.
do {
    var config = Configuration()
    config.journalMode = .wal
    let queue = try DatabaseQueue(path: dir + "/raw-\(UUID().uuidString).sqlite", configuration: config)
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
        try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    }
    let n = 2000
    var lat: [UInt64] = []
    let start = nanos()
    for i in 0..<n {
        let t = nanos()
        try queue.write { db in try db.execute(sql: "INSERT INTO t (v) VALUES (?)", arguments: ["answer \(i)"]) }
        lat.append(nanos() - t)
    }
    row("raw SQLite, one-row transactions", n, Double(nanos() - start) / 1e9, lat)
}

// The session store: C sessions appending answers concurrently, each a task awaiting its append.
for (sessions, perSession) in [(1, 2000), (100, 40), (1000, 4)] {
    let store = try IntakeDatabase.open(path: dir + "/store-\(UUID().uuidString).sqlite").store
    var gen = SystemRandomNumberGenerator()
    let t0 = Moment(epochMillis: 1_790_000_000_000)
    for s in 0..<sessions {
        let info = SessionInfo(id: "s\(s)", dialogID: "intake", dialogVersion: "1", mode: .kiosk, locale: "ja",
                               status: .inProgress, startedAt: t0.epochMillis, updatedAt: t0.epochMillis)
        try await store.create(info, first: LogEntry(seq: 0, at: t0, actor: .client, event: .start(dialog: "intake", version: "1", locale: "ja", mode: .kiosk)),
                               token: ResumeToken.random(using: &gen))
    }
    let start = nanos()
    let latencies = await withTaskGroup(of: [UInt64].self) { group in
        for s in 0..<sessions {
            group.addTask {
                var lat: [UInt64] = []
                for i in 1...perSession {
                    let t = nanos()
                    try? await store.append([LogEntry(seq: i, at: t0, actor: .client, event: .input(.answer("answer \(i)")))],
                                            to: "s\(s)", status: .inProgress, locale: "ja", record: nil, at: t0.epochMillis)
                    lat.append(nanos() - t)
                }
                return lat
            }
        }
        var all: [UInt64] = []
        for await lat in group { all += lat }
        return all
    }
    row("session store, \(sessions) concurrent session\(sessions == 1 ? "" : "s")", sessions * perSession,
        Double(nanos() - start) / 1e9, latencies)
}
