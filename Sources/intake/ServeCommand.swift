import ArgumentParser
import Dispatch
import Foundation
import IntakePostgres
import IntakeRuntime
import IntakeServer
import IntakeStore
import Logging
import NIOCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Runs the kiosk service: dialogs over TCP, JSON lines or plain text, and with --http the kiosk's touch page (see PROTOCOL.md)."
    )

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port; the line `listening on HOST:PORT` says which).")
    var port = 7070

    @Option(help: "Also serve the kiosk's touch page and its WebSocket on this HTTP port (0: any free port; the line `http://HOST:PORT/` gives the page's address).")
    var http: Int?

    @Option(help: "The address the page is served on (keep 127.0.0.1 unless the kiosks are other machines).")
    var httpHost = "127.0.0.1"

    @Option(help: "Another name the kiosks open the page by (a host name or address, repeatable); the page's socket accepts only its own names: 127.0.0.1, localhost, --http-host and these.")
    var httpName: [String] = []

    @Option(help: "The page's folder (default: the one shipped with intake).")
    var page: String?

    @Option(help: "Seconds without a touch before the page warns that it will close the session.")
    var kioskInactivity = 120

    @Option(help: "Seconds the page counts down after its warning before it suspends the session and shows the welcome screen.")
    var kioskWarning = 30

    @Option(help: "The database: a SQLite file (created on first use; default intake.sqlite, or $INTAKE_DB; one serve per file), or postgres://USER@HOST:PORT/DATABASE (the password from PGPASSWORD or ~/.pgpass; several serve instances may share it).")
    var db = StoreLocation.defaultDB

    @Option(help: "A key file (from `intake new-key`): answers and records are sealed with it at rest.")
    var key: String?

    @Option(help: "The dialog a session runs unless a JSON `start` names another.")
    var dialog = "intake"

    @Option(help: "The office whose kiosks these are: the sessions started here are its, and its counselors take them over (default: the unnamed office).")
    var office: String?

    @Option(help: "Where the dialogs are.")
    var dialogs = "Dialogs"

    @Option(help: "Seconds without a line before the session is suspended and the connection closed.")
    var idleTimeout = 600

    @Option(help: "Seconds a client may leave the server's replies unread (its socket full) before the connection is closed and its session suspended.")
    var writeTimeout = 30

    @Option(help: "Connections at once; past it a client is told politely and disconnected.")
    var maxConnections = 1024

    @Option(help: "Longest line accepted, in bytes.")
    var maxLineBytes = 8192

    @Option(help: "Connections one address may hold at once (kiosks behind one NAT router share an address).")
    var maxConnectionsPerAddress = 16

    @Option(help: "Sessions one address may start in 10 minutes (kiosks behind one NAT router share it).")
    var maxStartsPerAddress = 60

    @Option(help: "Log entries a session may have; past it the session takes no more answers (a whole intake needs a few hundred).")
    var maxEventsPerSession = 2000

    @Option(help: "Megabytes of input one address may have logged in 10 minutes, counted by each instance (a whole intake counts 15–20 KB); past it an input is refused, not logged.")
    var maxInputMegabytesPerAddress = 16

    @Option(help: "Seconds a new connection may stay silent before it is shown how to begin (plain text, for nc or telnet; a JSON client that speaks first never sees it). 0: never.")
    var greetAfter = 1.5

    @OptionGroup var project: ProjectOptions

    func validate() throws {
        let messages = project.messages(dialogs)
        func range(_ option: String, _ min: Int, _ max: Int) -> ValidationError {
            messages.error("operations.cli.range", ["option": option, "min": String(min), "max": String(max)])
        }
        func atLeast(_ option: String, _ min: Int) -> ValidationError {
            messages.error("operations.cli.at_least", ["option": option, "min": String(min)])
        }
        func aSecond(_ option: String) -> ValidationError { messages.error("operations.cli.at_least_one_second", ["option": option]) }
        guard (0...65535).contains(port) else { throw range("--port", 0, 65535) }
        guard idleTimeout > 0 else { throw aSecond("--idle-timeout") }
        guard writeTimeout > 0 else { throw aSecond("--write-timeout") }
        guard maxConnections > 0 else { throw atLeast("--max-connections", 1) }
        guard maxLineBytes >= 64 else { throw atLeast("--max-line-bytes", 64) }
        guard maxConnectionsPerAddress > 0 else { throw atLeast("--max-connections-per-address", 1) }
        guard maxStartsPerAddress > 0 else { throw atLeast("--max-starts-per-address", 1) }
        guard maxEventsPerSession >= 100 else { throw atLeast("--max-events-per-session", 100) }
        guard maxInputMegabytesPerAddress >= 1 else { throw atLeast("--max-input-megabytes-per-address", 1) }
        if let http { guard (0...65535).contains(http) else { throw range("--http", 0, 65535) } }
        guard kioskInactivity >= 1 else { throw aSecond("--kiosk-inactivity") }
        guard kioskWarning >= 1 else { throw aSecond("--kiosk-warning") }
        guard greetAfter >= 0, greetAfter <= 3600 else {
            throw messages.error("operations.cli.range_seconds_or_never", ["option": "--greet-after", "max": "3600"])
        }
    }

    func run() async throws {
        // Logs to standard error; standard output carries only the `listening on` line.
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let logger = Logger(label: "intake.serve")
        let loaded = try project.loadRunnable([dialogs])
        let messages = Messages(catalog: loaded.catalog, locale: project.messageLocale)
        guard loaded.dialogs[dialog] != nil else {
            throw messages.error("operations.cli.unknown_dialog", ["dialog": dialog, "known": loaded.dialogs.keys.sorted().joined(separator: ", ")])
        }
        let store: any Store
        var lock: ServeLock?
        var postgres: PostgresStore?
        switch StoreLocation(db) {
        case .postgres(let url):
            // Several instances on one database: each session's lease is in the database, and so
            // are the limits per address.
            let opened = try await DatabaseOptions.openPostgres(url, key: key, access: .write, messages: messages)
            postgres = opened
            store = opened
        case .sqlite:
            // One kiosk service per database file: a second one is refused before it touches the file.
            do {
                lock = try ServeLock(database: db)
            } catch ServeLock.Failure.held(let pid) {
                let holder = pid.map { loaded.catalog.text("shared_db.serve_locked_pid", project.messageLocale, ["pid": String($0)]) } ?? ""
                printError(loaded.catalog.text("shared_db.serve_locked", project.messageLocale, ["db": db, "pid": holder]))
                throw ExitCode(Self.exitLocked)
            } catch {
                printError(loaded.catalog.text("shared_db.serve_lock_failed", project.messageLocale,
                                               ["db": db, "lock": ServeLock.path(forDatabase: db)]))
                throw ExitCode(1)
            }
            store = try DatabaseOptions.open(db, key: key, messages: messages).store
        }
        var config = ServerConfiguration()
        config.host = host
        config.port = port
        config.dialog = dialog
        config.office = office
        config.idleTimeout = .seconds(Int64(idleTimeout))
        config.writeTimeout = .seconds(Int64(writeTimeout))
        config.maxConnections = maxConnections
        config.maxLineBytes = maxLineBytes
        config.maxConnectionsPerAddress = maxConnectionsPerAddress
        config.maxStartsPerAddress = maxStartsPerAddress
        config.maxEventsPerSession = maxEventsPerSession
        config.maxInputBytesPerAddress = maxInputMegabytesPerAddress.multipliedReportingOverflow(by: 1 << 20).overflow
            ? Int.max : maxInputMegabytesPerAddress << 20
        if let http {
            guard let folder = page.map({ URL(fileURLWithPath: $0) }) ?? KioskPage.defaultDirectory() else {
                printError(loaded.catalog.text("operations.serve.page_missing", project.messageLocale, ["path": page ?? "intake_IntakeServer.resources/Kiosk"]))
                throw ExitCode(66)
            }
            var settings = KioskPage.Settings()
            settings.inactivitySeconds = kioskInactivity
            settings.warningSeconds = kioskWarning
            let kioskPage: KioskPage
            do {
                kioskPage = try KioskPage(directory: folder, catalog: loaded.catalog, settings: settings)
            } catch {
                printError(loaded.catalog.text("operations.serve.page_missing", project.messageLocale, ["path": folder.path]))
                throw ExitCode(66)
            }
            var web = HTTPConfiguration(page: kioskPage)
            web.host = httpHost
            web.port = http
            web.names = httpName
            config.http = web
        }
        config.greetAfter = greetAfter > 0 ? .milliseconds(Int64((greetAfter * 1000).rounded())) : nil
        let server = try KioskServer(project: loaded, store: store, configuration: config, logger: logger)

        // SIGTERM (and Ctrl-C): stop accepting, suspend every session and say bye, exit 0.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let signals = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.info("signal received", metadata: ["signal": "\(number == SIGTERM ? "TERM" : "INT")"])
                server.shutdown()
            }
            source.resume()
            return source
        }
        let host = self.host
        let httpHost = self.httpHost
        // An IPv6 address in brackets ([::1]:7070), as URLs and most tools write it.
        @Sendable func shown(_ address: SocketAddress, _ fallback: String) -> String {
            address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? fallback
        }
        try await server.run(onListening: { address in
            print("listening on \(shown(address, host)):\(address.port ?? 0)")
            fflush(nil)
        }, onHTTPListening: { address in
            // The page's address, to open in the kiosk's browser.
            print("http://\(shown(address, httpHost)):\(address.port ?? 0)/")
            fflush(nil)
        })
        for s in signals { s.cancel() }
        await postgres?.close()
        withExtendedLifetime(lock) {}
    }

    /// The exit status when another `intake serve` runs on the same database.
    static let exitLocked: Int32 = 3
}
