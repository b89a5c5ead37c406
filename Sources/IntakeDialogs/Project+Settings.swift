import IntakeEngine
import Yams

extension Project {
    /// An office's settings file (`settings:` at the top, e.g. `Dialogs/office.yaml`): values that
    /// override the dialogs' own settings of the same name — age limits, local resources — so an
    /// office changes them without editing a flow. A value must keep the type the dialog declared.
    mutating func applySettings(_ node: Node, file: String) {
        var r = YAMLReader(file: file, text: texts[file])
        defer { diagnostics += r.diagnostics }
        guard let top = r.members(node, allowed: ["settings"], what: "settings file"), let s = top["settings"] else { return }
        guard case .mapping(let m) = s else {
            r.error("expected-mapping", ["what": "settings"], at: s)
            return
        }
        let known = Set(dialogs.values.flatMap { $0.settings.keys })
        for (k, v) in m {
            if let key = k.scalar?.string, case .mapping = v {
                // Only a dialog's text setting is written per language (not the office's own).
                if Project.officeSettingTypes[key] != nil {
                    r.error("setting-type", ["name": key, "found": "{…}"], at: v)
                } else {
                    applySettingTexts(key, v, &r)
                }
                continue
            }
            guard let key = k.scalar?.string, let text = v.scalar?.string else {
                r.error("expected-setting", at: k)
                continue
            }
            if let like = Project.officeSettingTypes[key] {
                guard let value = Project.setting(text, like: like), Project.validOfficeSetting(value) else {
                    r.error("setting-type", ["name": key, "found": text], at: v)
                    continue
                }
                // A time zone or language that does not exist (`Project+Office.swift`).
                if let problem = officeSettingProblem(key, text) {
                    r.error(problem.code, problem.args, at: v)
                    continue
                }
                officeSettings[key] = value
                continue
            }
            guard known.contains(key) else {
                var args = ["name": key]
                if let close = Spelling.closest(to: key, in: Array(known)) { args["suggestion"] = close }
                r.error("expr-unknown-setting", args, at: k)
                continue
            }
            for id in dialogs.keys.sorted() {
                guard let current = dialogs[id]?.settings[key] else { continue }
                guard let value = Project.setting(text, like: current) else {
                    r.error("setting-type", ["name": key, "found": text], at: v)
                    break
                }
                dialogs[id]?.settings[key] = value
                // One text for every language: the office's own words replace the dialog's forms.
                dialogs[id]?.settingTexts[key] = nil
            }
        }
    }

    /// An office's text setting written per language: it replaces the setting (and its forms) in
    /// every dialog that has it as a text.
    private mutating func applySettingTexts(_ key: String, _ node: Node, _ r: inout YAMLReader) {
        let holders = dialogs.keys.sorted().filter { dialogs[$0]?.settings[key] != nil }
        guard !holders.isEmpty else {
            var args = ["name": key]
            if let close = Spelling.closest(to: key, in: Array(Set(dialogs.values.flatMap { $0.settings.keys }))) { args["suggestion"] = close }
            return r.error("expr-unknown-setting", args, at: node)
        }
        guard let forms = Project.settingTexts(key, node, catalog: catalog, &r) else { return }
        for id in holders {
            guard case .text? = dialogs[id]?.settings[key] else {
                r.error("setting-type", ["name": key, "found": forms.fallback], at: node)
                return
            }
            dialogs[id]?.settings[key] = .text(forms.fallback)
            dialogs[id]?.settingTexts[key] = forms.byLocale
        }
    }

    /// A text setting's forms by language (`ja: …`, `en: …`, `ja-easy: …`): each language one the
    /// Locales have, each form a text, readings as in the locale's own strings (every kanji of
    /// ja-easy with its reading); the fallback language's form is required, and each other language
    /// left out is a warning (its clients read the fallback's). Nil after an error.
    static func settingTexts(_ key: String, _ node: Node, catalog: Catalog,
                             _ r: inout YAMLReader) -> (fallback: String, byLocale: [String: String])? {
        guard case .mapping(let m) = node else { return nil }
        var forms: [String: String] = [:]
        var failed = false
        for (k, v) in m {
            guard let locale = k.scalar?.string, let scalar = v.scalar else {
                r.error("expected-setting", at: k)
                failed = true
                continue
            }
            guard catalog.strings[locale] != nil else {
                r.error("setting-text-language", ["name": key, "language": locale, "languages": catalog.locales.joined(separator: ", ")], at: k)
                failed = true
                continue
            }
            let before = r.diagnostics.count
            checkFurigana(scalar, key: "settings." + key, locale: locale, at: v, reader: &r)
            if r.diagnostics.count > before { failed = true }
            forms[locale] = scalar.string
        }
        guard let fallback = forms[catalog.fallback] else {
            if !failed { r.error("setting-text-missing", ["name": key, "language": catalog.fallback], at: node) }
            return nil
        }
        for locale in catalog.locales where forms[locale] == nil {
            r.warning("setting-text-fallback", ["name": key, "language": locale, "fallback": catalog.fallback], at: node)
        }
        return failed ? nil : (fallback, forms)
    }

    /// Settings that belong to the office, not to a dialog, with a value of their type.
    /// `abandoned_session_days`: sessions abandoned before any answer are purged (`intake records
    /// purge`) once untouched for this many days.
    static let officeSettingTypes: [String: Value] = ["abandoned_session_days": .int(30),
                                                      "time_zone": .text(Project.defaultTimeZone), "language": .text(Project.defaultLanguage)]

    /// The office's retention period for abandoned sessions, in days (default 30).
    public var abandonedSessionDays: Int {
        if case .int(let days)? = officeSettings["abandoned_session_days"] { return days }
        if case .int(let days)? = Project.officeSettingTypes["abandoned_session_days"] { return days }
        return 30
    }

    static func validOfficeSetting(_ value: Value) -> Bool {
        if case .int(let n) = value { return n >= 1 && n <= 3650 }
        return true
    }

    /// `text` read as a value of the same type as `like`.
    static func setting(_ text: String, like: Value) -> Value? {
        switch like {
        case .int: return Int(text).map(Value.int)
        case .decimal: return NumberParser.parseDecimal(text).map(Value.decimal)
        case .bool:
            switch text.lowercased() {
            case "true", "yes": return .bool(true)
            case "false", "no": return .bool(false)
            default: return nil
            }
        case .date: return DateParser.parse(text).map(Value.date)
        case .text: return .text(text)
        case .choice, .choices: return nil
        }
    }
}
