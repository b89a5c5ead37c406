import Foundation
import Glibc
import IntakePostgres
import IntakeRuntime
import Testing

/// The kiosk service runs as its own PostgreSQL login, a member of intake_kiosk only (issue 16):
/// a whole intake and a resume go through `intake serve` on that login, and the login then cannot
/// read what it finished.
@Suite(.serialized) struct KioskRoleTests {
    static let admin = ProcessInfo.processInfo.environment["INTAKE_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["INTAKE_REQUIRE_POSTGRES"] == "1"

    struct Missing: Error {}

    /// `intake serve --db URL` as a child with `environment` added (the login's PGPASSWORD).
    static func serve(db: String, environment: [String: String]) async throws -> (Process, Int, Pipe) {
        let (p, port, _, err) = try await ServeCommandTests.serve(db: db, environment: environment)
        return (p, port, err)
    }

    @Test(.enabled(if: admin != nil || required, "PostgreSQL tests skipped: set INTAKE_TEST_POSTGRES (Tests/Postgres/cluster start DIR)"))
    func theKioskServiceRunsAsItsRoleAndCannotReadWhatItFinished() async throws {
        guard let admin = Self.admin else { throw Missing() }
        let db = try await PostgresScratch.create(admin: admin)
        let login = "it_kiosk_" + UUID().uuidString.prefix(8).lowercased()
        let password = UUID().uuidString
        // Killed if the test fails half way (a server left running as the kiosk login would keep
        // its database from being dropped).
        var servers: [Process] = []
        do {
            let owner = try await db.open()
            _ = try await db.sql("CREATE ROLE \(login) LOGIN PASSWORD '\(password)'")
            try await owner.grant(.kiosk, to: login, office: nil, at: 1_795_000_000_000)
            await owner.close()
            var components = try #require(URLComponents(string: db.url))
            components.user = login
            let kioskURL = try #require(components.string)

            let (server, port, err) = try await Self.serve(db: kioskURL, environment: ["PGPASSWORD": password])
            servers.append(server)
            Thread { _ = err.fileHandleForReading.readToEndOfFile() }.start()

            // A whole intake at the kiosk, suspended half way and resumed on another connection by its token.
            let first = try await LineClient.connect(port: port)
            let (session, token, q1) = try await startJSON(first, dialog: "intake")
            var standing = q1
            let half = personaSteps.count / 2
            for (i, step) in personaSteps.prefix(half).enumerated() {
                let q = try #require(step.question)
                #expect(standing?["question"]?.string == q, "step \(i)")
                try await first.send(json: [("op", .string("answer")), ("question", .string(q)), ("text", .string(step.line))])
                standing = await untilStanding(first)
            }
            // The service's every connection to the database is the kiosk login's.
            let users = try await db.sql("SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'intake'")
            #expect(try users.map { try $0.decode(String.self) } == [login])

            try await first.send(json: [("op", .string("suspend"))])
            #expect(await first.until("bye")?["reason"] == .string("suspended"))
            let second = try await LineClient.connect(port: port)
            try await second.send(json: [("op", .string("resume")), ("token", .string(token))])
            #expect(await second.until("session")?["resumed"] == .bool(true))
            standing = await untilStanding(second)
            for (i, step) in personaSteps.enumerated().dropFirst(half) {
                if let q = step.question {
                    #expect(standing?["question"]?.string == q, "step \(i)")
                    try await second.send(json: [("op", .string("answer")), ("question", .string(q)), ("text", .string(step.line))])
                } else {
                    #expect(standing?["type"] == .string("review"))
                    try await second.send(json: [("op", .string("finish"))])
                }
                standing = await untilStanding(second)
            }
            #expect(standing?["type"] == .string("done"))
            #expect(standing?["status"] == .string("complete"))
            kill(server.processIdentifier, SIGTERM)
            #expect(await ServeCommandTests.exitStatus(server) == 0)

            // Stored, finished, with its record (the owner reads it) …
            let asOwner = try await db.open(access: .read)
            #expect(try await asOwner.session(session)?.status == .complete)
            #expect(try await asOwner.record(of: session) != nil)
            #expect(try await asOwner.log(of: session).count > personaSteps.count)
            await asOwner.close()
            // … and the kiosk login, with plain SQL, reads neither the record nor its log, nor the row.
            let kioskWithPassword = try #require({ () -> String? in
                var c = components
                c.password = password
                return c.string
            }())
            #expect(try await PostgresScratch.texts(kioskWithPassword, ["SELECT current_user::text"]) == [login])
            #expect(try await PostgresScratch.texts(kioskWithPassword, ["SELECT record FROM session WHERE id = '\(session)'"]) == [])
            #expect(try await PostgresScratch.texts(kioskWithPassword, ["SELECT count(*)::text FROM event WHERE session_id = '\(session)'"]) == ["0"])
            #expect(try await PostgresScratch.texts(kioskWithPassword, ["SELECT count(*)::text FROM session"]) == ["0"])
            // Its token no longer finds it at a kiosk: for the kiosk login a finished session is not
            // there at all (an unknown token, counted as a wrong guess, where the owner would say "finished").
            let (again, port2, err2) = try await Self.serve(db: kioskURL, environment: ["PGPASSWORD": password])
            servers.append(again)
            Thread { _ = err2.fileHandleForReading.readToEndOfFile() }.start()
            let third = try await LineClient.connect(port: port2)
            try await third.send(json: [("op", .string("resume")), ("token", .string(token))])
            let refused = await third.nextJSON()
            #expect(refused?["type"] == .string("error"))
            #expect(refused?["code"] == .string("unknown_token"))
            kill(again.processIdentifier, SIGTERM)
            #expect(await ServeCommandTests.exitStatus(again) == 0)
        } catch {
            for p in servers where p.isRunning {
                kill(p.processIdentifier, SIGKILL)
                _ = await ServeCommandTests.exitStatus(p)
            }
            await Self.cleanUp(db, login: login, admin: admin)
            Issue.record("\(String(reflecting: error))")
            throw error
        }
        await Self.cleanUp(db, login: login, admin: admin)
    }

    static func cleanUp(_ db: PostgresScratch.Database, login: String, admin: String) async {
        await db.drop()
        _ = try? await PostgresScratch.texts(admin, ["DROP ROLE IF EXISTS \(login)"])
    }
}
