import Foundation
import IntakePostgres
import Testing

/// `intake db grant` and `intake db staff` as an office's administrator runs them (issue 16).
@Suite(.serialized) struct RolesCommandTests {
    @Test(.enabled(if: KioskRoleTests.admin != nil || KioskRoleTests.required, "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)"))
    func anOfficeAddsACounselorAndListsItsStaff() async throws {
        guard let admin = KioskRoleTests.admin else { throw KioskRoleTests.Missing() }
        let db = try await PostgresScratch.create(admin: admin)
        let login = "it_cli_" + UUID().uuidString.prefix(8).lowercased()
        let password = UUID().uuidString
        do {
            let owner = try await db.open()
            await owner.close()
            _ = try await db.sql("CREATE ROLE \(login) LOGIN PASSWORD '\(password)'")

            let granted = try await Child.run(["db", "grant", login, "--role", "counselor", "--office", "川越", "--db", db.url])
            #expect(granted.status == 0, "\(granted.stderr)")
            #expect(granted.stdout == "\(login) is now a counselor of the office 川越 in this database.\n")
            #expect(try await db.sql("SELECT office FROM staff WHERE login = '\(login)'").first?.decode(String.self) == "川越")

            let staff = try await Child.run(["db", "staff", "--db", db.url])
            #expect(staff.status == 0, "\(staff.stderr)")
            // (Roles are the server's: other tests' logins may be listed too, as they may use this database.)
            let lines = staff.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "login\toffice\troles")
            #expect(lines.filter { $0.hasPrefix(login + "\t") } == ["\(login)\t川越\tcounselor"])

            let noOffice = try await Child.run(["db", "grant", login, "--role", "counselor", "--db", db.url])
            #expect(noOffice.status == 64)
            #expect(noOffice.stderr.contains("A counselor reads and writes her own office's records only: give her office with --office."))

            let nobody = try await Child.run(["db", "grant", "nobody_\(login)", "--role", "kiosk", "--db", db.url])
            #expect(nobody.status == 67)
            #expect(nobody.stderr.contains("There is no login nobody_\(login) on this PostgreSQL server: create it first"))

            // A counselor may not make herself (or anyone) a supervisor: the database refuses her.
            var components = try #require(URLComponents(string: db.url))
            components.user = login
            components.password = password
            let asCounselor = try #require(components.string)
            let refused = try await Child.run(["db", "grant", login, "--role", "supervisor", "--db", asCounselor])
            #expect(refused.status == 77)
            #expect(refused.stderr.contains("The database refused: \(login) may not grant roles"))
            #expect(try await db.sql("SELECT pg_has_role('\(login)', 'intake_supervisor', 'MEMBER')").first?.decode(Bool.self) == false)

            // Her role taken away: her office goes with it, and the database shows her nothing.
            let revoked = try await Child.run(["db", "revoke", login, "--role", "counselor", "--db", db.url])
            #expect(revoked.status == 0, "\(revoked.stderr)")
            #expect(revoked.stdout == "\(login) is no longer a counselor in this database.\n")
            #expect(try await db.sql("SELECT pg_has_role('\(login)', 'intake_counselor', 'MEMBER')").first?.decode(Bool.self) == false)
            let after = try await Child.run(["db", "staff", "--db", db.url])
            #expect(!after.stdout.contains(login), "\(after.stdout)")

            let sqlite = try await Child.run(["db", "grant", login, "--role", "kiosk", "--db", tempDatabase()])
            #expect(sqlite.status == 64)
            #expect(sqlite.stderr.contains("Roles belong to a shared PostgreSQL database"))
        } catch {
            await KioskRoleTests.cleanUp(db, login: login, admin: admin)
            throw error
        }
        await KioskRoleTests.cleanUp(db, login: login, admin: admin)
    }
}
