import Foundation
import IntakeEngine

/// Where intake finds its dialogs and locales when it is not told, so that the built program runs
/// from any folder. In order:
///
/// 1. the folders given (`--dialogs DIR`, `intake lint DIR`, `--locales DIR`);
/// 2. the environment variables `INTAKE_DIALOGS` and `INTAKE_LOCALES`;
/// 3. the config file `$XDG_CONFIG_HOME/intake/config` (default `~/.config/intake/config`), lines
///    `dialogs = PATH` and `locales = PATH` (`#` starts a comment; a relative path is relative to
///    the config file's folder; `~/` is the home folder);
/// 4. `Dialogs` in the current folder, when there is one (a checkout of the repository);
/// 5. an installed copy: `../share/intake/Dialogs` from the folder of the binary (symbolic links
///    resolved: `~/.local/bin/intake` reads `~/.local/share/intake/`);
/// 6. the dialogs it was built with: `Dialogs/` of the checkout it was built from, while it is there.
///
/// (Not SwiftPM resources: SwiftPM copies a symbolic link to Dialogs/ as a link, which points
/// nowhere from inside .build, and a second copy of Dialogs/ under Sources/ would drift.)
///
/// The locales: `--locales DIR`; else, when the dialogs were not given either, `INTAKE_LOCALES` or
/// the config file's `locales`; else the `Locales` folder beside the dialogs folder.
public struct ProjectLocation: Sendable {
    /// The path that stands for "not told": what `--dialogs` and `intake lint` default to.
    public static let defaultDialogs = "Dialogs"
    /// Where an installed copy keeps its dialogs and locales, from the binary's folder.
    public static let installed = "../share/intake"
    /// The checkout this program was built from (this file is Sources/IntakeDialogs/ProjectLocation.swift).
    public static let checkout: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public var environment: [String: String]
    public var currentDirectory: String
    /// The folder of the running binary (symbolic links resolved); nil when unknown.
    public var executableDirectory: String?
    /// The checkout the program was built from (nil: none).
    public var checkout: String?

    public init(environment: [String: String], currentDirectory: String, executableDirectory: String?,
                checkout: String? = ProjectLocation.checkout) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.executableDirectory = executableDirectory
        self.checkout = checkout
    }

    /// This process's environment, folder and binary.
    public static func current() -> ProjectLocation {
        let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path
        return ProjectLocation(environment: ProcessInfo.processInfo.environment,
                               currentDirectory: FileManager.default.currentDirectoryPath, executableDirectory: executable)
    }

    /// The config file's path (whether or not it exists); nil without a home folder.
    public var configFile: String? {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return (xdg as NSString).appendingPathComponent("intake/config")
        }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return (home as NSString).appendingPathComponent(".config/intake/config")
    }

    /// The config file's settings, and a diagnostic for each line it does not understand.
    public func config() -> (settings: [String: String], problems: [Diagnostic]) {
        guard let file = configFile, let data = FileManager.default.contents(atPath: file) else { return ([:], []) }
        guard let text = String(data: data, encoding: .utf8) else {
            return ([:], [Diagnostic(.error, "not-utf8", at: SourceRef(file: file, line: 1, column: 1))])
        }
        var settings: [String: String] = [:]
        var problems: [Diagnostic] = []
        let folder = (file as NSString).deletingLastPathComponent
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let at = SourceRef(file: file, line: n + 1, column: 1)
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[1].isEmpty else {
                problems.append(Diagnostic(.error, "config-line", ["line": line.trimmingCharacters(in: .whitespaces)], at: at))
                continue
            }
            guard ["dialogs", "locales"].contains(parts[0]) else {
                problems.append(Diagnostic(.error, "config-unknown-setting", ["key": parts[0]], at: at))
                continue
            }
            settings[parts[0]] = expand(parts[1], relativeTo: folder)
        }
        return (settings, problems)
    }

    /// The dialog paths to load: `paths` as given, unless they are the default (`Dialogs`, or none:
    /// then where the dialogs would be).
    public func dialogs(_ paths: [String], config: [String: String]) -> [String] {
        guard paths.isEmpty || paths == [Self.defaultDialogs] else { return paths }
        if let env = environment["INTAKE_DIALOGS"], !env.isEmpty { return [expand(env, relativeTo: currentDirectory)] }
        if let set = config["dialogs"] { return [set] }
        if exists(Self.defaultDialogs) { return [Self.defaultDialogs] }
        if let dir = executableDirectory {
            let installed = ((dir as NSString).appendingPathComponent(Self.installed + "/Dialogs") as NSString).standardizingPath
            if exists(installed) { return [installed] }
        }
        if let checkout {
            let built = (checkout as NSString).appendingPathComponent("Dialogs")
            if exists(built) { return [built] }
        }
        return [Self.defaultDialogs]
    }

    /// The locales folder: `given`, else — when the dialogs were not given either — the
    /// environment's, the config file's; else nil (the `Locales` folder beside the dialogs folder).
    public func locales(_ given: String?, dialogs paths: [String], config: [String: String]) -> String? {
        if let given { return given }
        guard paths.isEmpty || paths == [Self.defaultDialogs] else { return nil }
        if let env = environment["INTAKE_LOCALES"], !env.isEmpty { return expand(env, relativeTo: currentDirectory) }
        return config["locales"]
    }

    /// The dialog paths and the locales folder to load; the config file's problems are added to `problems`.
    public func resolve(_ paths: [String], locales: String?, problems: inout [Diagnostic]) -> (paths: [String], locales: String?) {
        let defaulted = paths.isEmpty || paths == [Self.defaultDialogs]
        guard defaulted || locales == nil else { return (paths, locales) }
        let (settings, configProblems) = defaulted ? config() : ([:], [])
        problems += configProblems
        let found = dialogs(paths, config: settings)
        let strings = self.locales(locales, dialogs: paths, config: settings)
        // No dialogs asked for (only the strings, for a command's messages): the locales of the
        // dialogs it would run.
        guard !paths.isEmpty else { return ([], strings ?? Project.defaultLocales(for: found)) }
        return (found, strings)
    }

    private func exists(_ path: String) -> Bool {
        let full = path.hasPrefix("/") ? path : (currentDirectory as NSString).appendingPathComponent(path)
        return FileManager.default.fileExists(atPath: full)
    }

    private func expand(_ path: String, relativeTo folder: String) -> String {
        if path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] {
            return home + path.dropFirst()
        }
        return path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path)
    }
}
