import Logging
import PostgresNIO

/// The PostgreSQL schema's history: each migration a literal SQL string, applied once, in its own
/// transaction, recorded in `schema_migration`. Frozen: a migration that shipped is never edited
/// (a change is a new migration at the end); names, not app types; literal column names.
///
/// Two instances starting at once do not race: each migration's transaction first takes a
/// transaction-scoped advisory lock (`pg_advisory_xact_lock`), then looks whether the migration is
/// recorded, so the second waits for the first and then finds it applied.
enum PostgresSchema {
    /// The advisory lock key of intake's migrations (an arbitrary constant: "intake" in ASCII).
    static let lockKey: Int64 = 0x696e_74616b65

    /// The history, oldest first. Column names follow the SQLite store's (snake_case), and each
    /// value hashed by the chain has the same type, so rows and their hashes move between the two
    /// unchanged.
    static let migrations: [(name: String, sql: [String])] = [
        ("pg1: sessions, events, clients, audit, meta", [
            """
            CREATE TABLE client (
                id text PRIMARY KEY,
                created_at bigint NOT NULL,
                office text)
            """,
            """
            CREATE TABLE session (
                id text PRIMARY KEY,
                client_id text REFERENCES client (id) ON DELETE SET NULL,
                dialog_id text NOT NULL,
                dialog_version text NOT NULL,
                mode text NOT NULL,
                locale text NOT NULL,
                status text NOT NULL,
                started_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                counselor text,
                office text,
                token_digest bytea NOT NULL UNIQUE,
                record text,
                head bytea,
                hash bytea,
                holder text)
            """,
            "CREATE INDEX session_status ON session (status)",
            "CREATE INDEX session_started_at ON session (started_at)",
            "CREATE INDEX session_updated_at ON session (updated_at)",
            "CREATE INDEX session_client_id ON session (client_id)",
            """
            CREATE TABLE event (
                session_id text NOT NULL REFERENCES session (id) ON DELETE CASCADE,
                seq bigint NOT NULL,
                at bigint NOT NULL,
                utc_offset bigint NOT NULL,
                actor text NOT NULL,
                event text NOT NULL,
                answers text,
                hash bytea,
                PRIMARY KEY (session_id, seq))
            """,
            """
            CREATE TABLE audit (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at bigint NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                detail text NOT NULL)
            """,
            // What the database says of itself: `sealed` (no, yes, legacy) and `key_fingerprint`.
            "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
            "INSERT INTO meta (key, value) VALUES ('sealed', 'no')",
            // Sessions recorded before hash chains (brought over from an old SQLite database): not checked.
            "CREATE TABLE unchained_session (id text PRIMARY KEY)",
        ]),
        ("pg2: limits shared by every instance", [
            // Per client address and kind (session starts, wrong resume tokens): the window's start
            // and the count in it. Rows whose window has ended are deleted as others are counted.
            "CREATE TABLE rate_limit (kind text NOT NULL, address text NOT NULL, window_start bigint NOT NULL, count bigint NOT NULL, PRIMARY KEY (kind, address))",
            "CREATE INDEX rate_limit_by_window ON rate_limit (kind, window_start)",
        ]),
        ("pg3: answers update a session row in place", [
            // Every answer updates its session's row. With no index on a column an answer changes
            // (updated_at was one) and room left in each page, PostgreSQL writes the new version
            // beside the old one without touching any index (a heap-only tuple): five index
            // entries and their WAL fewer per answer. The retention queries that read updated_at
            // find their few candidates through the status index.
            "DROP INDEX session_updated_at",
            "ALTER TABLE session SET (fillfactor = 70)",
        ]),
        ("pg4: clients belong to an office", [
            // A client is (office, number): two offices' client "1024" are two people. The old
            // table held one row per number, with the office of her first session; each (office,
            // number) her sessions name becomes a client, since her first session in that office
            // (the old row's time where its office is that one). A number no session names any
            // more keeps its row. Sessions without an office belong to the unnamed office, ''.
            // The session's reference to the old key goes with the old table: a session names its
            // client by its own office and number.
            """
            CREATE TABLE client_by_office (
                office text NOT NULL,
                id text NOT NULL,
                created_at bigint NOT NULL,
                PRIMARY KEY (office, id))
            """,
            """
            INSERT INTO client_by_office (office, id, created_at)
            SELECT g.office, g.id, coalesce((SELECT c.created_at FROM client c WHERE c.id = g.id AND coalesce(c.office, '') = g.office), g.first)
            FROM (SELECT coalesce(office, '') AS office, client_id AS id, min(started_at) AS first
                  FROM session WHERE client_id IS NOT NULL GROUP BY 1, 2) AS g
            """,
            """
            INSERT INTO client_by_office (office, id, created_at)
            SELECT coalesce(c.office, ''), c.id, c.created_at FROM client c
            WHERE NOT EXISTS (SELECT 1 FROM session s WHERE s.client_id = c.id)
            ON CONFLICT DO NOTHING
            """,
            "DROP TABLE client CASCADE",
            "ALTER TABLE client_by_office RENAME TO client",
            "ALTER INDEX client_by_office_pkey RENAME TO client_pkey",
        ]),
        ("pg5: who read which record", [
            // The session an audit entry is about (a record shown, printed as a sheet, exported,
            // listed): the access history of one session. No foreign key: the history stays when
            // the session is deleted.
            "ALTER TABLE audit ADD COLUMN session text",
            "CREATE INDEX audit_by_session ON audit (session)",
        ]),
        ("pg6: roles and row-level security", PostgresRoles.migration),
        ("pg7: records private to their counselor", PostgresRoles.privateSessions),
        ("pg8: the kiosk sees only the sessions it holds", PostgresRoles.kioskHoldsWhatItSees),
        ("pg9: snapshots of a session's state", PostgresRoles.snapshots),
        ("pg10: the deleter reads no record; every write under its own name", PostgresRoles.ownNames),
        ("pg11: a snapshot's writer deletes the ones it supersedes", PostgresRoles.supersededSnapshots),
    ]

    /// The first migration: a database whose history lacks it is not intake's.
    static var first: String { migrations[0].name }

    /// The tables every intake database has (checked by `checkStorage`).
    static let tables = ["client", "session", "event", "audit", "meta", "unchained_session", "rate_limit"]

    /// Brings the schema up to date on `connection` (outside any transaction).
    static func migrate(_ connection: PostgresConnection, logger: Logger, target: String) async throws {
        try await PostgresStore.transaction(connection, logger: logger) { c in
            try await c.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            // Only when missing: a role that is not the owner (a counselor, the kiosk service) may
            // not create tables, and opens a database whose every migration is applied without DDL.
            let exists = try await c.query("SELECT to_regclass('schema_migration') IS NOT NULL", logger: logger)
                .collect().first?.decode(Bool.self) ?? false
            if !exists {
                try await c.query("CREATE TABLE schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                                  logger: logger)
            }
            // Another program's tables beside no intake history: not ours to migrate.
            let applied = try await appliedMigrations(c, logger: logger)
            if applied.isEmpty {
                let foreign = try await c.query("""
                    SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(\(tables))
                    """, logger: logger).collect().first?.decode(Int64.self) ?? 0
                if foreign > 0 { throw PostgresOpenError(.notIntake, target: target, detail: "tables named like intake's, without its migration history") }
            } else if !applied.contains(first) {
                throw PostgresOpenError(.notIntake, target: target, detail: "a migration history that is not intake's")
            }
            let known = Set(migrations.map(\.name))
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw PostgresOpenError(.newerSchema, target: target, detail: "migration '\(unknown)' is not known to this intake: upgrade it")
            }
        }
        for migration in migrations {
            do {
                if migration.name.hasPrefix("pg6") {
                    let done = try await connection.query("SELECT 1 FROM schema_migration WHERE name = \(migration.name)", logger: logger).collect()
                    if done.isEmpty { try await PostgresRoles.ensureRoles(connection, logger: logger) }
                }
                try await PostgresStore.transaction(connection, logger: logger) { c in
                    try await c.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                    let done = try await c.query("SELECT 1 FROM schema_migration WHERE name = \(migration.name)", logger: logger).collect()
                    guard done.isEmpty else { return }
                    for statement in migration.sql {
                        try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await c.query("INSERT INTO schema_migration (name) VALUES (\(migration.name))", logger: logger)
                }
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
                // A login that is not the owner, on a database an update of intake has not migrated
                // yet; or an owner without CREATEROLE where pg6's roles do not exist yet.
                var detail = "migration '\(migration.name)' must be run by the owner of intake's tables"
                if migration.name.hasPrefix("pg6") {
                    detail += "; it creates the roles intake_counselor, intake_supervisor, intake_kiosk and intake_deleter when missing: give the owner CREATEROLE or create them as a superuser first"
                }
                throw PostgresOpenError(.noPermission, target: target, detail: detail)
            }
        }
    }

    static func appliedMigrations(_ c: PostgresConnection, logger: Logger) async throws -> [String] {
        var names: [String] = []
        for try await name in try await c.query("SELECT name FROM schema_migration ORDER BY applied_at, name", logger: logger).decode(String.self) {
            names.append(name)
        }
        return names
    }
}
