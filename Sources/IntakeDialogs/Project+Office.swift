import Foundation
import IntakeEngine

/// The office's own time zone and language (`Dialogs/office.yaml`, `settings:`): what its exports
/// and monthly report are written in, whatever the machine's time zone or the shell's LANG.
///
/// ```yaml
/// settings:
///   time_zone: Asia/Tokyo   # an IANA name (default Asia/Tokyo)
///   language: ja            # a language of Locales/ (default ja)
/// ```
///
/// The engine reads no clock and knows no zone: times arrive as moments, and these settings are
/// applied at the edges (export, report).
extension Project {
    public static let defaultTimeZone = "Asia/Tokyo"
    public static let defaultLanguage = "ja"

    /// The office's time zone, by its IANA name (default Asia/Tokyo).
    public var officeTimeZone: TimeZone {
        if case .text(let name)? = officeSettings["time_zone"], let zone = TimeZone(identifier: name) { return zone }
        return TimeZone(identifier: Project.defaultTimeZone) ?? TimeZone(secondsFromGMT: 9 * 3600) ?? .current
    }

    /// The language the office's documents are written in (default ja).
    public var officeLanguage: String {
        if case .text(let lang)? = officeSettings["language"], !lang.isEmpty { return lang }
        return Project.defaultLanguage
    }

    /// What is wrong with an office setting's value beyond its type: a diagnostic code and its
    /// arguments, or nil when it is fine.
    func officeSettingProblem(_ key: String, _ text: String) -> (code: String, args: [String: String])? {
        switch key {
        case "time_zone":
            return TimeZone(identifier: text) == nil ? ("setting-time-zone", ["found": text]) : nil
        case "language":
            let known = catalog.locales
            return known.isEmpty || known.contains(text) ? nil : ("setting-language", ["found": text, "languages": known.joined(separator: ", ")])
        default:
            return nil
        }
    }
}
