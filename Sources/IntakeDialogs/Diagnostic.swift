import IntakeEngine

/// A problem in a dialog, locale or conversation file, at its line and column. The wording comes
/// from Locales (`lint.CODE`), so it can be shown in the author's language.
public struct Diagnostic: Error, Sendable, Equatable {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var source: SourceRef
    public var code: String
    public var args: [String: String]

    public init(_ severity: Severity, _ code: String, _ args: [String: String] = [:], at source: SourceRef) {
        self.severity = severity
        self.code = code
        self.args = args
        self.source = source
    }

    /// `Dialogs/family.yaml:12:5: error: unknown question 'childs' (did you mean 'children'?)`
    public func rendered(_ catalog: Catalog, locale: String) -> String {
        var message = BuiltInMessages.text(catalog, "lint." + code, locale, args)
        if message == "lint." + code {
            // Locales unreadable or missing the wording: still say something precise.
            message = code + (args.isEmpty ? "" : " " + args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let s = args["suggestion"] {
            message += BuiltInMessages.text(catalog, "lint.did-you-mean", locale, ["suggestion": s])
        }
        let severity = BuiltInMessages.text(catalog, "lint.severity." + self.severity.rawValue, locale)
        let word = severity.hasPrefix("lint.") ? self.severity.rawValue : severity
        return "\(source): \(word): \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var errorCount: Int { filter { $0.severity == .error }.count }
    public var warningCount: Int { filter { $0.severity == .warning }.count }

    /// By file, line and column, as an editor lists them.
    public func sortedBySource() -> [Diagnostic] {
        sorted {
            ($0.source.file, $0.source.line, $0.source.column, $0.code) < ($1.source.file, $1.source.line, $1.source.column, $1.code)
        }
    }
}
