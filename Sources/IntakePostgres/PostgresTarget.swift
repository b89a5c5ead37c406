import Foundation

/// Where a PostgreSQL store is, as libpq would find it: a `postgres://` URL, with whatever it leaves
/// out taken from the libpq variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE) and
/// the password, when neither the URL nor PGPASSWORD has one, from the password file (PGPASSFILE or
/// ~/.pgpass, libpq's `host:port:database:user:password` lines, honoured only when its mode is 0600) —
/// so that no password needs to sit in a command line or a shell's history.
///
/// `description` never holds the password.
public struct PostgresTarget: Sendable, Equatable, CustomStringConvertible {
    /// A host name or address, or (starting with `/`) the folder of the server's Unix socket.
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    /// libpq's sslmode: `disable` (the default here), `allow`, `prefer`, `require`, `verify-ca`, `verify-full`.
    public var sslMode: String
    /// A file of root certificates to verify the server with (`sslrootcert`), else the system's.
    public var sslRootCert: String?
    /// Where the password came from, for a message (never the password): url, PGPASSWORD, the password file.
    public var passwordSource: String?
    /// A password file that was found but not honoured (its mode lets others read it).
    public var ignoredPasswordFile: String?

    public var isUnixSocket: Bool { host.hasPrefix("/") }

    /// The socket file postgres-nio connects to: libpq's host is the socket's folder.
    public var socketPath: String { host + "/.s.PGSQL.\(port)" }

    public var description: String {
        "postgres://\(user)@\(isUnixSocket ? "[\(host)]" : host):\(port)/\(database)"
    }

    /// Reads `url` (nil: the libpq variables alone) with `environment` (the process's by default).
    public static func resolve(url: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               home: String = NSHomeDirectory()) throws -> PostgresTarget {
        var host: String?, port: Int?, user: String?, database: String?, password: String?, sslMode: String?, rootCert: String?
        var source: String?
        if let url {
            guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql" else {
                throw PostgresOpenError(.badURL, target: "the database URL", detail: "a URL like postgres://user@host:5432/database")
            }
            if let h = c.percentEncodedHost, !h.isEmpty { host = h.removingPercentEncoding ?? h }
            if let p = c.port { port = p }
            if let u = c.user, !u.isEmpty { user = u }
            if let pw = c.password { password = pw; source = "url" }
            let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
            if !path.isEmpty { database = path }
            for item in c.queryItems ?? [] {
                guard let value = item.value else { continue }
                switch item.name {
                case "host": host = value
                case "port":
                    guard let p = Int(value) else { throw PostgresOpenError(.badURL, target: "the database URL", detail: "port is not a number") }
                    port = p
                case "user": user = value
                case "dbname": database = value
                case "password": password = value; source = "url"
                case "sslmode": sslMode = value
                case "sslrootcert": rootCert = value
                default: break  // libpq options intake does not use (application_name, …)
                }
            }
        }
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        host = host ?? env("PGHOST")
        if port == nil, let p = env("PGPORT") {
            guard let n = Int(p) else { throw PostgresOpenError(.badURL, target: "PGPORT", detail: "PGPORT is not a number") }
            port = n
        }
        user = user ?? env("PGUSER") ?? ProcessInfo.processInfo.userName
        database = database ?? env("PGDATABASE") ?? user
        sslMode = sslMode ?? env("PGSSLMODE") ?? "disable"
        rootCert = rootCert ?? env("PGSSLROOTCERT")
        let resolvedHost = host ?? (FileManager.default.fileExists(atPath: "/var/run/postgresql") ? "/var/run/postgresql" : "localhost")
        guard let resolvedPort = port ?? 5432 as Int?, (1...65535).contains(resolvedPort) else {
            throw PostgresOpenError(.badURL, target: "the database URL", detail: "port out of range")
        }
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode ?? "") else {
            throw PostgresOpenError(.badURL, target: "the database URL", detail: "sslmode must be disable, allow, prefer, require, verify-ca or verify-full")
        }
        var target = PostgresTarget(host: resolvedHost, port: resolvedPort, user: user ?? "postgres", database: database ?? "postgres",
                                    password: password, sslMode: sslMode ?? "disable", sslRootCert: rootCert, passwordSource: source)
        if target.password == nil, let pw = env("PGPASSWORD") {
            target.password = pw
            target.passwordSource = "PGPASSWORD"
        }
        if target.password == nil {
            let file = env("PGPASSFILE") ?? (home as NSString).appendingPathComponent(".pgpass")
            switch PasswordFile.lookup(file, host: target.host, port: target.port, database: target.database, user: target.user) {
            case .found(let pw):
                target.password = pw
                target.passwordSource = "password file"
            case .openToOthers: target.ignoredPasswordFile = file
            case .none: break
            }
        }
        return target
    }
}

/// libpq's password file: lines `hostname:port:database:username:password`, `*` matching anything,
/// `\:` and `\\` escaped, `#` comments. Honoured only when neither group nor others may read it
/// (as libpq ignores an open one).
enum PasswordFile {
    enum Lookup: Equatable { case found(String), openToOthers, none }

    static func lookup(_ path: String, host: String, port: Int, database: String, user: String) -> Lookup {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .none }
        guard info.st_mode & 0o077 == 0 else { return .openToOthers }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return .none }
        // A socket connection matches `localhost` too (libpq's rule for its default socket folder).
        let hosts: Set<String> = host.hasPrefix("/") ? [host, "localhost"] : [host]
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("#") { continue }
            let fields = split(String(line))
            guard fields.count == 5 else { continue }
            func matches(_ field: String, _ values: Set<String>) -> Bool { field == "*" || values.contains(field) }
            if matches(fields[0], hosts) && matches(fields[1], [String(port)]) && matches(fields[2], [database]) && matches(fields[3], [user]) {
                return .found(fields[4])
            }
        }
        return .none
    }

    /// Splits on unescaped `:`; `\:` is a colon and `\\` a backslash.
    static func split(_ line: String) -> [String] {
        var fields: [String] = [], current = "", escaped = false
        for ch in line {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == ":" && fields.count < 4 {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields
    }
}

/// Why a PostgreSQL store could not be opened, in terms an operator can act on. `code` is stable
/// (for messages and logs); `description` names the server and database but never a password,
/// nor anything the server echoed back.
public struct PostgresOpenError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Cause: String, Sendable, CaseIterable {
        /// The URL or a PG* variable cannot be read.
        case badURL = "bad_url"
        /// No server answers at that host and port (or socket).
        case unreachable
        /// The server refused the user or the password (or none was found: PGPASSWORD, the password file).
        case authentication
        /// The database does not exist (create it first: README, "Many offices").
        case noDatabase = "no_database"
        /// The database holds tables that are not intake's (no intake migration history beside them).
        case notIntake = "not_intake"
        /// The database was migrated by a newer intake (migrations this one does not know).
        case newerSchema = "newer_schema"
        /// The server does not make a commit durable (`fsync` off, or `synchronous_commit` cannot be on).
        case notDurable = "not_durable"
        /// TLS was asked for (sslmode) and could not be set up or the server does not offer it.
        case tls
        /// The user may not create intake's tables or read them.
        case noPermission = "no_permission"
        case other
    }

    public var cause: Cause
    /// The server and database, without a password.
    public var target: String
    /// What to do, or which setting is wrong: never a password or a stored value.
    public var detail: String?

    public init(_ cause: Cause, target: String, detail: String? = nil) {
        self.cause = cause
        self.target = target
        self.detail = detail
    }

    public var code: String { cause.rawValue }

    public var description: String {
        "cannot open the database \(target): \(code)" + (detail.map { " (\($0))" } ?? "")
    }
}
