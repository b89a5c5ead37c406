import Foundation
import IntakeEngine
import IntakeSheets
import Yams

/// Everything under a Dialogs/ folder and its Locales/: the dialogs by id, the strings, the
/// conversation files, and every problem found loading them.
public struct Project: Sendable {
    public var dialogs: [String: Dialog] = [:]
    public var catalog = Catalog()
    public var diagnostics: [Diagnostic] = []
    /// YAML files whose top-level key is `conversations` (test conversations).
    public var conversationFiles: [String] = []
    /// The file each dialog was read from.
    public var dialogFiles: [String: String] = [:]
    /// Printable sheets (`sheet:` files), checked against their dialogs.
    public var sheets: [SheetDefinition] = []
    /// Settings of the office itself rather than of a dialog (`abandoned_session_days`), from its
    /// settings file.
    public var officeSettings: [String: Value] = [:]
    /// The text of every YAML file read, by path (for diagnostics inside multi-line scalars).
    var texts: [String: String] = [:]
    /// The files that could not be read as YAML (syntax, encoding, missing): each one's diagnostic.
    var unreadableFiles: [Diagnostic] = []

    public init() {}

    /// Loads dialogs from `paths` (files or folders, searched for `*.yaml`) and locales from
    /// `localesDirectory` (default: `Locales` beside the first folder given, else `./Locales`).
    /// Without dialog paths (or with the default `Dialogs`) and without a locales folder, `location`
    /// says where they are (the environment, the config file, the binary's resources).
    public static func load(paths given: [String], localesDirectory givenLocales: String? = nil,
                            location: ProjectLocation = .current()) -> Project {
        var project = Project()
        let (paths, localesDirectory) = location.resolve(given, locales: givenLocales, problems: &project.diagnostics)
        let files = yamlFiles(in: paths)
        var parsed: [String: Node] = [:]
        var modules: Set<String> = []
        var roots: [String] = []
        var unreadable: Set<String> = []
        var settingsFiles: [(String, Node)] = []
        var sheetFiles: [(String, Node)] = []
        for file in files {
            guard let node = project.parse(file) else {
                unreadable.insert((file as NSString).standardizingPath)
                continue
            }
            guard case .mapping(let m) = node else {
                project.diagnostics.append(Diagnostic(.error, "unknown-file-kind", at: SourceRef(file: file, line: 1, column: 1)))
                continue
            }
            let keys = Set(m.keys.compactMap { $0.scalar?.string })
            if keys.contains("conversations") {
                project.conversationFiles.append(file)
                continue
            } else if keys == ["settings"] {
                settingsFiles.append((file, node))
                continue
            } else if keys.contains("sheet") {
                sheetFiles.append((file, node))
                continue
            } else if keys.contains("dialog") {
                roots.append(file)
            } else if keys.contains("section") {
                modules.insert(file)
            } else {
                project.diagnostics.append(Diagnostic(.error, "unknown-file-kind", at: SourceRef(file: file, line: 1, column: 1)))
                continue
            }
            parsed[file] = node
        }
        let locales = localesDirectory ?? defaultLocales(for: paths)
        project.loadLocales(locales)
        var included: Set<String> = []
        for file in roots {
            guard let node = parsed[file] else { continue }
            var builder = DialogBuilder(root: file, parsed: parsed, texts: project.texts, catalog: project.catalog)
            builder.unreadable = unreadable
            let built = builder.buildDialog(node)
            project.diagnostics += builder.diagnostics
            included.formUnion(builder.includedFiles)
            guard var dialog = built else { continue }
            var source = Fingerprint()
            // The texts, not the paths: the same files read from another folder are the same dialog.
            for read in [file] + builder.includedFiles.sorted() { source.add(project.texts[read] ?? "") }
            dialog.sourceFingerprint = source.hex
            if let earlier = project.dialogFiles[dialog.id] {
                project.diagnostics.append(Diagnostic(.error, "duplicate-dialog", ["id": dialog.id, "first": earlier], at: dialog.source))
                continue
            }
            project.dialogs[dialog.id] = dialog
            project.dialogFiles[dialog.id] = file
        }
        for (file, node) in settingsFiles { project.applySettings(node, file: file) }
        project.loadSheets(sheetFiles)
        for file in modules.subtracting(included).sorted() {
            project.diagnostics.append(Diagnostic(.warning, "module-not-included", at: SourceRef(file: file, line: 1, column: 1)))
        }
        project.diagnostics = project.diagnostics.sortedBySource()
        // A file that cannot be read as YAML is reported alone: what else would be said (missing
        // translations, unknown modules, never-asked questions) follows from it and hides it.
        if !project.unreadableFiles.isEmpty { project.diagnostics = project.unreadableFiles.sortedBySource() }
        return project
    }

    /// Whether the diagnostics are only those of files that could not be read as YAML (the other
    /// checks did not count: `intake lint` says so).
    public var stoppedAtUnreadableFiles: Bool { !unreadableFiles.isEmpty }

    /// The dialog to run: `id` if given, else `intake`, else the only one.
    public func dialog(_ id: String?) -> Dialog? {
        if let id { return dialogs[id] }
        return dialogs["intake"] ?? (dialogs.count == 1 ? dialogs.values.first : nil)
    }

    /// The YAML files of `paths` (folders searched), each once: a file named beside its folder
    /// (`intake test Dialogs Dialogs/tests/followup.yaml`) is not read, nor its conversations run, twice.
    static func yamlFiles(in paths: [String]) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                out.append(path)  // reported as unreadable by parse()
                continue
            }
            if isDir.boolValue {
                let found = (fm.enumerator(atPath: path)?.allObjects as? [String] ?? [])
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                    .map { (path as NSString).appendingPathComponent($0) }
                out += found.sorted()
            } else {
                out.append(path)
            }
        }
        var seen: Set<String> = []
        return out.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }

    static func defaultLocales(for paths: [String]) -> String {
        var isDir: ObjCBool = false
        if let first = paths.first, FileManager.default.fileExists(atPath: first, isDirectory: &isDir) {
            let folder = isDir.boolValue ? first : (first as NSString).deletingLastPathComponent
            let beside = ((folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("Locales")
            if FileManager.default.fileExists(atPath: beside) { return beside }
            let parentOfStandardized = (((folder as NSString).standardizingPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("Locales")
            if FileManager.default.fileExists(atPath: parentOfStandardized) { return parentOfStandardized }
        }
        return "Locales"
    }

    /// Reads and composes one YAML file; a problem becomes a diagnostic, never a crash.
    mutating func parse(_ file: String) -> Node? {
        switch Project.readYAMLWithText(file) {
        case .success(let read):
            texts[file] = read.text
            return read.node
        case .failure(let d):
            diagnostics.append(d)
            unreadableFiles.append(d)
            return nil
        }
    }

    /// The YAML tree of a file, or the diagnostic that says why it cannot be read.
    public static func readYAML(_ file: String) -> Result<Node, Diagnostic> {
        readYAMLWithText(file).map(\.node)
    }

    /// The YAML tree of a file and its text (for positions inside multi-line scalars).
    public static func readYAMLWithText(_ file: String) -> Result<(node: Node, text: String), Diagnostic> {
        let start = SourceRef(file: file, line: 1, column: 1)
        guard let data = FileManager.default.contents(atPath: file) else {
            guard FileManager.default.fileExists(atPath: file) else {
                return .failure(Diagnostic(.error, "no-such-path", ["path": file], at: start))
            }
            return .failure(Diagnostic(.error, "unreadable-file", at: start))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(Diagnostic(.error, "not-utf8", at: start))
        }
        do {
            // The basic resolver: every scalar is read as text (the loader types values itself), which
            // spares the regular expressions of YAML 1.1 type guessing.
            guard let node = try Yams.compose(yaml: text, .basic) else {
                return .failure(Diagnostic(.error, "empty-file", at: start))
            }
            return .success((node, text))
        } catch let e as YamlError {
            return .failure(yamlDiagnostic(e, file: file, text: text))
        } catch {
            return .failure(Diagnostic(.error, "yaml-syntax", ["problem": "\(error)"], at: start))
        }
    }

    static func yamlDiagnostic(_ e: YamlError, file: String, text: String = "") -> Diagnostic {
        switch e {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            return YAMLProblem(problem: problem, context: context, mark: mark, text: text).diagnostic(file: file)
        case let .duplicatedKeysInMapping(duplicates, context):
            return Diagnostic(.error, "duplicate-key", ["key": duplicates.joined(separator: ", ")],
                              at: SourceRef(file: file, line: context.mark.line, column: context.mark.column))
        case let .reader(problem, _, _, _):
            return Diagnostic(.error, "yaml-syntax", ["problem": problem], at: SourceRef(file: file, line: 1, column: 1))
        default:
            return Diagnostic(.error, "yaml-syntax", ["problem": "\(e)"], at: SourceRef(file: file, line: 1, column: 1))
        }
    }
}
