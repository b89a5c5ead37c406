import ArgumentParser
import Foundation
import IntakeEngine
import IntakePostgres
import IntakeRuntime
import IntakeStore

extension PostgresRole: ExpressibleByArgument {}

/// `intake db grant` and `intake db staff`: who may do what in a shared PostgreSQL database. The
/// database enforces it (grants and row-level security, `PostgresRoles`); these commands, run by
/// the owner of intake's tables, give a login its role and a counselor her office.
extension DBCommand {
    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Gives an existing PostgreSQL login an intake role (and a counselor her office). Run by the owner of intake's tables.",
            discussion: """
                counselor: reads and writes the sessions, logs and clients of her office only. supervisor: reads every \
                office's sessions, records and figures. kiosk: the kiosk service's login — starts kiosk sessions, answers \
                and resumes them, never reads a finished record. deleter: deletes sessions and purges abandoned ones. \
                The login must exist first (CREATE ROLE name LOGIN PASSWORD …).
                """
        )

        @Argument(help: "The PostgreSQL login (it must exist).")
        var login: String

        @Option(help: "counselor, supervisor, kiosk or deleter.")
        var role: PostgresRole

        @Option(help: "Her office (required for a counselor; '' is the unnamed office).")
        var office: String?

        @Option(help: "The database: postgres://OWNER@HOST:PORT/DATABASE (or $INTAKE_DB).")
        var db = StoreLocation.defaultDB

        func run() async throws {
            let messages = Messages()
            let store = try await DBCommand.openShared(db, messages: messages)
            try await DBCommand.saying(messages, login: login, store: store) {
                try await store.grant(role, to: login, office: office, at: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
            }
            if let office {
                print(messages.text("roles.granted_office", ["login": login, "role": role.rawValue,
                                                             "office": office.isEmpty ? messages.text("roles.unnamed_office") : office]))
            } else {
                print(messages.text("roles.granted", ["login": login, "role": role.rawValue]))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Takes an intake role away from a PostgreSQL login (a counselor's office goes with it). Run by the owner of intake's tables."
        )

        @Argument(help: "The PostgreSQL login.")
        var login: String

        @Option(help: "counselor, supervisor, kiosk or deleter.")
        var role: PostgresRole

        @Option(help: "The database: postgres://OWNER@HOST:PORT/DATABASE (or $INTAKE_DB).")
        var db = StoreLocation.defaultDB

        func run() async throws {
            let messages = Messages()
            let store = try await DBCommand.openShared(db, messages: messages)
            try await DBCommand.saying(messages, login: login, store: store) {
                try await store.revoke(role, from: login, at: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
            }
            print(messages.text("roles.revoked", ["login": login, "role": role.rawValue]))
        }
    }

    struct Staff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lists the logins that have an intake role, with their office and roles. Run by the owner or a supervisor."
        )

        @Option(help: "The database: postgres://USER@HOST:PORT/DATABASE (or $INTAKE_DB).")
        var db = StoreLocation.defaultDB

        func run() async throws {
            let messages = Messages()
            let store = try await DBCommand.openShared(db, messages: messages)
            let members: [StaffMember]
            do {
                members = try await store.staff()
            } catch {
                printError(messages.text("roles.failed", ["error": storageErrorDescription(error)]))
                throw ExitCode(74)
            }
            guard !members.isEmpty else {
                print(messages.text("roles.staff_empty", ["target": store.target.description]))
                return
            }
            print(messages.text("roles.staff_header"))
            for m in members {
                let office = m.office.map { $0.isEmpty ? messages.text("roles.unnamed_office") : $0 } ?? "-"
                // Names read from the database are shown, never acted on by the terminal.
                print(messages.text("roles.staff_row", ["login": ControlCharacters.visible(m.login), "office": ControlCharacters.visible(office),
                                                        "roles": m.roles.map(\.rawValue).joined(separator: ", ")]))
            }
        }
    }

    /// Roles are a PostgreSQL database's: a SQLite file is one office's, on one machine.
    static func openShared(_ db: String, messages: Messages) async throws -> PostgresStore {
        guard case .postgres(let url) = StoreLocation(db) else {
            printError(messages.text("roles.postgres_only", ["db": db]))
            throw ExitCode(64)
        }
        return try await DatabaseOptions.openPostgres(url, key: nil, access: .read, messages: messages)
    }
}

extension DBCommand {
    /// Runs a grant or a revoke; a refusal is said in the user's language, with an exit code for its
    /// cause (sysexits.h): no such login 67, a counselor without her office 64, not allowed 77,
    /// anything else 74.
    static func saying(_ messages: Messages, login: String, store: PostgresStore, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as PostgresGrantError {
            switch error {
            case .noSuchLogin:
                printError(messages.text("roles.no_such_login", ["login": login]))
                throw ExitCode(67)  // EX_NOUSER
            case .officeRequired:
                printError(messages.text("roles.office_required"))
                throw ExitCode(64)  // EX_USAGE
            case .notPermitted:
                printError(messages.text("roles.not_permitted", ["target": store.target.description, "identity": store.identity]))
                throw ExitCode(77)  // EX_NOPERM
            }
        } catch {
            printError(messages.text("roles.failed", ["error": storageErrorDescription(error)]))
            throw ExitCode(74)
        }
    }
}
