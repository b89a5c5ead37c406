import Foundation
import IntakeEngine
import IntakeRuntime
import Logging
import PostgresNIO

/// The intake store on PostgreSQL, for several offices and several `intake serve` instances on one
/// database: the same rows, hash chain, sealing, leases and rules as the SQLite store
/// (`IntakeDatabase`), written once and async over postgres-nio.
///
/// - Durability: every connection starts with `synchronous_commit = on` (a startup parameter, so no
///   role or database default can turn it off), and opening refuses a server with `fsync` off: a
///   write is on the server's disk when its call returns. Creates and appends go through a
///   committer that puts every waiting write into one transaction (group commit).
/// - Leases: `session.holder` is the store's `instance`. An append writes its session's row only
///   if the row is still the version this instance wrote last, or after locking it
///   (`SELECT … FOR UPDATE`) and checking the holder under that lock, so two instances can never
///   both append; a resume or migrate entry takes the lease.
/// - Damage (a row edited, a value that does not decode or open, a broken chain) is
///   `RuntimeError.damaged(session:)`, never a crash and never data.
public final class PostgresStore: Store, Sendable {
    public let instance: String
    /// The database login (`current_user`, read at opening): the actor of the audit entries for
    /// the records read through this store.
    public let identity: String
    public let cipher: Cipher?
    /// The database is sealed (it says so in `meta`, with its key's fingerprint).
    public let sealed: Bool
    /// Where it is (no password).
    public let target: PostgresTarget
    /// The hash chain; nil when it cannot be checked (a sealed database read without its key).
    let chain: Chain?
    /// The reads' pool (the committer has its own), each put aside for a fresh one when the
    /// database answers again after it gave up (`RenewingPool`).
    let client: RenewingPool
    private let writer: RenewingPool
    let logger: Logger
    let committer: PostgresCommitter
    let limiter: PostgresLimiter

    private init(instance: String, target: PostgresTarget, client: RenewingPool, writer: RenewingPool, cipher: Cipher?, sealed: Bool,
                 identity: String, logger: Logger) {
        self.instance = instance
        self.identity = identity
        self.target = target
        self.client = client
        self.writer = writer
        self.cipher = cipher
        self.sealed = sealed
        self.logger = logger
        chain = sealed ? cipher.map(Chain.init(cipher:)) : .unkeyed
        committer = PostgresCommitter(client: writer, logger: logger)
        limiter = PostgresLimiter(client: client, logger: logger)
    }

    /// Closes the store's connections (waits for them).
    public func close() async {
        await client.close()
        await writer.close()
    }

    /// How many times a pool of this store was replaced after the database came back (tests).
    package var poolRenewals: Int { client.renewals + writer.renewals }

    /// Transactions the committer has committed and the writes they carried.
    public var commitStats: (commits: Int, writes: Int) {
        get async { await committer.stats }
    }

    // MARK: - Opening

    /// Opens the database at `url` (nil: the libpq variables PGHOST, PGPORT, PGUSER, PGDATABASE,
    /// PGPASSWORD and the password file) and brings its schema up to date. Refuses, with a
    /// `PostgresOpenError` that says why and never holds the password: an unreachable server, a
    /// refused login, a missing database, another program's tables, a newer intake's schema, a
    /// server that does not make commits durable. A sealed database opened for writing needs its
    /// key; a wrong key is refused for reading too (`StoreError`, the SQLite store's rules).
    ///
    /// TLS: off unless sslmode says otherwise (as libpq: `require` encrypts without checking the
    /// certificate, `verify-ca` checks it against `sslrootcert` or the system's roots, `verify-full`
    /// checks the host name too; `prefer` tries TLS). Never over a Unix socket.
    public static func open(url: String?, cipher: Cipher? = nil, access: DatabaseAccess = .write,
                            logger: Logger = Logger(label: "intake.postgres"),
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            maximumConnections: Int = 20) async throws -> PostgresStore {
        let target = try PostgresTarget.resolve(url: url, environment: environment)
        // Queries' binds are client answers: postgres-nio's own logging stays above debug.
        var quiet = logger
        if quiet.logLevel < .notice { quiet.logLevel = .notice }
        let tls = try tlsConfiguration(target)
        var probe = target.isUnixSocket
            ? PostgresConnection.Configuration(unixSocketPath: target.socketPath, username: target.user, password: target.password, database: target.database)
            : PostgresConnection.Configuration(host: target.host, port: target.port, username: target.user, password: target.password,
                                               database: target.database, tls: try probeTLS(tls, target: target))
        probe.options.additionalStartupParameters = startupParameters
        probe.options.connectTimeout = .seconds(10)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: quiet)
        } catch {
            throw classify(error, target: target)
        }
        let isSealed: Bool
        let identity: String
        do {
            defer { Task { try? await connection.close() } }
            try await checkDurable(connection, logger: quiet, target: target)
            identity = try await login(connection, logger: quiet, target: target)
            try await PostgresSchema.migrate(connection, logger: quiet, target: target.description)
            isSealed = try await transaction(connection, logger: quiet) { c in
                try await checkSeal(c, cipher: cipher, access: access, logger: quiet)
            }
        } catch let error as PostgresOpenError {
            throw error
        } catch let error as StoreError {
            throw error
        } catch let error as PSQLError {
            throw classify(error, target: target)
        }
        var config = target.isUnixSocket
            ? PostgresClient.Configuration(unixSocketPath: target.socketPath, username: target.user, password: target.password, database: target.database)
            : PostgresClient.Configuration(host: target.host, port: target.port, username: target.user, password: target.password,
                                           database: target.database, tls: tls)
        // Every connection of the pools says which instance it is (`intake.holder`): the kiosk
        // role's policies show a kiosk login only the sessions its own instance holds (pg8).
        let instance = UUID().uuidString
        config.options.additionalStartupParameters = startupParameters + [("intake.holder", instance)]
        // The committer has connections of its own: a burst of reads or of starts counting their
        // address's limit (which wait on that address's row) never makes answers wait for a
        // connection. (No minimum kept open: postgres-nio 1.33.2's pool fails a precondition —
        // the process ends — when a lease is asked for while fewer than its minimum are up, as
        // after a database restart. IntakeCrash found it.)
        var writerConfig = config
        writerConfig.options.maximumConnections = 2
        config.options.maximumConnections = max(1, maximumConnections)
        // The pools serve leases once their `run()` runs: each is handed back after its task started.
        let client = await RenewingPool.started(config, probe: probe, label: "reads", logger: quiet)
        let writer = await RenewingPool.started(writerConfig, probe: probe, label: "commits", logger: quiet)
        return PostgresStore(instance: instance, target: target, client: client, writer: writer, cipher: cipher, sealed: isSealed, identity: identity,
                             logger: quiet)
    }

    /// Every connection's session settings, sent when it starts.
    static let startupParameters = [("synchronous_commit", "on"), ("application_name", "intake")]

    static func tlsConfiguration(_ target: PostgresTarget) throws -> PostgresClient.Configuration.TLS {
        guard !target.isUnixSocket else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let root = target.sslRootCert { tls.trustRoots = .file(root) }
        switch target.sslMode {
        case "require", "prefer":
            tls.certificateVerification = .none
            return target.sslMode == "require" ? .require(tls) : .prefer(tls)
        case "verify-ca":
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case "verify-full":
            return .require(tls)
        default:
            return .disable
        }
    }

    static func probeTLS(_ tls: PostgresClient.Configuration.TLS, target: PostgresTarget) throws -> PostgresConnection.Configuration.TLS {
        guard !target.isUnixSocket, ["require", "prefer", "verify-ca", "verify-full"].contains(target.sslMode) else { return .disable }
        var config = TLSConfiguration.makeClientConfiguration()
        if let root = target.sslRootCert { config.trustRoots = .file(root) }
        switch target.sslMode {
        case "require", "prefer": config.certificateVerification = .none
        case "verify-ca": config.certificateVerification = .noHostnameVerification
        default: break
        }
        do {
            let context = try NIOSSLContext(configuration: config)
            return target.sslMode == "prefer" ? .prefer(context) : .require(context)
        } catch {
            throw PostgresOpenError(.tls, target: target.description, detail: "TLS could not be set up (sslrootcert?)")
        }
    }

    /// The server must make a commit durable: `fsync` on, and `synchronous_commit` on for this
    /// connection (set by the startup parameter; read back here).
    static func checkDurable(_ c: PostgresConnection, logger: Logger, target: PostgresTarget) async throws {
        for (setting, allowed) in [("fsync", ["on"]), ("synchronous_commit", ["on", "remote_write", "remote_apply"])] {
            let value = try await c.query(PostgresQuery(unsafeSQL: "SHOW \(setting)"), logger: logger).collect().first?.decode(String.self)
            guard let value, allowed.contains(value) else {
                throw PostgresOpenError(.notDurable, target: target.description, detail: "\(setting) is \(value ?? "unknown"): it must be on")
            }
        }
    }

    /// The login the server knows this connection by (`current_user`): who reads, in the audit trail.
    static func login(_ c: PostgresConnection, logger: Logger, target: PostgresTarget) async throws -> String {
        guard let name = try await c.query("SELECT current_user::text", logger: logger).collect().first?.decode(String.self), !name.isEmpty else {
            throw PostgresOpenError(.other, target: target.description, detail: "current_user did not read")
        }
        return name
    }

    /// What a failure to connect or to set up the schema means for the operator.
    static func classify(_ error: any Error, target: PostgresTarget) -> PostgresOpenError {
        let where_ = target.description
        if let e = error as? PostgresOpenError { return e }
        if let e = error as? PSQLError {
            let state = e.serverInfo?[.sqlState]
            switch (e.code, state) {
            case (.server, "28P01"?), (.server, "28000"?), (.authMechanismRequiresPassword, _), (.saslError, _), (.unsupportedAuthMechanism, _):
                var detail = target.password == nil ? "no password found: PGPASSWORD or the password file (PGPASSFILE, ~/.pgpass)" : "the server refused the user or password"
                if let file = target.ignoredPasswordFile { detail += "; \(file) was ignored: others may read it (chmod 600)" }
                return PostgresOpenError(.authentication, target: where_, detail: detail)
            case (.server, "3D000"?):
                return PostgresOpenError(.noDatabase, target: where_, detail: "create it first")
            case (.server, "42501"?):
                return PostgresOpenError(.noPermission, target: where_, detail: "the user may not create or read intake's tables")
            case (.sslUnsupported, _), (.failedToAddSSLHandler, _), (.receivedUnencryptedDataAfterSSLRequest, _):
                return PostgresOpenError(.tls, target: where_, detail: "sslmode=\(target.sslMode) but the server does not offer TLS")
            case (.connectionError, _), (.serverClosedConnection, _), (.uncleanShutdown, _):
                if e.underlying is NIOSSLError { return PostgresOpenError(.tls, target: where_, detail: "the TLS handshake failed") }
                return PostgresOpenError(.unreachable, target: where_, detail: "no PostgreSQL server answers there")
            case (.server, let state?):
                return PostgresOpenError(.other, target: where_, detail: "SQLSTATE \(state)")
            default:
                return PostgresOpenError(.other, target: where_, detail: "\(e.code)")
            }
        }
        if error is NIOSSLError { return PostgresOpenError(.tls, target: where_, detail: "the TLS handshake failed") }
        if error is ChannelError || error is IOError || error is NIOConnectionError {
            return PostgresOpenError(.unreachable, target: where_, detail: "no PostgreSQL server answers there")
        }
        return PostgresOpenError(.other, target: where_, detail: "\(type(of: error))")
    }

    /// Whether the database is sealed, refusing what must not open (the SQLite store's rules): a
    /// sealed database opened for writing without its key, a wrong key (by fingerprint), a key for
    /// writing a database that holds sessions in clear. The first open with a key of a database
    /// without sessions seals it. `meta` is locked (FOR UPDATE) so two first openings do not race.
    static func checkSeal(_ c: PostgresConnection, cipher: Cipher?, access: DatabaseAccess, logger: Logger) async throws -> Bool {
        var meta: [String: String] = [:]
        // Locked by a role that may seal (the owner). The intake roles may only read `meta` (a
        // lock needs UPDATE): they never seal, and their attempt to is refused by the database.
        // The deleter may not read an entry's event (pg10): it asks `intake_newest_sealed` instead.
        let privileges = try await c.query("SELECT has_table_privilege('meta', 'UPDATE'), has_column_privilege('event', 'event', 'SELECT')",
                                           logger: logger).collect().first
        let (mayLock, readsEntries) = try privileges?.decode((Bool, Bool).self) ?? (false, false)
        let lock: PostgresQuery = mayLock ? "SELECT key, value FROM meta ORDER BY key FOR UPDATE" : "SELECT key, value FROM meta ORDER BY key"
        for row in try await c.query(lock, logger: logger).collect() {
            guard let (key, value) = try? row.decode((String, String).self) else { throw StoreError.damagedDatabase }
            if meta[key] == nil { meta[key] = value }
        }
        func seal(_ cipher: Cipher) async throws {
            try await c.query("""
                INSERT INTO meta (key, value) VALUES ('sealed', 'yes'), ('key_fingerprint', \(cipher.fingerprint))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, logger: logger)
        }
        switch meta["sealed"] {
        case "yes":
            guard let fingerprint = meta["key_fingerprint"] else { throw StoreError.damagedDatabase }
            guard let cipher else {
                if access == .write { throw StoreError.sealedNeedsKey }
                return true
            }
            guard cipher.fingerprint == fingerprint else { throw StoreError.wrongKey }
            return true
        case "legacy":
            // Sealed before the database said so (rows copied from an old SQLite file): the key
            // must open a sealed value to be taken.
            guard let cipher else {
                if access == .write { throw StoreError.sealedNeedsKey }
                return true
            }
            guard let row = try await c.query("SELECT session_id, seq, event FROM event WHERE event LIKE 'enc1:%' LIMIT 1", logger: logger).collect().first,
                  let (session, seq, event) = try? row.decode((String, Int64, String).self) else {
                throw StoreError.damagedDatabase
            }
            do { _ = try cipher.open(event, context: "\(session)/\(seq)") } catch { throw StoreError.wrongKey }
            try await seal(cipher)
            return true
        case "no":
            // The newest entry sealed in a database that says it is not: its bookkeeping was changed.
            // (The newest session by its start: started_at is indexed, updated_at is not since pg3.)
            if !readsEntries {
                let row = try await c.query("SELECT intake_newest_sealed()", logger: logger).collect().first
                if try row?.decode(Bool?.self) == true { throw StoreError.damagedDatabase }
            } else if let row = try await c.query("""
                SELECT e.event FROM event e
                WHERE e.session_id = (SELECT s.id FROM session s ORDER BY s.started_at DESC, s.id DESC LIMIT 1)
                ORDER BY e.seq DESC LIMIT 1
                """, logger: logger).collect().first {
                guard let newest = try? row.decode(String.self) else { throw StoreError.damagedDatabase }
                if newest.hasPrefix(Cipher.prefix) { throw StoreError.damagedDatabase }
            }
            guard let cipher else { return false }
            let sessions = try await c.query("SELECT count(*) FROM session", logger: logger).collect().first?.decode(Int64.self) ?? 0
            if sessions == 0 {
                try await seal(cipher)
                return true
            }
            // Sessions in clear cannot be sealed in place (a database half in clear that says it is sealed).
            if access == .write { throw StoreError.notSealed(sessions: Int(sessions)) }
            return false
        default:
            throw StoreError.damagedDatabase
        }
    }

    // MARK: - Transactions

    /// Runs `body` in a transaction on `c`: committed when it returns, rolled back when it throws
    /// (the body's own error is rethrown, not wrapped).
    static func transaction<T>(_ c: PostgresConnection, logger: Logger, begin: PostgresQuery = "BEGIN",
                               _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await c.query(begin, logger: logger)
        do {
            let value = try await body(c)
            try await c.query("COMMIT", logger: logger)
            return value
        } catch {
            // A connection that went away took its transaction with it; a query written to it now
            // would never be answered (see `whileOpen`).
            if !c.isClosed, !Self.isConnectionLost(error) { _ = try? await c.query("ROLLBACK", logger: logger) }
            throw error
        }
    }

    /// Whether `error` says the connection itself is gone (not that a statement failed on it).
    static func isConnectionLost(_ error: any Error) -> Bool {
        if error is ConnectionLost { return true }
        guard let e = error as? PSQLError else { return false }
        switch e.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown: return true
        // The server ends the connection: shut down, crashed, or the backend terminated (57P01–03).
        case .server: return e.serverInfo?[.sqlState]?.hasPrefix("57P") == true
        default: return false
        }
    }

    /// A read that sees one snapshot (several statements agree with each other: a log and its head).
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await client.leasing { c in
            try await Self.transaction(c, logger: logger, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
        }
    }

    /// A write on its own (not group committed: deletions, purges, dialog versions are rare).
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await client.leasing { c in
            try await Self.transaction(c, logger: logger, body)
        }
    }

    /// The chain to write with: a database opened for writing always has one.
    var writeChain: Chain {
        get throws {
            guard let chain else { throw StoreError.sealedNeedsKey }
            return chain
        }
    }
}

extension ByteBuffer {
    /// A bytea bind from Data.
    static func of(_ data: Data) -> ByteBuffer {
        ByteBuffer(bytes: data)
    }
}
