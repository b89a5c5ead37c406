import Foundation
import Logging
import PostgresNIO

/// Who may do what in a shared PostgreSQL database, enforced by the database itself (grants and
/// row-level security), not by intake's code: a login is given one of four group roles
/// (`intake db grant`), and a counselor's office is her row in `staff`.
///
/// The owner (the role that created the tables and runs the migrations) is not restricted: row
/// security is enabled, not forced, so migrations, `db copy` and the owner's own commands see
/// every row. Nobody else may change the schema (only the owner can), and no intake role may
/// update or delete an audit row.
public enum PostgresRole: String, CaseIterable, Sendable {
    /// Reads and writes the sessions, logs and clients of her own office (`staff.office`) only.
    case counselor
    /// Reads every office's sessions, records, clients and audit trail; writes nothing but audit rows.
    case supervisor
    /// The kiosk service: starts kiosk sessions, appends to unfinished ones, resumes by token;
    /// never reads a finished record or its log.
    case kiosk
    /// Deletes sessions (`records delete`, the purge of abandoned ones) in every office.
    case deleter

    /// The database's group role (NOLOGIN; a login is made a member of it).
    public var groupRole: String { "intake_\(rawValue)" }
}

/// One row of `staff`: a login, its office, and the intake roles it is a member of.
public struct StaffMember: Sendable, Equatable {
    public var login: String
    public var office: String?
    public var roles: [PostgresRole]

    public init(login: String, office: String?, roles: [PostgresRole]) {
        (self.login, self.office, self.roles) = (login, office, roles)
    }
}

/// Why `grant` refused.
public enum PostgresGrantError: Error, Equatable {
    /// No such login in the cluster (create it first: `CREATE ROLE … LOGIN`).
    case noSuchLogin
    /// A counselor needs her office.
    case officeRequired
    /// The connecting role may not grant (not the owner, or without CREATEROLE).
    case notPermitted
}

extension PostgresRoles {
    /// pg6, frozen once shipped (a change is a new migration). Statements run in one transaction as
    /// the owner. Roles are cluster-wide: they are created only if missing, and two databases of one
    /// cluster migrating at once (the test suite's scratch databases) may both try; the loser's
    /// `duplicate_object` (or the catalog's `unique_violation`) is caught, not an error, and
    /// `ensureRoles` has created them, committed, before this transaction begins.
    static let migration: [String] = [
        createRoles,
        """
        DO $$
        BEGIN
          EXECUTE format('GRANT USAGE ON SCHEMA %I TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter', current_schema());
        END
        $$
        """,
        // A counselor's login and her office ('' is the unnamed office, as a session without one).
        "CREATE TABLE staff (login text PRIMARY KEY, office text NOT NULL)",
        // A session's status as stored, read past row security: the kiosk's policy asks it whether
        // a row it is writing was already finished before this statement (see the kiosk's policy).
        // Owned by the owner, for the intake roles only; its search path is fixed.
        """
        DO $$
        BEGIN
          EXECUTE format($f$
            CREATE FUNCTION intake_stored_status(session_id text) RETURNS text
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'SELECT status FROM session WHERE id = session_id'
            $f$, current_schema());
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION intake_stored_status(text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION intake_stored_status(text) TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter",

        // What every intake role reads to open the database, and may write: audit rows (never
        // changed or removed: no UPDATE, DELETE or TRUNCATE for anyone but the owner).
        "GRANT SELECT ON meta, schema_migration, unchained_session TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter",
        "GRANT INSERT ON audit TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter",
        "GRANT SELECT ON audit TO intake_counselor, intake_supervisor",
        "GRANT SELECT ON staff TO intake_counselor, intake_supervisor",
        // The services' shared limits (addresses and counts, no client data).
        "GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit TO intake_counselor, intake_kiosk",
        // Counselor: her office's rows, read and written.
        "GRANT SELECT, INSERT, UPDATE ON session TO intake_counselor",
        "GRANT SELECT, INSERT ON event, client TO intake_counselor",
        // Supervisor: reads everything.
        "GRANT SELECT ON session, event, client TO intake_supervisor",
        // Kiosk: starts, answers, resumes. Its sessions have no client: it holds INSERT and SELECT on
        // client's key only because the shared write statement names the table (ON CONFLICT (office,
        // id)); no policy lets it see or add a row.
        // It changes only what an answer, a resume or a move to a new dialog version changes: never
        // a session's id, office, mode, client, counselor, start or resume number's digest.
        "GRANT SELECT, INSERT ON session TO intake_kiosk",
        "GRANT UPDATE (status, locale, updated_at, record, head, hash, holder, dialog_version) ON session TO intake_kiosk",
        "GRANT SELECT, INSERT ON event TO intake_kiosk",
        "GRANT INSERT, SELECT (office, id) ON client TO intake_kiosk",
        // Deleter: reads and deletes. The purge locks the rows it deletes (FOR UPDATE, which needs
        // an UPDATE privilege): the lease column only, which no hash covers.
        "GRANT SELECT, DELETE ON session, event, client, unchained_session TO intake_deleter",
        "GRANT UPDATE (holder) ON session TO intake_deleter",

        "ALTER TABLE session ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE event ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE client ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE audit ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE staff ENABLE ROW LEVEL SECURITY",

        // staff: a counselor sees her own row (her office), a supervisor every row.
        "CREATE POLICY staff_own ON staff FOR SELECT TO intake_counselor USING (login = current_user::text)",
        "CREATE POLICY staff_all ON staff FOR SELECT TO intake_supervisor USING (true)",

        // session
        """
        CREATE POLICY session_office ON session FOR ALL TO intake_counselor
          USING (coalesce(office, '') = (SELECT st.office FROM staff st WHERE st.login = current_user::text))
          WITH CHECK (coalesce(office, '') = (SELECT st.office FROM staff st WHERE st.login = current_user::text))
        """,
        "CREATE POLICY session_read_all ON session FOR SELECT TO intake_supervisor, intake_deleter USING (true)",
        // The kiosk sees kiosk sessions that are not finished (complete, or stopped: both may hold
        // a record). An UPDATE that reads its rows (ours all do: WHERE, RETURNING) must also see
        // the row it writes, so the row a statement is finishing stays visible to that statement:
        // it was not finished as stored before it. Every later statement sees it finished, and it
        // is hidden.
        """
        CREATE POLICY session_kiosk_read ON session FOR SELECT TO intake_kiosk
          USING (mode = 'kiosk' AND (status NOT IN ('complete', 'stopped')
                                     OR coalesce(intake_stored_status(id), '') NOT IN ('complete', 'stopped')))
        """,
        "CREATE POLICY session_kiosk_start ON session FOR INSERT TO intake_kiosk WITH CHECK (mode = 'kiosk')",
        """
        CREATE POLICY session_kiosk_answer ON session FOR UPDATE TO intake_kiosk
          USING (mode = 'kiosk' AND status NOT IN ('complete', 'stopped')) WITH CHECK (mode = 'kiosk')
        """,
        "CREATE POLICY session_delete ON session FOR DELETE TO intake_deleter USING (true)",
        "CREATE POLICY session_lock ON session FOR UPDATE TO intake_deleter USING (true) WITH CHECK (true)",

        // event: visible with its session (the subquery is itself under the session's policies);
        // appended to a session one may see, or to one the same statement creates (not stored yet:
        // the session's own policy decides, and the foreign key that it exists).
        """
        CREATE POLICY event_with_session ON event FOR SELECT TO intake_counselor, intake_kiosk
          USING (EXISTS (SELECT 1 FROM session s WHERE s.id = event.session_id))
        """,
        """
        CREATE POLICY event_append ON event FOR INSERT TO intake_counselor, intake_kiosk
          WITH CHECK (EXISTS (SELECT 1 FROM session s WHERE s.id = event.session_id) OR intake_stored_status(event.session_id) IS NULL)
        """,
        "CREATE POLICY event_read_all ON event FOR SELECT TO intake_supervisor, intake_deleter USING (true)",
        "CREATE POLICY event_delete ON event FOR DELETE TO intake_deleter USING (true)",

        // client: a counselor's office's.
        """
        CREATE POLICY client_office ON client FOR ALL TO intake_counselor
          USING (office = (SELECT st.office FROM staff st WHERE st.login = current_user::text))
          WITH CHECK (office = (SELECT st.office FROM staff st WHERE st.login = current_user::text))
        """,
        "CREATE POLICY client_read_all ON client FOR SELECT TO intake_supervisor, intake_deleter USING (true)",
        "CREATE POLICY client_delete ON client FOR DELETE TO intake_deleter USING (true)",

        // audit: written by all, read by supervisors, and by a counselor for her office's sessions.
        """
        CREATE POLICY audit_write ON audit FOR INSERT TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter
          WITH CHECK (true)
        """,
        "CREATE POLICY audit_read_all ON audit FOR SELECT TO intake_supervisor USING (true)",
        """
        CREATE POLICY audit_office ON audit FOR SELECT TO intake_counselor
          USING (session IS NOT NULL AND EXISTS (SELECT 1 FROM session s WHERE s.id = audit.session))
        """,
    ]
}

/// The roles' SQL: the migration above, and what the owner runs to add people.
public enum PostgresRoles {
    /// The four group roles, each created unless it exists. Part of pg6 (frozen with it), and also
    /// run alone, committed, just before pg6 (`ensureRoles`): a role that another database's
    /// migration created while this one was waiting for it is only seen by a later transaction —
    /// pg6's grants to it, in the same transaction as a CREATE that lost the race, fail with
    /// "role does not exist" (measured: four databases of a fresh cluster migrating at once).
    static let createRoles = """
        DO $$
        DECLARE r text;
        BEGIN
          FOREACH r IN ARRAY ARRAY['intake_counselor', 'intake_supervisor', 'intake_kiosk', 'intake_deleter'] LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
              BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
              EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
              END;
            END IF;
          END LOOP;
        END
        $$
        """

    /// Creates the group roles that are missing, in transactions of their own (retried when another
    /// database's migration created one meanwhile), before pg6 runs.
    static func ensureRoles(_ connection: PostgresConnection, logger: Logger) async throws {
        var attempt = 0
        while true {
            do {
                try await PostgresStore.transaction(connection, logger: logger) { c in
                    try await c.query(PostgresQuery(unsafeSQL: createRoles), logger: logger)
                }
                return
            } catch let error as PSQLError where ["23505", "42710"].contains(error.serverInfo?[.sqlState] ?? "") && attempt < 3 {
                attempt += 1
            }
        }
    }
}

extension PostgresStore {
    /// Makes the login `login` (which must exist in the cluster) a member of `role`'s group role and,
    /// with an office, records it in `staff` (a counselor needs one: it is what she may read). Run by
    /// the owner (or a role with CREATEROLE and the right to write `staff`); written to the audit
    /// trail as the store's `identity`. The login's name is quoted by PostgreSQL (`format('%I')`),
    /// never pasted into SQL.
    public func grant(_ role: PostgresRole, to login: String, office: String?, at: Int64) async throws {
        if role == .counselor, office == nil { throw PostgresGrantError.officeRequired }
        let logger = self.logger, identity = self.identity
        do {
            try await write { c in
                let found = try await c.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = \(login)", logger: logger).collect()
                guard let canLogin = try found.first?.decode(Bool.self), canLogin else { throw PostgresGrantError.noSuchLogin }
                guard let statement = try await c.query("SELECT format('GRANT %I TO %I', \(role.groupRole)::text, \(login)::text)", logger: logger)
                    .collect().first?.decode(String.self) else { throw PostgresGrantError.notPermitted }
                try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                if let office {
                    try await c.query("""
                        INSERT INTO staff (login, office) VALUES (\(login), \(office))
                        ON CONFLICT (login) DO UPDATE SET office = excluded.office
                        """, logger: logger)
                }
                let detail = "\(role.groupRole) to \(login)" + (office.map { " (office \($0))" } ?? "")
                try await c.query("INSERT INTO audit (at, actor, action, detail) VALUES (\(at), \(identity), 'grant-role', \(detail))", logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
            throw PostgresGrantError.notPermitted
        }
    }

    /// Takes `role` away from `login` (a counselor's `staff` row, her office, goes with it), with an
    /// audit entry. Quoted as `grant` is; the same refusals.
    public func revoke(_ role: PostgresRole, from login: String, at: Int64) async throws {
        let logger = self.logger, identity = self.identity
        do {
            try await write { c in
                let found = try await c.query("SELECT 1 FROM pg_roles WHERE rolname = \(login)", logger: logger).collect()
                guard !found.isEmpty else { throw PostgresGrantError.noSuchLogin }
                guard let statement = try await c.query("SELECT format('REVOKE %I FROM %I', \(role.groupRole)::text, \(login)::text)", logger: logger)
                    .collect().first?.decode(String.self) else { throw PostgresGrantError.notPermitted }
                try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                if role == .counselor {
                    try await c.query("DELETE FROM staff WHERE login = \(login)", logger: logger)
                }
                try await c.query("INSERT INTO audit (at, actor, action, detail) VALUES (\(at), \(identity), 'revoke-role', \("\(role.groupRole) from \(login)"))",
                                  logger: logger)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
            throw PostgresGrantError.notPermitted
        }
    }

    /// Every login that is a member of an intake role or has a `staff` row, with its office and roles.
    public func staff() async throws -> [StaffMember] {
        let logger = self.logger
        let groups = PostgresRole.allCases.map(\.groupRole)
        let rows = try await client.withConnection { c in
            try await c.query("""
                SELECT l.rolname::text, st.office,
                       coalesce(array_agg(g.rolname::text ORDER BY g.rolname) FILTER (WHERE g.rolname IS NOT NULL), '{}')
                FROM pg_roles l
                LEFT JOIN staff st ON st.login = l.rolname::text
                LEFT JOIN pg_auth_members m ON m.member = l.oid
                LEFT JOIN pg_roles g ON g.oid = m.roleid AND g.rolname = ANY(\(groups)::text[])
                WHERE l.rolcanlogin AND (st.login IS NOT NULL OR g.rolname IS NOT NULL)
                GROUP BY 1, 2 ORDER BY 1
                """, logger: logger).collect()
        }
        return try rows.map { row in
            let (login, office, roles) = try row.decode((String, String?, [String]).self)
            return StaffMember(login: login, office: office,
                               roles: roles.compactMap { name in PostgresRole.allCases.first { $0.groupRole == name } })
        }
    }
}
