// The kiosk pg phases: `intake serve` processes on a scratch PostgreSQL database, and what the
// machine spends on a turn there (each process's CPU from /proc, the database's own counters).
import Foundation
import IntakeRuntime
import IntakePostgres
import Logging
import NIOCore
import PostgresNIO

/// `intake serve` processes on one scratch database, and how to read what they cost.
final class PostgresRun: Sendable {
    let database: PostgresScratch.Database
    /// Where each instance listens, in start order.
    let addresses: [SocketAddress]
    /// The instances' process ids (same order).
    let servePIDs: [Int32]
    /// The PostgreSQL server's postmaster (its children are the backends and background workers),
    /// when it runs on this machine and /proc shows it.
    let postmaster: Int32?
    /// Whether pg_stat_statements is there (the cluster preloads it and the database has the extension).
    let statements: Bool

    init(database: PostgresScratch.Database, addresses: [SocketAddress], servePIDs: [Int32], postmaster: Int32?, statements: Bool) {
        self.database = database
        self.addresses = addresses
        self.servePIDs = servePIDs
        self.postmaster = postmaster
        self.statements = statements
    }

    /// What one sample holds, in order (`PhaseResult.sampled` keeps the differences).
    enum Sampled: Int, CaseIterable {
        case serve1, serve2, postgres, transactions, walBytes, statements, executionMillis
    }

    /// CPU seconds of each instance and of the whole PostgreSQL server; the newest transaction id
    /// (write transactions: every one gets an id, read-only ones none; exact, unlike the cumulative
    /// statistics, which backends report up to a second late); WAL bytes written; statements run
    /// in this database and their execution time (pg_stat_statements, when available, else 0).
    func sample() async -> [Double] {
        var values = [Double](repeating: 0, count: Sampled.allCases.count)
        for (i, pid) in servePIDs.prefix(2).enumerated() { values[i] = procStat(pid)?.cpu ?? 0 }
        if let postmaster { values[Sampled.postgres.rawValue] = clusterCPU(postmaster) }
        if let rows = try? await database.sql("SELECT pg_current_xact_id()::text::bigint, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"),
           let (xid, wal) = try? rows.first?.decode((Int64, Int64).self) {
            values[Sampled.transactions.rawValue] = Double(xid)
            values[Sampled.walBytes.rawValue] = Double(wal)
        }
        if statements,
           let rows = try? await database.sql("""
               SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(total_exec_time), 0)::float8 FROM pg_stat_statements
               WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
               """),
           let (calls, millis) = try? rows.first?.decode((Int64, Double).self) {
            values[Sampled.statements.rawValue] = Double(calls)
            values[Sampled.executionMillis.rawValue] = millis
        }
        return values
    }
}

/// A process's parent and CPU seconds (user + system) from /proc/PID/stat.
func procStat(_ pid: Int32) -> (ppid: Int32, cpu: Double)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    // After the command's closing parenthesis: state, ppid, … utime (14th field), stime (15th).
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let ppid = Int32(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    return (ppid, (user + system) / (ticks > 0 ? ticks : 100))
}

/// CPU seconds of a PostgreSQL server: the postmaster and every process it started (backends,
/// WAL writer, checkpointer…). A backend that exited takes its time with it (the pools keep theirs open).
func clusterCPU(_ postmaster: Int32) -> Double {
    var total = procStat(postmaster)?.cpu ?? 0
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(name), pid != postmaster, let stat = procStat(pid), stat.ppid == postmaster else { continue }
        total += stat.cpu
    }
    return total
}

/// The postmaster of the server `database` is on, if it runs on this machine: the parent of the
/// backend serving a connection (read while the connection is open: its backend ends with it).
func findPostmaster(_ database: PostgresScratch.Database) async -> Int32? {
    try? await PostgresScratch.withConnection(database.url) { c in
        let rows = try await c.query("SELECT pg_backend_pid()", logger: Logger(label: "intake.load")).collect()
        return try rows.first.flatMap { procStat(try $0.decode(Int32.self))?.ppid }
    }
}

struct ServeFailed: Error, CustomStringConvertible {
    var description: String
}

/// Starts `intake serve` (`binary`) on `url`, any free port, limits per address off (every load
/// client comes from 127.0.0.1); its log goes to `log`. Returns once it says where it listens.
func launchServe(binary: String, url: String, dialog: String, dialogs: String, log: String,
                 environment: [String: String] = [:]) throws -> (Process, SocketAddress) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
    process.arguments = ["serve", "--db", url, "--port", "0", "--dialog", dialog, "--dialogs", dialogs,
                         "--max-connections", "100000", "--max-connections-per-address", "100000",
                         "--max-starts-per-address", "1000000000", "--max-input-megabytes-per-address", "1000000", "--greet-after", "0"]
    let out = Pipe()
    process.standardOutput = out
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    process.standardError = FileHandle(forWritingAtPath: log)
    try process.run()
    var seen = ""
    while !seen.contains("\n") {
        let data = out.fileHandleForReading.readAvailable()
        if data.isEmpty { throw ServeFailed(description: "intake serve exited before listening (its log: \(log))") }
        seen += String(decoding: data, as: UTF8.self)
    }
    // "listening on HOST:PORT"
    guard let line = seen.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }),
          let port = line.split(separator: ":").last.flatMap({ Int($0) }) else {
        process.terminate()
        throw ServeFailed(description: "intake serve said something else than where it listens (its log: \(log))")
    }
    return (process, try SocketAddress(ipAddress: "127.0.0.1", port: port))
}
