// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "intake",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "intake", targets: ["intake"]),
        .library(name: "IntakeEngine", targets: ["IntakeEngine"]),
        .library(name: "IntakeDialogs", targets: ["IntakeDialogs"]),
        .library(name: "IntakeTesting", targets: ["IntakeTesting"]),
        .library(name: "IntakeSheets", targets: ["IntakeSheets"]),
        .library(name: "IntakeRecords", targets: ["IntakeRecords"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        // The pure core: dialog model, expressions, answer parsing, the state machine.
        // Standard library only: no clock, file, socket or randomness.
        .target(name: "IntakeEngine"),
        // Printable sheets from a record (就労相談記録票, 職場体験シート, 求人リクエストカード, …), as Markdown.
        .target(name: "IntakeSheets", dependencies: ["IntakeEngine"]),
        // YAML dialogs + locales -> validated model, with FILE:LINE:COL diagnostics (lint).
        .target(name: "IntakeDialogs", dependencies: [
            "IntakeEngine", "IntakeSheets",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Scripted test conversations: parser, runner, coverage, --update. Used by `intake test` and `swift test`.
        .target(name: "IntakeTesting", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeRuntime", "IntakeStore",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Sessions over a store: every event logged (durably) before its effects are shown; replay;
        // resume tokens. The store is a protocol here; IntakeStore implements it on SQLite.
        .target(name: "IntakeRuntime", dependencies: [
            "IntakeEngine",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // What is made from records, outside any database's module: CSV and FHIR exports, the monthly
        // report. Reads a store only through the runtime's `Store` protocol.
        .target(name: "IntakeRecords", dependencies: ["IntakeEngine", "IntakeRuntime"]),
        // SQLite through GRDB: migrations, the event log, clients and visits, the audit trail.
        .target(name: "IntakeStore", dependencies: [
            "IntakeEngine", "IntakeRuntime",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // PostgreSQL through postgres-nio: the same store as IntakeStore (sessions, log, hash chain,
        // sealing, leases, audit), written once and async, for several offices on one database.
        .target(name: "IntakePostgres", dependencies: [
            "IntakeEngine", "IntakeRuntime",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            // Its pool's errors (a lease refused by the pool's circuit breaker: `RenewingPool`).
            .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // GNU readline (libreadline-dev, GPL-3.0) for the counselor's terminal, and a small C line
        // editor over its callback interface (Ctrl-C clears the line; signals stay in C).
        .systemLibrary(name: "CReadline", providers: [.apt(["libreadline-dev"])]),
        .target(name: "CLineEditor", dependencies: ["CReadline"], linkerSettings: [.linkedLibrary("readline")]),
        // Tests only: a pseudo-terminal to drive the REPL as a person at a terminal would.
        .target(name: "CPseudoTerminal"),
        // What a terminal shows: text wrapped by display width (full-width characters count two),
        // the counselor's screen of a question, review and record. Standard library only.
        .target(name: "IntakeTerminal", dependencies: ["IntakeEngine"]),
        // The kiosk service (`intake serve`): sessions over TCP with SwiftNIO, JSON lines or plain text,
        // and (`--http`) the kiosk's touch page with the same protocol over a WebSocket (NIOHTTP1 +
        // NIOWebSocket); the page's HTML/CSS/JS are this target's resources (Kiosk/).
        .target(name: "IntakeServer", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeRuntime", "IntakeStore", "IntakeTerminal",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: [.copy("Kiosk")]),
        .executableTarget(name: "intake", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeTesting", "IntakeSheets", "IntakeRuntime", "IntakeRecords", "IntakeStore", "IntakePostgres", "IntakeServer",
            "IntakeTerminal", "CLineEditor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Load generator for the kiosk line service: C scripted sessions against a raw line echo baseline.
        .executableTarget(name: "IntakeLoad", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeRuntime", "IntakeStore", "IntakeServer", "IntakePostgres",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOExtras", package: "swift-nio-extras"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Every parser of outside input as a function of bytes; IntakeFuzz drives them with
        // libFuzzer (Fuzz/run) or replays files.
        .target(name: "IntakeFuzzing", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeTesting", "IntakeServer", "IntakeStore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "IntakeFuzz", dependencies: ["IntakeFuzzing"]),
        // Crash under load: `intake serve` killed with SIGKILL at random while kiosk clients answer;
        // every acknowledged answer must be in the database and every session resume where it stood.
        .executableTarget(name: "IntakeCrash", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeRuntime", "IntakeStore", "IntakePostgres", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .executableTarget(name: "IntakeBench", dependencies: [
            "IntakeEngine", "IntakeDialogs", "IntakeTesting", "IntakeRuntime", "IntakeStore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "IntakeStoreBench", dependencies: [
            "IntakeEngine", "IntakeRuntime", "IntakeStore",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "IntakeEngineTests", dependencies: ["IntakeEngine"]),
        .testTarget(name: "IntakeTerminalTests", dependencies: ["IntakeTerminal", "IntakeEngine"]),
        .testTarget(name: "IntakeFuzzingTests", dependencies: ["IntakeFuzzing"]),
        .testTarget(name: "IntakeDialogsTests", dependencies: ["IntakeDialogs", "IntakeEngine"]),
        .testTarget(name: "IntakeTestingTests", dependencies: ["IntakeTesting", "IntakeDialogs", "IntakeEngine"]),
        .testTarget(name: "IntakeCLITests", dependencies: ["intake", "IntakeTerminal", "IntakeRuntime", "CPseudoTerminal"]),
        .testTarget(name: "IntakeStoreTests", dependencies: ["IntakeStore", "IntakePostgres", "IntakeRecords", "IntakeRuntime", "IntakeEngine", "IntakeDialogs", "IntakeTesting",
                                                         .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "IntakeRecordsTests", dependencies: ["IntakeRecords", "IntakeRuntime", "IntakeEngine", "IntakeDialogs", "IntakeTesting"]),
        .testTarget(name: "IntakeServerTests", dependencies: [
            "IntakeServer", "IntakeStore", "IntakePostgres", "IntakeRecords", "IntakeRuntime", "IntakeEngine", "IntakeDialogs", "IntakeTesting", "IntakeTerminal", "intake",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "IntakePostgresTests", dependencies: [
            "IntakePostgres", "IntakeRuntime", "IntakeEngine", "IntakeDialogs",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            // A relay that cuts the database off (PostgresOutageTests).
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .testTarget(name: "IntakeSheetsTests", dependencies: ["IntakeSheets", "IntakeDialogs", "IntakeEngine", "IntakeTesting"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
