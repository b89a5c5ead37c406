import IntakeEngine

/// The few messages intake must be able to say when it cannot read its locales — the folder is
/// missing or empty, or a locale file is not valid YAML — so that even then it speaks in sentences,
/// not in keys. Every other message comes from Locales/. These are the same words as the keys of
/// the same name in Locales/ja and Locales/en (a test keeps them equal), in Japanese and English.
public enum BuiltInMessages {
    /// key → (ja, en)
    static let table: [String: (ja: String, en: String)] = [
        "lint.severity.error": ("エラー", "error"),
        "lint.severity.warning": ("警告", "warning"),
        "lint.summary": ("{errors} 件のエラー、{warnings} 件の警告", "{errors} errors, {warnings} warnings"),
        "lint.did-you-mean": ("（'{suggestion}' のことですか？）", " (did you mean '{suggestion}'?)"),
        "lint.no-locales": (
            "ロケールのフォルダ '{folder}' に .yaml がありません。--locales か環境変数 INTAKE_LOCALES でフォルダを指定してください",
            "no .yaml files in the locales folder '{folder}': name the folder with --locales or the environment variable INTAKE_LOCALES"),
        "lint.no-such-path": (
            "'{path}' というファイルもフォルダもありません。ダイアログのフォルダを --dialogs か環境変数 INTAKE_DIALOGS で指定してください",
            "there is no file or folder '{path}': name the folder of dialogs with --dialogs or the environment variable INTAKE_DIALOGS"),
        "lint.config-line": (
            "設定ファイルの行 '{line}' を読めません。「dialogs = フォルダ」か「locales = フォルダ」と書いてください",
            "cannot read the config line '{line}': write 'dialogs = FOLDER' or 'locales = FOLDER'"),
        "lint.config-unknown-setting": (
            "設定ファイルに '{key}' という項目はありません（dialogs か locales です）",
            "the config file has no setting '{key}' (it has dialogs and locales)"),
        "lint.unreadable-file": ("ファイルを読めません", "cannot read this file"),
        "lint.not-utf8": ("ファイルが UTF-8 ではありません", "this file is not UTF-8"),
        "lint.empty-file": ("ファイルが空です", "this file is empty"),
        "lint.yaml-syntax": ("YAML の書き方に誤りがあります：{problem}", "YAML syntax error: {problem}"),
        "lint.yaml-indentation": (
            "字下げ（行頭の空白）が前後の行と合っていません。同じ階層の行は同じ数の空白で始めてください（YAML：{problem}）",
            "the indentation does not match the lines around it: lines at the same level start with the same number of spaces (YAML: {problem})"),
        "lint.yaml-colon": (
            "値の中に「: 」があります。値全体を引用符 \"…\" で囲んでください（YAML：{problem}）",
            "a ': ' inside a value: put the whole value in quotes \"…\" (YAML: {problem})"),
        "lint.yaml-unclosed-quote": (
            "ここで始まる引用符が閉じていません（中に同じ引用符を書くときは \\\" か、外側を ' にします）（YAML：{problem}）",
            "the quote that starts here is not closed (inside the quotes write \\\" or use ' outside) (YAML: {problem})"),
        "lint.yaml-quote-inside": (
            "引用符で囲んだ値のあとに、まだ文字があります。値の中の \" は \\\" と書くか、外側を ' にしてください（YAML：{problem}）",
            "text follows a quoted value: inside the quotes write \\\" for \", or use ' outside (YAML: {problem})"),
        "lint.yaml-tab": (
            "字下げにタブがあります。YAML の字下げは空白で書きます（YAML：{problem}）",
            "a tab in the indentation: YAML indents with spaces (YAML: {problem})"),
        "lint.yaml-unclosed-bracket": (
            "ここで始まるかっこが閉じていません（YAML：{problem}）",
            "the bracket that starts here is not closed (YAML: {problem})"),
    ]

    /// `key` in `locale` (ja, or English for any other), with its placeholders filled; nil when it is not one of these.
    public static func text(_ key: String, _ locale: String, _ args: [String: String] = [:]) -> String? {
        guard let entry = table[key] else { return nil }
        return Catalog.fill(locale.hasPrefix("ja") ? entry.ja : entry.en, args)
    }

    /// The keys these messages stand in for.
    public static var keys: [String] { table.keys.sorted() }

    /// From the catalog when it has the key in `locale`, else the built-in words (before another
    /// locale's: the English reader of a broken en.yaml still reads English), else the catalog's
    /// fallback locale, else the key itself.
    public static func text(_ catalog: Catalog, _ key: String, _ locale: String, _ args: [String: String] = [:]) -> String {
        if catalog.has(key, in: locale) { return catalog.text(key, locale, args) }
        return text(key, locale, args) ?? catalog.text(key, locale, args)
    }
}
