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

extension PostgresRoles {
    /// pg7, frozen once shipped: a client who said no to sharing among counselors (the dialog's
    /// `private_when`) is read only by the counselor who took her interview, and by a supervisor.
    ///
    /// - `private_session` names each such session and the counselor it is private to (NULL: a
    ///   kiosk session, which no counselor took: no counselor reads it until one of its office
    ///   claims it with the client's resume token, `intake_claim_private`). It goes with its
    ///   session. Nobody but the owner changes or removes a row of it: once private, always private.
    /// - A counselor's policy on `session` hides a private session that is not hers; its log and
    ///   its access history follow (their policies read `session` under hers). `intake_hidden`
    ///   reads `private_session` past its row security; it is given the caller's `current_user`
    ///   (inside it, `current_user` is the owner).
    /// - A session of a client one of whose sessions is private is private too from its start
    ///   (a later visit, a second intake), to the counselor who starts it.
    static let privateSessions: [String] = [
        """
        CREATE TABLE private_session (
          session_id text PRIMARY KEY REFERENCES session(id) ON DELETE CASCADE,
          counselor text,
          marked_at bigint NOT NULL)
        """,
        """
        DO $$
        BEGIN
          EXECUTE format($f$
            CREATE FUNCTION intake_hidden(session_id text, session_counselor text, reader text) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'SELECT EXISTS (SELECT 1 FROM private_session p WHERE p.session_id = $1
                                 AND coalesce(p.counselor, $2, '''') <> $3)'
            $f$, current_schema());
          EXECUTE format($f$
            CREATE FUNCTION intake_claim_private(digest bytea) RETURNS void
            LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'UPDATE private_session p SET counselor = session_user::text
                FROM session s
                WHERE s.id = p.session_id AND s.token_digest = $1 AND p.counselor IS NULL AND s.counselor IS NULL
                  AND pg_has_role(session_user, ''intake_counselor'', ''MEMBER'')
                  AND coalesce(s.office, '''') = (SELECT st.office FROM staff st WHERE st.login = session_user::text)'
            $f$, current_schema());
          EXECUTE format($f$
            CREATE FUNCTION intake_inherit_private() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'BEGIN
                  IF EXISTS (SELECT 1 FROM private_session p JOIN session s ON s.id = p.session_id
                             WHERE s.client_id = NEW.client_id AND coalesce(s.office, '''') = coalesce(NEW.office, '''')
                               AND s.id <> NEW.id) THEN
                    INSERT INTO private_session (session_id, counselor, marked_at)
                    VALUES (NEW.id, NEW.counselor, NEW.started_at) ON CONFLICT DO NOTHING;
                  END IF;
                  RETURN NULL;
                END'
            $f$, current_schema());
        END
        $$
        """,
        "CREATE INDEX session_by_client_id ON session (client_id) WHERE client_id IS NOT NULL",
        """
        CREATE TRIGGER session_inherits_private AFTER INSERT ON session
          FOR EACH ROW WHEN (NEW.client_id IS NOT NULL) EXECUTE FUNCTION intake_inherit_private()
        """,
        "REVOKE ALL ON FUNCTION intake_hidden(text, text, text) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION intake_claim_private(bytea) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION intake_inherit_private() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION intake_hidden(text, text, text) TO intake_counselor",
        // Every role may call it (every resume by token does); it claims for a counselor only.
        "GRANT EXECUTE ON FUNCTION intake_claim_private(bytea) TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter",

        "ALTER TABLE private_session ENABLE ROW LEVEL SECURITY",
        // Marked by whoever writes the session (its counselor, the kiosk), for a session they see,
        // private to the counselor the session names: marking hides a session from others, never
        // from the counselor who took it.
        "GRANT INSERT ON private_session TO intake_counselor, intake_kiosk",
        "GRANT SELECT ON private_session TO intake_counselor, intake_supervisor, intake_deleter",
        """
        CREATE POLICY private_mark ON private_session FOR INSERT TO intake_counselor, intake_kiosk
          WITH CHECK (EXISTS (SELECT 1 FROM session s WHERE s.id = private_session.session_id
                                AND s.counselor IS NOT DISTINCT FROM private_session.counselor))
        """,
        """
        CREATE POLICY private_own ON private_session FOR SELECT TO intake_counselor
          USING (EXISTS (SELECT 1 FROM session s WHERE s.id = private_session.session_id))
        """,
        "CREATE POLICY private_read_all ON private_session FOR SELECT TO intake_supervisor, intake_deleter USING (true)",

        "DROP POLICY session_office ON session",
        """
        CREATE POLICY session_office ON session FOR ALL TO intake_counselor
          USING (coalesce(office, '') = (SELECT st.office FROM staff st WHERE st.login = current_user::text)
                 AND NOT intake_hidden(id, counselor, current_user::text))
          WITH CHECK (coalesce(office, '') = (SELECT st.office FROM staff st WHERE st.login = current_user::text))
        """,
    ]
}

extension PostgresRoles {
    /// pg8, frozen once shipped: the kiosk login sees only the kiosk sessions its own instance holds
    /// (the lease, `holder`, against the `intake.holder` every connection of an intake store gives
    /// at its start), so it cannot list the others'. A resume by token takes the lease first
    /// (`intake_kiosk_take`, a SECURITY DEFINER function that moves it only for a kiosk login, only
    /// for an unfinished kiosk session whose token digest it was given): from then on that
    /// instance sees the session, and the one that held it sees it no more (its next write is
    /// refused as taken over, as a resume elsewhere always made it).
    static let kioskHoldsWhatItSees: [String] = [
        """
        DO $$
        BEGIN
          EXECUTE format($f$
            CREATE FUNCTION intake_kiosk_take(digest bytea) RETURNS void
            LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'UPDATE session SET holder = current_setting(''intake.holder'', true)
                WHERE token_digest = $1 AND mode = ''kiosk'' AND status NOT IN (''complete'', ''stopped'')
                  AND coalesce(current_setting(''intake.holder'', true), '''') <> ''''
                  AND holder IS DISTINCT FROM current_setting(''intake.holder'', true)
                  AND pg_has_role(session_user, ''intake_kiosk'', ''MEMBER'')'
            $f$, current_schema());
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION intake_kiosk_take(bytea) FROM PUBLIC",
        // Every role may call it (every resume by token does); it moves the lease for a kiosk login only.
        "GRANT EXECUTE ON FUNCTION intake_kiosk_take(bytea) TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter",
        "DROP POLICY session_kiosk_read ON session",
        """
        CREATE POLICY session_kiosk_read ON session FOR SELECT TO intake_kiosk
          USING (mode = 'kiosk' AND holder = current_setting('intake.holder', true)
                 AND (status NOT IN ('complete', 'stopped')
                      OR coalesce(intake_stored_status(id), '') NOT IN ('complete', 'stopped')))
        """,
        "DROP POLICY session_kiosk_answer ON session",
        """
        CREATE POLICY session_kiosk_answer ON session FOR UPDATE TO intake_kiosk
          USING (mode = 'kiosk' AND status NOT IN ('complete', 'stopped') AND holder = current_setting('intake.holder', true))
          WITH CHECK (mode = 'kiosk')
        """,
    ]
}

extension PostgresRoles {
    /// pg9, frozen once shipped: every so many entries the runner saves the session's state
    /// (sealed like its answers) with the entry it follows, in the same transaction; a resume
    /// starts from the newest one that checks and replays only the entries after it
    /// (`SessionSnapshot`). `entry_hash` is that entry's chain hash; `hash` covers the session,
    /// seq, entry_hash and state (`Chain.Snapshot`). A snapshot holds what its log holds, so it
    /// has its log's access rules, written the same way as `event`'s: read and appended with its
    /// session (the subquery is under the reader's own policies on `session` — a counselor's
    /// office, a private session hidden from every counselor but hers, the kiosk's held and
    /// unfinished sessions only), read by a supervisor and the deleter, deleted only by the
    /// deleter; nobody updates one. Goes with its session.
    static let snapshots: [String] = [
        """
        CREATE TABLE snapshot (
            session_id text NOT NULL REFERENCES session (id) ON DELETE CASCADE,
            seq bigint NOT NULL,
            entry_hash bytea NOT NULL,
            state text NOT NULL,
            hash bytea NOT NULL,
            PRIMARY KEY (session_id, seq))
        """,
        "GRANT SELECT, INSERT ON snapshot TO intake_counselor, intake_kiosk",
        "GRANT SELECT ON snapshot TO intake_supervisor",
        "GRANT SELECT, DELETE ON snapshot TO intake_deleter",
        "ALTER TABLE snapshot ENABLE ROW LEVEL SECURITY",
        """
        CREATE POLICY snapshot_with_session ON snapshot FOR SELECT TO intake_counselor, intake_kiosk
          USING (EXISTS (SELECT 1 FROM session s WHERE s.id = snapshot.session_id))
        """,
        """
        CREATE POLICY snapshot_append ON snapshot FOR INSERT TO intake_counselor, intake_kiosk
          WITH CHECK (EXISTS (SELECT 1 FROM session s WHERE s.id = snapshot.session_id))
        """,
        "CREATE POLICY snapshot_read_all ON snapshot FOR SELECT TO intake_supervisor, intake_deleter USING (true)",
        "CREATE POLICY snapshot_delete ON snapshot FOR DELETE TO intake_deleter USING (true)",
    ]
}

extension PostgresRoles {
    /// pg10, frozen once shipped: two gaps an audit of pg6–pg9 found.
    ///
    /// - **The deleter read what it deletes, whole**: every record, every entry's event and
    ///   answers, every snapshot's state — a private record among them, which only her counselor
    ///   and a supervisor may read. It now reads only what finds the rows to delete: a session's
    ///   id, status and times, an entry's or a snapshot's session and number, a client's office and
    ///   number; nothing of `private_session`. What the purge and the opening need to know of the
    ///   rest it asks, as a yes or no, of SECURITY DEFINER functions granted to it alone:
    ///   `intake_answered(id)` (the purge's rule: an entry after the start changed an answer) and
    ///   `intake_newest_sealed()` (the opening's check that the newest entry is not sealed in a
    ///   database that says it is not).
    /// - **Names were not checked**: a counselor's login could append an entry, write an audit row
    ///   or start a session in another counselor's name, or rename a session's counselor. Now (as
    ///   restrictive policies, on top of pg6–pg9's): an entry written by a counselor or the kiosk
    ///   names the client (`client`: the client at the kiosk, or at the counselor's terminal) or
    ///   the writing login itself if it is a counselor (`counselor:LOGIN`); a session started by
    ///   them names no counselor or that counselor; an audit row written by any intake role names
    ///   that login (`LOGIN`, as a read is written, or `counselor:LOGIN`, as a deletion is). A
    ///   counselor updates only the columns an answer, a resume or a dialog version's move
    ///   changes (as the kiosk already did): never a session's counselor, office, client, mode,
    ///   start or token digest. The owner (`db copy`, `db grant`) is not restricted.
    static let ownNames: [String] = [
        // The deleter: the columns that find what to delete, no more.
        "REVOKE SELECT ON session, event, client, snapshot, private_session FROM intake_deleter",
        "GRANT SELECT (id, status, started_at, updated_at) ON session TO intake_deleter",
        "GRANT SELECT (session_id, seq) ON event TO intake_deleter",
        "GRANT SELECT (session_id, seq) ON snapshot TO intake_deleter",
        "GRANT SELECT (office, id) ON client TO intake_deleter",
        "ALTER POLICY private_read_all ON private_session TO intake_supervisor",
        """
        DO $$
        BEGIN
          EXECUTE format($f$
            CREATE FUNCTION intake_answered(session_id text) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'SELECT EXISTS (SELECT 1 FROM event e WHERE e.session_id = $1 AND e.seq > 0 AND e.answers IS NOT NULL)'
            $f$, current_schema());
          EXECUTE format($f$
            CREATE FUNCTION intake_newest_sealed() RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'SELECT starts_with(e.event, ''enc1:'') FROM event e
                WHERE e.session_id = (SELECT s.id FROM session s ORDER BY s.started_at DESC, s.id DESC LIMIT 1)
                ORDER BY e.seq DESC LIMIT 1'
            $f$, current_schema());
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION intake_answered(text) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION intake_newest_sealed() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION intake_answered(text) TO intake_deleter",
        "GRANT EXECUTE ON FUNCTION intake_newest_sealed() TO intake_deleter",

        // Own names. A counselor's updates: the kiosk's columns (pg6), no others.
        "REVOKE UPDATE ON session FROM intake_counselor",
        "GRANT UPDATE (status, locale, updated_at, record, head, hash, holder, dialog_version) ON session TO intake_counselor",
        """
        CREATE POLICY session_own_name ON session AS RESTRICTIVE FOR INSERT TO intake_counselor, intake_kiosk
          WITH CHECK (counselor IS NULL
                      OR (counselor = current_user::text AND pg_has_role(current_user, 'intake_counselor', 'MEMBER')))
        """,
        """
        CREATE POLICY event_own_name ON event AS RESTRICTIVE FOR INSERT TO intake_counselor, intake_kiosk
          WITH CHECK (actor = 'client'
                      OR (actor = 'counselor:' || current_user::text AND pg_has_role(current_user, 'intake_counselor', 'MEMBER')))
        """,
        """
        CREATE POLICY audit_own_name ON audit AS RESTRICTIVE FOR INSERT TO intake_counselor, intake_supervisor, intake_kiosk, intake_deleter
          WITH CHECK (actor = current_user::text OR actor = 'counselor:' || current_user::text)
        """,
    ]

    /// pg11, frozen once shipped: a resume reads only a session's newest snapshot (one that does
    /// not check means the whole log, never an older snapshot), so the writer of a snapshot
    /// deletes the ones before it in the same transaction, and a long session keeps one state, not
    /// one per 64 entries and per suspension. The login that may append a session's snapshots (a
    /// counselor of its office, the kiosk holding it) may delete one of them only when a newer one
    /// of the same session is there: derived data that nothing reads any more; the log and the
    /// newest snapshot stay hers to keep. Any other deletion is still the deleter's alone.
    /// (A policy on `snapshot` may not read `snapshot` itself, PostgreSQL refuses the recursion:
    /// whether a newer one exists is asked of `intake_snapshot_superseded`, a yes-or-no function.)
    static let supersededSnapshots: [String] = [
        """
        DO $$
        BEGIN
          EXECUTE format($f$
            CREATE FUNCTION intake_snapshot_superseded(session_id text, seq bigint) RETURNS boolean
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = %I, pg_temp
            AS 'SELECT EXISTS (SELECT 1 FROM snapshot n WHERE n.session_id = $1 AND n.seq > $2)'
            $f$, current_schema());
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION intake_snapshot_superseded(text, bigint) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION intake_snapshot_superseded(text, bigint) TO intake_counselor, intake_kiosk",
        "GRANT DELETE ON snapshot TO intake_counselor, intake_kiosk",
        """
        CREATE POLICY snapshot_superseded ON snapshot FOR DELETE TO intake_counselor, intake_kiosk
          USING (EXISTS (SELECT 1 FROM session s WHERE s.id = snapshot.session_id)
                 AND intake_snapshot_superseded(snapshot.session_id, snapshot.seq))
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
        let rows = try await client.leasing { c in
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
