import Foundation
import Testing
@testable import IntakeDialogs
import IntakeEngine

// Every lint diagnostic the loader produces, pinned by its full English line (FILE:LINE:COL: severity: message).
// Each test builds a throwaway project in a fresh temporary directory: Dialogs/… plus Locales/en.yaml and
// ja.yaml, which are the repository's real locale files with the fixture's own keys appended.

/// The package root: this file is Tests/IntakeDialogsTests/LintTests.swift.
private let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A small project on disk, removed again when the fixture goes away.
final class Fixture {
    let dir: String

    /// `files`: paths relative to the fixture (`Dialogs/main.yaml`) and their text. `keys`: locale keys the
    /// dialogs need (added to both locales with `t.title`); `jaKeys`, when given, replaces them in ja.yaml.
    init(_ files: [String: String], keys: [String] = [], jaKeys: [String]? = nil, bytes: [String: Data] = [:]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("intake-lint-\(UUID().uuidString)").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/Dialogs/modules", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/Locales", withIntermediateDirectories: true)
        for (path, text) in files { try write(Data(text.utf8), to: path) }
        for (path, data) in bytes { try write(data, to: path) }
        for (locale, extra) in [("en", ["t.title"] + keys), ("ja", ["t.title"] + (jaKeys ?? keys))] {
            let real = try String(contentsOfFile: packageRoot + "/Locales/\(locale).yaml", encoding: .utf8)
            // Engine strings kept in a locale folder (not in the base file): required all the same.
            let folderKeys = EngineStrings.keys.filter { !$0.hasPrefix("engine.") }
            let added = (extra + folderKeys).map { "\"\($0)\": \"x\"\n" }.joined()
            try write(Data((real + "\n" + added).utf8), to: "Locales/\(locale).yaml")
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    private func write(_ data: Data, to path: String) throws {
        let full = dir + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: full))
    }

    func load() -> Project {
        Project.load(paths: [dir + "/Dialogs"], localesDirectory: dir + "/Locales")
    }

    /// The rendered English diagnostics, in the loader's order (by file, line, column).
    func lines() -> [String] {
        let project = load()
        return project.diagnostics.map { $0.rendered(project.catalog, locale: "en") }
    }

    /// `DIR/` in an expected line stands for this fixture's directory.
    func expand(_ line: String) -> String {
        line.replacingOccurrences(of: "DIR/", with: dir + "/")
    }
}

/// A root dialog `t` whose items start on line 5; `tail` (top-level keys such as `computed:`) follows them.
func dialog(_ items: String, tail: String = "") -> String {
    "format: 1\ndialog: t\nversion: \"1\"\nitems:\n" + items + "\n" + (tail.isEmpty ? "" : tail + "\n")
}

// MARK: - One dialog file, one problem

struct LintCase: Sendable, CustomTestStringConvertible {
    let name: String
    let file: String
    let keys: [String]
    /// The keys of ja.yaml when they differ from `keys`.
    let jaKeys: [String]?
    /// Every diagnostic the fixture produces, in order; `DIR/` is the fixture's directory.
    let expected: [String]

    var testDescription: String { name }

    init(_ name: String, _ file: String, keys: [String] = [], jaKeys: [String]? = nil, _ expected: [String]) {
        self.name = name
        self.file = file
        self.keys = keys
        self.jaKeys = jaKeys
        self.expected = expected
    }
}

private let structureCases: [LintCase] = [
    LintCase("unknown-key, did you mean", dialog("""
          - id: name
            kind: text
            requird: false
        """), keys: ["t.name"], [
        "DIR/Dialogs/main.yaml:7:5: error: unknown key 'requird' in question (did you mean 'required'?)",
    ]),
    LintCase("unknown-key, no likely correction", dialog("""
          - id: name
            kind: text
            colour: red
        """), keys: ["t.name"], [
        "DIR/Dialogs/main.yaml:7:5: error: unknown key 'colour' in question",
    ]),
    // Yams refuses a mapping with a repeated key and marks the key's first occurrence.
    LintCase("duplicate-key", dialog("""
          - id: name
            kind: text
            kind: yesno
        """), [
        "DIR/Dialogs/main.yaml:6:5: error: key 'kind' appears twice",
    ]),
    LintCase("duplicate-id points at the second and names the first", dialog("""
          - id: name
            kind: text
          - id: name
            kind: yesno
        """), keys: ["t.name"], [
        "DIR/Dialogs/main.yaml:7:9: error: id 'name' is already used at DIR/Dialogs/main.yaml:5:9",
    ]),
    LintCase("duplicate-id between a group and a question", dialog("""
          - id: n
            kind: integer
          - id: g
            kind: text
          - group: g
            count: n
            items:
              - id: k
                kind: text
        """), keys: ["t.n", "t.g", "t.k"], [
        "DIR/Dialogs/main.yaml:9:12: error: id 'g' is already used at DIR/Dialogs/main.yaml:7:9",
    ]),
    LintCase("duplicate-choice", dialog("""
          - id: pick
            kind: choice
            choices: [a, b, a]
        """), keys: ["t.pick", "t.pick.a", "t.pick.b"], [
        "DIR/Dialogs/main.yaml:7:21: error: choice value 'a' is repeated (first at DIR/Dialogs/main.yaml:7:15)",
    ]),
    LintCase("unknown-kind, did you mean", dialog("""
          - id: name
            kind: txt
        """), keys: ["t.name"], [
        "DIR/Dialogs/main.yaml:6:11: error: unknown kind 'txt' (did you mean 'text'?)",
    ]),
    LintCase("key-not-for-kind", dialog("""
          - id: name
            kind: text
            min: 3
          - id: n
            kind: integer
            max_length: 3
        """), keys: ["t.name", "t.n"], [
        "DIR/Dialogs/main.yaml:7:10: error: 'min' does not apply to a 'text' question",
        "DIR/Dialogs/main.yaml:10:17: error: 'max_length' does not apply to a 'integer' question",
    ]),
    LintCase("unknown-format, and format on a question that is not text", dialog("""
          - id: phone
            kind: text
            format: phon
          - id: n
            kind: integer
            format: email
        """), keys: ["t.phone", "t.n"], [
        "DIR/Dialogs/main.yaml:7:13: error: unknown text format 'phon' (phone or email) (did you mean 'phone'?)",
        "DIR/Dialogs/main.yaml:10:13: error: 'format' does not apply to a 'integer' question",
    ]),
    LintCase("open_ended on a required month, and on a question that is not a month", dialog("""
          - id: until
            kind: month
            open_ended: true
          - id: n
            kind: integer
            open_ended: true
        """), keys: ["t.until", "t.n"], [
        "DIR/Dialogs/main.yaml:7:17: error: an open_ended question must be optional (required: false): typing 現在 leaves it open",
        "DIR/Dialogs/main.yaml:10:17: error: 'open_ended' does not apply to a 'integer' question",
    ]),
    LintCase("min-above-max", dialog("""
          - id: n
            kind: integer
            min: 10
            max: 5
          - id: d
            kind: date
            min: 2024-05-01
            max: 2024-04-01
          - group: g
            count: n
            min: 3
            max: 2
            items:
              - id: k
                kind: text
        """), keys: ["t.n", "t.d", "t.g", "t.k"], [
        "DIR/Dialogs/main.yaml:7:10: error: minimum 10 is above maximum 5",
        "DIR/Dialogs/main.yaml:11:10: error: minimum 2024-05-01 is above maximum 2024-04-01",
        "DIR/Dialogs/main.yaml:15:10: error: minimum 3 is above maximum 2",
    ]),
    LintCase("missing-key", dialog("""
          - id: name
            text: t.name
          - id: pick
            kind: choice
          - id: n
            kind: integer
            checks:
              - message: t.n.check
        """, tail: """
        computed:
          - id: c
        """), keys: ["t.name", "t.pick", "t.n", "t.n.check"], [
        "DIR/Dialogs/main.yaml:5:5: error: 'kind' is missing",
        "DIR/Dialogs/main.yaml:7:5: error: 'choices' is missing",
        "DIR/Dialogs/main.yaml:12:9: error: 'expect' is missing",
        "DIR/Dialogs/main.yaml:14:5: error: 'expr' is missing",
    ]),
    LintCase("missing-format", """
        dialog: t
        version: "1"
        items: []
        """, [
        "DIR/Dialogs/main.yaml:1:1: error: add 'format: 1' at the top",
    ]),
    LintCase("format-too-new", """
        format: 2
        dialog: t
        version: "1"
        items: []
        """, [
        "DIR/Dialogs/main.yaml:1:9: error: format 2 is newer than this intake reads (up to 1)",
    ]),
    LintCase("bad-id", dialog("""
          - id: Name
            kind: text
          - id: 2nd
            kind: text
        """), keys: ["t.Name", "t.2nd"], [
        "DIR/Dialogs/main.yaml:5:9: error: id 'Name' must start with a lower-case letter and use only a-z, 0-9 and _",
        "DIR/Dialogs/main.yaml:7:9: error: id '2nd' must start with a lower-case letter and use only a-z, 0-9 and _",
    ]),
    LintCase("reserved-id", dialog("""
          - id: today
            kind: date
          - group: value
            add_another: true
            items:
              - id: k
                kind: text
        """), keys: ["t.today", "t.value", "t.value.more", "t.k"], [
        "DIR/Dialogs/main.yaml:5:9: error: id 'today' has a meaning in expressions and cannot be used",
        "DIR/Dialogs/main.yaml:7:12: error: id 'value' has a meaning in expressions and cannot be used",
    ]),
    LintCase("group-needs-count", dialog("""
          - group: kids
            items:
              - id: k
                kind: text
        """), keys: ["t.kids"], [
        "DIR/Dialogs/main.yaml:5:5: error: group 'kids' needs 'count' or 'add_another'",
    ]),
    LintCase("missing-translation in one locale only", dialog("""
          - id: name
            kind: choice
            choices: [a, b]
        """), keys: ["t.name", "t.name.a", "t.name.b"], jaKeys: ["t.name", "t.name.a"], [
        "DIR/Dialogs/main.yaml:7:18: error: missing translation of 't.name.b' in locale 'ja'",
    ]),
    LintCase("unreachable after an unconditional end", dialog("""
          - id: a
            kind: yesno
          - end: stop
            when: a
          - end: always
          - id: b
            kind: text
          - id: c
            kind: text
        """), keys: ["t.a", "t.stop", "t.always", "t.b", "t.c"], [
        "DIR/Dialogs/main.yaml:10:5: warning: this item is never reached: the dialog always ends at DIR/Dialogs/main.yaml:9:10",
        "DIR/Dialogs/main.yaml:12:5: warning: this item is never reached: the dialog always ends at DIR/Dialogs/main.yaml:9:10",
    ]),
    LintCase("never-asked", dialog("""
          - id: a
            kind: text
            when: false
        """), keys: ["t.a"], [
        "DIR/Dialogs/main.yaml:7:11: warning: the condition of 'a' is always false, so it is never asked",
    ]),
    LintCase("forward-ref", dialog("""
          - id: a
            kind: text
            when: b
          - id: b
            kind: yesno
        """), keys: ["t.a", "t.b"], [
        "DIR/Dialogs/main.yaml:7:11: error: the condition of 'a' refers to 'b', which is asked later",
    ]),
    LintCase("forward-ref-computed", dialog("""
          - id: a
            kind: text
            when: "c > 2"
          - id: b
            kind: integer
        """, tail: """
        computed:
          - id: c
            expr: b + 1
        """), keys: ["t.a", "t.b"], [
        "DIR/Dialogs/main.yaml:7:12: error: the condition of 'a' refers through 'c' to 'b', which is asked later",
    ]),
    LintCase("check-reads-later", dialog("""
          - id: a
            kind: integer
            checks:
              - expect: value < b
                message: t.a.check
          - id: b
            kind: integer
        """), keys: ["t.a", "t.a.check", "t.b"], [
        "DIR/Dialogs/main.yaml:8:25: warning: a check on 'a' reads 'b', which is asked later, so it never decides",
    ]),
]

/// Values of the wrong shape and the rarer structural checks.
private let shapeCases: [LintCase] = [
    LintCase("expected-mapping", dialog("  - just text"), [
        "DIR/Dialogs/main.yaml:5:5: error: item must be a mapping of keys to values",
    ]),
    LintCase("expected-string-key", dialog("""
          - id: q
            kind: text
            ? [a, b]
            : 1
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:7: error: keys must be strings",
    ]),
    LintCase("expected-string", dialog("""
          - id: q
            kind: [text]
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:6:11: error: 'kind' must be a string",
    ]),
    LintCase("expected-integer and expected-bool", dialog("""
          - id: q
            kind: text
            max_length: ten
            required: maybe
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:17: error: 'max_length' must be a whole number, not 'ten'",
        "DIR/Dialogs/main.yaml:8:15: error: 'required' must be true or false, not 'maybe'",
    ]),
    LintCase("expected-number", dialog("""
          - id: q
            kind: decimal
            min: lots
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:10: error: 'min' must be a number, not 'lots'",
    ]),
    LintCase("expected-date", dialog("""
          - id: q
            kind: date
            min: someday
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:10: error: 'min' must be a date, not 'someday'",
    ]),
    LintCase("expected-list", dialog("""
          - id: q
            kind: choice
            choices: a
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:14: error: 'choices' must be a list",
        "DIR/Dialogs/main.yaml:7:14: error: there are no choices",
    ]),
    LintCase("expected-setting", dialog("""
          - id: q
            kind: text
        """, tail: """
        settings:
          a: [1]
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:8:3: error: settings are written 'name: value'",
    ]),
    LintCase("missing-version", "format: 1\ndialog: t\nitems: []\n", [
        "DIR/Dialogs/main.yaml:1:1: warning: 'version' is missing (suspended sessions record which version they started under)",
    ]),
    LintCase("format-unknown", "format: 0\ndialog: t\nversion: \"1\"\nitems: []\n", [
        "DIR/Dialogs/main.yaml:1:9: error: format 0 is unknown",
    ]),
    LintCase("reserved-choice", dialog("""
          - id: q
            kind: choice
            choices: [help, b]
        """), keys: ["t.q", "t.q.help", "t.q.b"], [
        "DIR/Dialogs/main.yaml:7:15: error: choice value 'help' is reserved",
    ]),
    LintCase("no-choices", dialog("""
          - id: q
            kind: choice
            choices: []
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:14: error: there are no choices",
    ]),
    LintCase("unknown-audience, did you mean", dialog("""
          - id: q
            kind: text
            audience: counsellor
        """), keys: ["t.q"], [
        "DIR/Dialogs/main.yaml:7:15: error: unknown audience 'counsellor' (did you mean 'counselor'?)",
    ]),
    LintCase("unknown-item", dialog("  - {title: x}"), [
        "DIR/Dialogs/main.yaml:5:5: error: cannot tell what this item is (it needs one of id, group, section, end, include)",
    ]),
    LintCase("negative", dialog("""
          - group: g
            count: 2
            min: -1
            items:
              - id: k
                kind: text
        """), keys: ["t.g", "t.k"], [
        "DIR/Dialogs/main.yaml:7:10: error: 'min' must be 0 or more",
    ]),
    LintCase("picks-above-choices", dialog("""
          - id: q
            kind: multi
            choices: [a, b]
            max_picks: 3
        """), keys: ["t.q", "t.q.a", "t.q.b"], [
        "DIR/Dialogs/main.yaml:8:16: warning: max_picks 3 is more than the 2 choices",
    ]),
    LintCase("group-count-and-add", dialog("""
          - group: g
            count: 2
            add_another: true
            items:
              - id: k
                kind: text
        """), keys: ["t.g", "t.k"], [
        "DIR/Dialogs/main.yaml:5:5: error: group 'g' has both 'count' and 'add_another'; keep one",
    ]),
    LintCase("group-never-asked", dialog("""
          - group: g
            count: 2
            max: 0
            items:
              - id: k
                kind: text
        """), keys: ["t.g", "t.k"], [
        "DIR/Dialogs/main.yaml:7:10: warning: group 'g' has max below 1 and is never asked",
    ]),
    LintCase("empty-group", dialog("""
          - group: g
            add_another: true
            items: []
        """), keys: ["t.g", "t.g.more"], [
        "DIR/Dialogs/main.yaml:5:5: error: group 'g' has no questions",
    ]),
]

@Test(arguments: structureCases + shapeCases)
func lintDiagnostic(_ c: LintCase) throws {
    let fixture = try Fixture(["Dialogs/main.yaml": c.file], keys: c.keys, jaKeys: c.jaKeys)
    #expect(fixture.lines() == c.expected.map(fixture.expand))
}

// MARK: - Expressions: the column is the offending token's inside the scalar

/// Questions every expression case can refer to (lines 5–20); the case's own question follows on line 21.
private let exprPrelude = """
      - id: name
        kind: text
      - id: age
        kind: integer
      - id: reason
        kind: choice
        choices: [divorce, other]
      - id: n
        kind: integer
      - group: kids
        count: n
        items:
          - id: kid_age
            kind: integer
      - id: married
        kind: yesno
    """
private let exprKeys = ["t.name", "t.age", "t.reason", "t.reason.divorce", "t.reason.other", "t.n", "t.kids", "t.kid_age",
                        "t.married", "t.q", "t.q.check", "t.q2", "t.k", "t.stop", "suggest.s"]

/// `items` are written after the prelude, so the first line of `items` is line 21.
private func exprDialog(_ items: String, tail: String = "") -> String {
    dialog(exprPrelude + "\n" + items, tail: tail)
}

private let expressionCases: [LintCase] = [
    LintCase("expr-unknown-name, did you mean", exprDialog("""
          - id: q
            kind: yesno
            when: agee > 3
        """), [
        "DIR/Dialogs/main.yaml:23:11: error: unknown question 'agee' (did you mean 'age'?)",
    ]),
    LintCase("expr-unknown-name inside a call", exprDialog("""
          - id: q
            kind: yesno
            when: age(birthday) > 3
        """), [
        "DIR/Dialogs/main.yaml:23:15: error: unknown question 'birthday'",
    ]),
    LintCase("expr-unknown-choice, did you mean", exprDialog("""
          - id: q
            kind: yesno
            when: reason == 'divorse'
        """), [
        "DIR/Dialogs/main.yaml:23:21: error: 'reason' has no choice 'divorse' (did you mean 'divorce'?)",
    ]),
    LintCase("expr-unknown-choice in a list", exprDialog("""
          - id: q
            kind: yesno
            when: reason in ['other', 'divorse']
        """), [
        "DIR/Dialogs/main.yaml:23:31: error: 'reason' has no choice 'divorse' (did you mean 'divorce'?)",
    ]),
    LintCase("expr-mismatch: integer == text, double-quoted scalar", exprDialog("""
          - id: q
            kind: yesno
            when: "age == 'x'"
        """), [
        "DIR/Dialogs/main.yaml:23:16: error: cannot compare integer with text",
    ]),
    LintCase("expr-mismatch: text + integer", exprDialog("""
          - id: q
            kind: yesno
            when: name + 1 > 2
        """), [
        "DIR/Dialogs/main.yaml:23:16: error: cannot compare text with integer",
    ]),
    LintCase("expr-type: a condition that is not yes/no", exprDialog("""
          - id: q
            kind: yesno
            when: age
          - id: q2
            kind: yesno
            when: married and not name
        """), [
        "DIR/Dialogs/main.yaml:23:11: error: expected yes/no but this is integer",
        "DIR/Dialogs/main.yaml:26:27: error: expected yes/no but this is text",
    ]),
    LintCase("expr-type: group count must be a number", exprDialog("""
          - group: q
            count: name
            items:
              - id: k
                kind: text
        """), [
        "DIR/Dialogs/main.yaml:22:12: error: expected integer but this is text",
    ]),
    LintCase("expr-out-of-scope", exprDialog("""
          - id: q
            kind: yesno
            when: kid_age > 3
        """), [
        "DIR/Dialogs/main.yaml:23:11: error: 'kid_age' is inside the repeat group 'kids'; use count/any/all/min/max/sum(kids, …)",
    ]),
    LintCase("expr-unknown-function", exprDialog("""
          - id: q
            kind: yesno
            when: foo(age)
          - id: q2
            kind: yesno
            when: cout(kids) > 1
        """), [
        "DIR/Dialogs/main.yaml:23:11: error: unknown function 'foo'",
        "DIR/Dialogs/main.yaml:26:11: error: unknown function 'cout' (did you mean 'count'?)",
    ]),
    LintCase("expr-arity", exprDialog("""
          - id: q
            kind: yesno
            when: any(kids)
          - id: q2
            kind: yesno
            when: married and count() > 1
        """), [
        "DIR/Dialogs/main.yaml:23:11: error: any() takes 2 arguments, not 1",
        "DIR/Dialogs/main.yaml:26:23: error: count() takes 1–2 arguments, not 0",
    ]),
    LintCase("expr-single-equals, plain and single-quoted scalar", exprDialog("""
          - id: q
            kind: yesno
            when: age = 3
          - id: q2
            kind: yesno
            when: 'age = 3'
        """), [
        "DIR/Dialogs/main.yaml:23:15: error: use '==' to compare",
        "DIR/Dialogs/main.yaml:26:16: error: use '==' to compare",
    ]),
    LintCase("expr-unterminated-string", exprDialog("""
          - id: q
            kind: yesno
            when: "name == 'abc"
        """), [
        "DIR/Dialogs/main.yaml:23:20: error: the string's closing quote is missing",
    ]),
    LintCase("expr-value-outside-check", exprDialog("""
          - id: q
            kind: yesno
            when: value > 3
        """), [
        "DIR/Dialogs/main.yaml:23:11: error: 'value' can only be used in a check (expect)",
    ]),
    LintCase("expr-computed-cycle", exprDialog("""
          - id: q
            kind: yesno
        """, tail: """
        computed:
          - id: c
            expr: c + 1
        """), [
        "DIR/Dialogs/main.yaml:25:11: error: computed value 'c' refers to itself",
    ]),
    LintCase("errors in a check point into the expect scalar", exprDialog("""
          - id: q
            kind: integer
            checks:
              - expect: value >= agee
                message: t.q.check
        """), [
        "DIR/Dialogs/main.yaml:24:26: error: unknown question 'agee' (did you mean 'age'?)",
    ]),
    LintCase("errors in a suggestion point into its when", exprDialog("""
          - id: q
            kind: yesno
        """, tail: """
        suggestions:
          - id: s
            when: q and reason == 'divorse'
        """), [
        "DIR/Dialogs/main.yaml:25:27: error: 'reason' has no choice 'divorse' (did you mean 'divorce'?)",
    ]),
    LintCase("errors in private_when point into it", exprDialog("""
          - id: q
            kind: yesno
        """, tail: """
        private_when: not qq
        """), [
        "DIR/Dialogs/main.yaml:23:19: error: unknown question 'qq' (did you mean 'q'?)",
    ]),
    LintCase("private_when must be a condition", exprDialog("""
          - id: q
            kind: yesno
        """, tail: """
        private_when: age + 1
        """), [
        "DIR/Dialogs/main.yaml:23:19: error: expected yes/no but this is integer",
    ]),
    LintCase("columns count characters, not bytes", exprDialog("""
          - id: q
            kind: yesno
            when: name == 'ケース' or agee > 1
        """), [
        "DIR/Dialogs/main.yaml:23:28: error: unknown question 'agee' (did you mean 'age'?)",
    ]),
    LintCase("expr-unknown-setting, did you mean", exprDialog("""
          - id: q
            kind: yesno
            when: age > settings.limt
        """, tail: """
        settings:
          limit: 5
        """), [
        "DIR/Dialogs/main.yaml:23:17: error: unknown setting 'limt' (did you mean 'limit'?)",
    ]),
    LintCase("expr-chained-comparison", exprDialog("""
          - id: q
            kind: yesno
            when: 1 < age < 5
        """), [
        "DIR/Dialogs/main.yaml:23:19: error: comparisons cannot be chained; join them with 'and'",
    ]),
    LintCase("expr-bad-character", exprDialog("""
          - id: q
            kind: yesno
            when: age > 3 @ 4
        """), [
        "DIR/Dialogs/main.yaml:23:19: error: '@' cannot appear in an expression",
    ]),
    LintCase("expr-expected", exprDialog("""
          - id: q
            kind: yesno
            when: any(kids, kid_age > 3
        """), [
        "DIR/Dialogs/main.yaml:23:32: error: expected ) but found 'end of expression'",
    ]),
    LintCase("expr-bad-number", exprDialog("""
          - id: q
            kind: yesno
            when: age > 1.2.3
        """), [
        "DIR/Dialogs/main.yaml:23:17: error: cannot read the number '1.2.3'",
    ]),
    LintCase("expr-list-literal", exprDialog("""
          - id: q
            kind: yesno
            when: age in [n, 2]
        """), [
        "DIR/Dialogs/main.yaml:23:19: error: a list may only hold literal values",
    ]),
    LintCase("expr-in-needs-list", exprDialog("""
          - id: q
            kind: yesno
            when: age in n
        """), [
        "DIR/Dialogs/main.yaml:23:18: error: the right side of 'in' must be a multi choice or a list, not integer",
    ]),
    LintCase("expr-needs-group", exprDialog("""
          - id: q
            kind: yesno
            when: count(age) > 1
        """), [
        "DIR/Dialogs/main.yaml:23:17: error: the first argument must name a repeat group",
    ]),
    LintCase("expr-needs-question", exprDialog("""
          - id: q
            kind: yesno
            when: answered(kids)
        """), [
        "DIR/Dialogs/main.yaml:23:20: error: answered() needs a question id",
    ]),
    LintCase("expr-not-a-value", exprDialog("""
          - end: stop
            when: married
          - id: q
            kind: yesno
            when: stop
        """), [
        "DIR/Dialogs/main.yaml:25:11: error: 'stop' has no value",
    ]),
    LintCase("expr-bad-date", exprDialog("""
          - id: q
            kind: yesno
            when: today > date('2024-13-01')
        """), [
        "DIR/Dialogs/main.yaml:23:24: error: date() takes a date written 'YYYY-MM-DD'",
    ]),
    LintCase("expr-unexpected", exprDialog("""
          - id: q
            kind: yesno
            when: age > 3 )
        """), [
        "DIR/Dialogs/main.yaml:23:19: error: unexpected ')' in expression",
    ]),
]

@Test(arguments: expressionCases)
func lintExpression(_ c: LintCase) throws {
    let fixture = try Fixture(["Dialogs/main.yaml": c.file], keys: exprKeys)
    #expect(fixture.lines() == c.expected.map(fixture.expand))
}

/// `matches(text, 'PATTERN')`: what cannot be matched in bounded time, or is not a pattern, is refused
/// at the character of the pattern where it goes wrong (the expression starts at column 17).
private func matchesCheck(_ expect: String, kind: String = "text") -> String {
    exprDialog("""
      - id: q
        kind: \(kind)
        checks:
          - expect: \(expect)
            message: t.q.check
    """)
}

private let regexCases: [LintCase] = [
    LintCase("regex-backreference", matchesCheck("matches(value, '(a)\\1')"), [
        "DIR/Dialogs/main.yaml:24:36: error: the back-reference '\\1' cannot be matched in bounded time; write the part out again instead",
    ]),
    LintCase("regex-lookaround", matchesCheck("matches(value, 'a(?=b)')"), [
        "DIR/Dialogs/main.yaml:24:34: error: the look-around '(?=' is not supported; write a second check instead",
    ]),
    LintCase("regex-unclosed-class", matchesCheck("matches(value, '[0-9')"), [
        "DIR/Dialogs/main.yaml:24:33: error: this '[' has no closing ']'",
    ]),
    LintCase("regex-too-large", matchesCheck("matches(value, '((a{100}){100})')"), [
        "DIR/Dialogs/main.yaml:24:33: error: the pattern grows past 1000 steps once its repeats are written out; shorten it or repeat less",
    ]),
    LintCase("expr-regex-literal", matchesCheck("matches(value, name)"), [
        "DIR/Dialogs/main.yaml:24:32: error: matches() takes its pattern as a quoted string, e.g. matches(value, '[0-9]{3}-[0-9]{4}'), so that it is checked and compiled when the dialog is loaded",
    ]),
    LintCase("matches() on an integer", matchesCheck("matches(value, '[0-9]+')", kind: "integer"), [
        "DIR/Dialogs/main.yaml:24:25: error: expected text but this is integer",
    ]),
    LintCase("matches() clean", matchesCheck("matches(value, '[\\p{Hiragana}\\p{Katakana}ー・\\s]+')"), []),
]

@Test(arguments: regexCases)
func lintMatches(_ c: LintCase) throws {
    let fixture = try Fixture(["Dialogs/main.yaml": c.file], keys: exprKeys)
    #expect(fixture.lines() == c.expected.map(fixture.expand))
}

@Test func aWellFormedExpressionDialogIsClean() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": exprDialog("""
          - id: q
            kind: integer
            when: any(kids, kid_age > 3) and reason in ['divorce'] and not married
            checks:
              - expect: value >= age - 10 and count(kids, kid_age < 3) >= 0
                message: t.q.check
        """, tail: """
        computed:
          - id: youngest
            expr: min(kids, kid_age)
        suggestions:
          - id: s
            when: youngest <= 6 or reason == 'other'
        """)], keys: exprKeys)
    #expect(fixture.lines() == [])
}

@Test func anExpressionContinuedOnTheNextLinePointsAtTheToken() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("""
          - id: a
            kind: integer
          - id: b
            kind: yesno
            when: a > 1 and
              agee > 2
          - id: c
            kind: yesno
            when: >-
              a > 1 and
              agee > 2
        """)], keys: ["t.a", "t.b", "t.c"])
    let lines = fixture.lines()
    #expect(lines == [
        "DIR/Dialogs/main.yaml:10:7: error: unknown question 'agee'",
        "DIR/Dialogs/main.yaml:15:7: error: unknown question 'agee'",
    ].map(fixture.expand))
}

// MARK: - Files, includes and modules

private let module = """
    format: 1
    section: m
    items:
      - id: a
        kind: text
    """

@Test func includeMissing() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("""
          - include: modules/m.yaml
          - include: modules/nope.yaml
        """), "Dialogs/modules/m.yaml": module], keys: ["m.title", "m.a"])
    #expect(fixture.lines() == [
        fixture.expand("DIR/Dialogs/main.yaml:6:14: error: included file 'modules/nope.yaml' was not found"),
    ])
}

@Test func includeCycleThroughTwoModules() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - include: modules/a.yaml"),
        "Dialogs/modules/a.yaml": "format: 1\nsection: a\nitems:\n  - include: b.yaml\n",
        "Dialogs/modules/b.yaml": "format: 1\nsection: b\nitems:\n  - include: a.yaml\n",
    ], keys: ["a.title", "b.title"])
    #expect(fixture.lines() == [
        fixture.expand("DIR/Dialogs/modules/b.yaml:4:14: error: includes form a cycle: main.yaml → a.yaml → b.yaml → a.yaml"),
    ])
}

@Test func includeCycleOfAModuleIncludingItself() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - include: modules/s.yaml"),
        "Dialogs/modules/s.yaml": "format: 1\nsection: s\nitems:\n  - id: a\n    kind: text\n  - include: ./s.yaml\n",
    ], keys: ["s.title", "s.a"])
    #expect(fixture.lines() == [
        fixture.expand("DIR/Dialogs/modules/s.yaml:6:14: error: includes form a cycle: main.yaml → s.yaml → s.yaml"),
    ])
}

@Test func moduleNotIncluded() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - include: modules/m.yaml"),
        "Dialogs/modules/m.yaml": module,
        "Dialogs/modules/orphan.yaml": "format: 1\nsection: orphan\nitems: []\n",
    ], keys: ["m.title", "m.a"])
    #expect(fixture.lines() == [
        fixture.expand("DIR/Dialogs/modules/orphan.yaml:1:1: warning: this module is not included by any dialog"),
    ])
}

@Test func moduleProblemsPointIntoTheModule() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("""
              - id: a
                kind: text
              - include: modules/m.yaml
            """),
        "Dialogs/modules/m.yaml": """
            section: m
            items:
              - id: b
                kind: yesno
                when: a == 'x' and c
              - id: a
                kind: text
              - id: c
                kind: yesno
            """,
    ], keys: ["t.a", "m.title", "m.b", "m.a", "m.c"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/modules/m.yaml:1:1: error: add 'format: 1' at the top",
        "DIR/Dialogs/modules/m.yaml:5:24: error: the condition of 'b' refers to 'c', which is asked later",
        "DIR/Dialogs/modules/m.yaml:6:9: error: id 'a' is already used at DIR/Dialogs/main.yaml:5:9",
    ].map(fixture.expand))
}

@Test func includingSomethingThatIsNotAModule() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("""
              - include: other.yaml
              - include: modules/notes.yaml
            """),
        "Dialogs/other.yaml": "format: 1\ndialog: u\nversion: \"1\"\nitems: []\n",
        "Dialogs/modules/notes.yaml": "notes: nothing to see\n",
    ], keys: ["u.title"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/main.yaml:5:14: error: 'other.yaml' is not a module (it needs 'section:' at the top)",
        "DIR/Dialogs/main.yaml:6:14: error: 'modules/notes.yaml' is not a module (it needs 'section:' at the top)",
        "DIR/Dialogs/modules/notes.yaml:1:1: error: not a dialog (dialog:), module (section:), sheet (sheet:), settings (settings:) or conversation file (conversations:)",
    ].map(fixture.expand))
}

@Test func aBrokenModuleIsReportedOnceNotAsNotAModule() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("""
              - include: modules/m.yaml
              - include: modules/binary.yaml
            """),
        "Dialogs/modules/m.yaml": "format: 1\nsection: m\nitems:\n  - id: a\n    kind: text\n    kind: yesno\n",
    ], bytes: ["Dialogs/modules/binary.yaml": Data([0x73, 0x65, 0xff, 0xfe, 0x3a])])
    #expect(fixture.lines() == [
        "DIR/Dialogs/modules/binary.yaml:1:1: error: this file is not UTF-8",
        "DIR/Dialogs/modules/m.yaml:5:5: error: key 'kind' appears twice",
    ].map(fixture.expand))
}

@Test func duplicateDialog() throws {
    let fixture = try Fixture([
        "Dialogs/a.yaml": dialog("  - id: q\n    kind: text"),
        "Dialogs/b.yaml": dialog("  - id: q\n    kind: text"),
    ], keys: ["t.q"])
    #expect(fixture.lines() == [
        fixture.expand("DIR/Dialogs/b.yaml:1:1: error: dialog 't' is already defined in DIR/Dialogs/a.yaml"),
    ])
}

@Test func unreadableFile() throws {
    let fixture = try Fixture([:])
    let missing = fixture.dir + "/Dialogs/missing.yaml"
    let project = Project.load(paths: [missing], localesDirectory: fixture.dir + "/Locales")
    #expect(project.diagnostics.map { $0.rendered(project.catalog, locale: "en") } == [
        "\(missing):1:1: error: there is no file or folder '\(missing)': name the folder of dialogs with --dialogs or the environment variable INTAKE_DIALOGS",
    ])
}

@Test func noLocalesStillRendersSomethingPrecise() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: q\n    kind: text")])
    let folder = fixture.dir + "/Nothing"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let project = Project.load(paths: [fixture.dir + "/Dialogs"], localesDirectory: folder)
    // With no wording loaded, intake's own words about it are built in: a sentence, alone (no
    // missing translation of every text follows it), in English and Japanese.
    #expect(project.diagnostics.map { $0.rendered(project.catalog, locale: "en") } == [
        "\(folder):1:1: error: no .yaml files in the locales folder '\(folder)': name the folder with --locales or the environment variable INTAKE_LOCALES",
    ])
    #expect(project.diagnostics.map { $0.rendered(project.catalog, locale: "ja") } == [
        "\(folder):1:1: エラー: ロケールのフォルダ '\(folder)' に .yaml がありません。--locales か環境変数 INTAKE_LOCALES でフォルダを指定してください",
    ])
}

@Test func unknownFileKind() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - id: a\n    kind: text"),
        "Dialogs/notes.yaml": "hello: world\n",
        "Dialogs/list.yaml": "- a\n- b\n",
        "Dialogs/word.yml": "just a sentence\n",
        "Dialogs/tests/chat.yaml": "conversations: []\n",
    ], keys: ["t.a"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/list.yaml:1:1: error: not a dialog (dialog:), module (section:), sheet (sheet:), settings (settings:) or conversation file (conversations:)",
        "DIR/Dialogs/notes.yaml:1:1: error: not a dialog (dialog:), module (section:), sheet (sheet:), settings (settings:) or conversation file (conversations:)",
        "DIR/Dialogs/word.yml:1:1: error: not a dialog (dialog:), module (section:), sheet (sheet:), settings (settings:) or conversation file (conversations:)",
    ].map(fixture.expand))
    #expect(fixture.load().conversationFiles == [fixture.dir + "/Dialogs/tests/chat.yaml"])
}

@Test func yamlSyntaxPointsAtTheProblem() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": "format: 1\ndialog: t\nversion: \"1\"\ntitle: a: b\nitems: []\n",
        "Dialogs/flow.yaml": "format: 1\nsection: f\nitems: [\n  {id: a, kind: text\n",
        "Dialogs/tab.yaml": "format: 1\nsection: g\nitems:\n\t- id: a\n",
    ])
    #expect(fixture.lines() == [
        // Where the brace opened (YAML notices only at the end of the file).
        "DIR/Dialogs/flow.yaml:4:3: error: the bracket that starts here is not closed (YAML: did not find expected ',' or '}')",
        "DIR/Dialogs/main.yaml:4:9: error: a ': ' inside a value: put the whole value in quotes \"…\" (YAML: mapping values are not allowed in this context)",
        "DIR/Dialogs/tab.yaml:4:1: error: a tab in the indentation: YAML indents with spaces (YAML: found character that cannot start any token)",
    ].map(fixture.expand))
}

@Test func notUTF8() throws {
    let fixture = try Fixture([:], bytes: [
        "Dialogs/bom16.yaml": Data([0xff, 0xfe, 0x66, 0x00, 0x6f, 0x00]),
        "Dialogs/latin1.yaml": Data("section: caf".utf8) + Data([0xe9, 0x0a]),
    ])
    #expect(fixture.lines() == [
        "DIR/Dialogs/bom16.yaml:1:1: error: this file is not UTF-8",
        "DIR/Dialogs/latin1.yaml:1:1: error: this file is not UTF-8",
    ].map(fixture.expand))
}

@Test func emptyFile() throws {
    let fixture = try Fixture([
        "Dialogs/empty.yaml": "",
        "Dialogs/comments.yaml": "# nothing here yet\n\n",
    ])
    #expect(fixture.lines() == [
        "DIR/Dialogs/comments.yaml:1:1: error: this file is empty",
        "DIR/Dialogs/empty.yaml:1:1: error: this file is empty",
    ].map(fixture.expand))
}

@Test func missingTranslationOfEngineStringsAndDialogKeys() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    try "engine:\n  \"yes\": oui\nt.title: Titre\n".write(toFile: fixture.dir + "/Locales/fr.yaml", atomically: true, encoding: .utf8)
    let lines = fixture.lines()
    let fr = fixture.dir + "/Locales/fr.yaml"
    #expect(lines.contains("\(fr):1:1: error: missing translation of 'engine.no' in locale 'fr'"))
    #expect(!lines.contains("\(fr):1:1: error: missing translation of 'engine.yes' in locale 'fr'"))
    #expect(lines.filter { $0.hasPrefix(fr) }.count == EngineStrings.keys.count - 1)
    #expect(lines.contains(fixture.expand("DIR/Dialogs/main.yaml:5:9: error: missing translation of 't.a' in locale 'fr'")))
    #expect(!lines.contains { $0.contains("'t.title' in locale 'fr'") })
}

@Test func duplicateKeyInALocale() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    let en = fixture.dir + "/Locales/en.yaml"
    let text = try String(contentsOfFile: en, encoding: .utf8)
    try (text + "t:\n  a: again\n").write(toFile: en, atomically: true, encoding: .utf8)
    // `text` ends with a newline, so its split has one empty piece at the end: `t:` is on line `count`.
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).count + 1
    #expect(fixture.lines() == ["\(en):\(line):3: error: key 't.a' appears twice"])
}

// MARK: - The repository's own dialogs

@Test func theSampleDialogsLintClean() {
    let project = Project.load(paths: [packageRoot + "/Dialogs"], localesDirectory: packageRoot + "/Locales")
    #expect(project.diagnostics.map { $0.rendered(project.catalog, locale: "en") } == [])
    #expect(project.dialogs["intake"] != nil)
}

// MARK: - Malformed input never crashes

/// A reproducible byte stream (64-bit LCG), so a failure can be replayed.
private struct Garbage {
    var state: UInt64
    mutating func byte() -> UInt8 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
    mutating func bytes(_ n: Int) -> Data { Data((0..<n).map { _ in byte() }) }
    /// Text made of the characters that matter to YAML and to expressions.
    mutating func text(_ n: Int) -> String {
        let alphabet = Array("-?:,[]{}#&*!|>'\"%@` \n\n  \tabc:1.=()")
        return String((0..<n).map { _ in alphabet[Int(byte()) % alphabet.count] })
    }
}

@Test func garbageNeverCrashes() throws {
    var g = Garbage(state: 0x1A7A_4E)
    var bytes: [String: Data] = [:]
    for i in 0..<8 { bytes["Dialogs/bytes\(i).yaml"] = g.bytes(1 + Int(g.byte()) * 16) }
    for i in 0..<24 { bytes["Dialogs/text\(i).yaml"] = Data(g.text(1 + Int(g.byte()) * 4).utf8) }
    let fixture = try Fixture([:], bytes: bytes)
    let project = fixture.load()
    for name in bytes.keys {
        let file = fixture.dir + "/" + name
        // A file that reads as YAML has its errors said once the others read too: alone, then.
        let alone = project.diagnostics.contains { $0.source.file == file } ? project
            : Project.load(paths: [file], localesDirectory: fixture.dir + "/Locales")
        #expect(alone.diagnostics.contains { $0.source.file == file && $0.severity == .error }, "no error for \(name)")
    }
}

@Test func aOneMegabyteLineIsADiagnostic() throws {
    let megabyte = 1 << 20
    let terms = megabyte / 6
    let fixture = try Fixture([
        "Dialogs/line.yaml": String(repeating: "x", count: megabyte) + "\n",
        // `a and a and …`: a chain the parser would turn into a tree 170,000 levels deep.
        "Dialogs/main.yaml": dialog("""
              - id: a
                kind: yesno
              - id: b
                kind: yesno
                when: \(Array(repeating: "a", count: terms).joined(separator: " and "))
            """),
    ], keys: ["t.a", "t.b"])
    // The 101st operator is the first one too many: "a and " is 6 characters, the first `and` at offset 2.
    #expect(fixture.lines() == [
        "DIR/Dialogs/line.yaml:1:1: error: not a dialog (dialog:), module (section:), sheet (sheet:), settings (settings:) or conversation file (conversations:)",
        "DIR/Dialogs/main.yaml:9:\(11 + 2 + 6 * 100): error: the expression has more than 100 operators; split it into computed values",
    ].map(fixture.expand))
}

@Test func aLongButReasonableExpressionIsFine() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("""
          - id: a
            kind: integer
          - id: b
            kind: yesno
            when: \((1...50).map { "a == \($0)" }.joined(separator: " or "))
        """)], keys: ["t.a", "t.b"])
    #expect(fixture.lines() == [])
}

@Test func deeplyNestedYAMLIsADiagnostic() throws {
    let fixture = try Fixture([
        "Dialogs/flow.yaml": String(repeating: "[", count: 10_000) + "\n",
        "Dialogs/closed.yaml": String(repeating: "{a: ", count: 10_000) + String(repeating: "}", count: 10_000) + "\n",
    ])
    let project = fixture.load()
    for name in ["flow.yaml", "closed.yaml"] {
        let found = project.diagnostics.filter { $0.source.file == fixture.dir + "/Dialogs/" + name }
        #expect(found.map(\.code) == ["yaml-syntax"], "\(name)")
        #expect(found.first?.source.line == 1)
    }
}

@Test func anExpressionNestedAThousandDeepIsADiagnostic() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("""
          - id: a
            kind: yesno
          - id: b
            kind: yesno
            when: \(String(repeating: "(", count: 1000))a\(String(repeating: ")", count: 1000))
          - id: c
            kind: yesno
            when: \(String(repeating: "not ", count: 1000))a
        """)], keys: ["t.a", "t.b", "t.c"])
    // The parser allows 64 levels; the first token inside the 65th is reported. A thousand `not`s are
    // more than 100 operators: the 101st is reported before any tree is built.
    #expect(fixture.lines() == [
        "DIR/Dialogs/main.yaml:9:76: error: the expression is nested too deeply",
        "DIR/Dialogs/main.yaml:12:\(11 + 4 * 100): error: the expression has more than 100 operators; split it into computed values",
    ].map(fixture.expand))
}

// MARK: - each: groups, office settings, locale folders

@Test func eachMustNameAnEarlierGroupAtTheSameDepth() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("""
          - id: n
            kind: integer
          - group: kids
            count: n
            items:
              - id: age
                kind: integer
              - group: inner
                each: kidz
                items:
                  - id: x
                    kind: text
          - group: care
            each: inner
            items:
              - id: where
                kind: text
                when: age <= 5
        """)], keys: ["t.n", "t.kids", "t.age", "t.inner", "t.x", "t.care", "t.where"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/main.yaml:13:15: error: 'each' must name a repeat group; 'kidz' is not one (did you mean 'kids'?)",
        "DIR/Dialogs/main.yaml:18:11: error: group 'care' follows 'inner', which sits inside other repeat groups; they must stand at the same depth",
        "DIR/Dialogs/main.yaml:22:15: error: 'age' is inside the repeat group 'kids'; use count/any/all/min/max/sum(kids, …)",
    ].map(fixture.expand))
}

@Test func anOfficeSettingsFileOverridesTheDialogsSettings() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("""
              - id: a
                kind: integer
                when: settings.limit > 3
            """, tail: "settings:\n  limit: 5\n  resource: 市の窓口"),
        "Dialogs/office.yaml": "settings:\n  limit: 7\n  resource: 川越市トワイライトステイ\n",
    ], keys: ["t.a"])
    let project = fixture.load()
    #expect(project.diagnostics.isEmpty)
    #expect(project.dialogs["t"]?.settings["limit"] == .int(7))
    #expect(project.dialogs["t"]?.settings["resource"] == .text("川越市トワイライトステイ"))
}

@Test func anOfficeTextSettingMayBeWrittenPerLanguage() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - id: a\n    kind: integer", tail: "settings:\n  resource: 市の窓口"),
        "Dialogs/office.yaml": "settings:\n  resource:\n    ja: 川越市の窓口\n    en: Kawagoe city desk\n",
    ], keys: ["t.a"])
    let project = fixture.load()
    #expect(project.diagnostics.isEmpty)
    #expect(project.dialogs["t"]?.settings["resource"] == .text("川越市の窓口"))
    #expect(project.dialogs["t"]?.settingTexts["resource"] == ["ja": "川越市の窓口", "en": "Kawagoe city desk"])
}

@Test func aTextSettingPerLanguageNeedsKnownLanguagesAndTheFallbacks() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - id: a\n    kind: integer", tail: "settings:\n  resource:\n    ja: 市の窓口\n  limit: 5"),
        "Dialogs/office.yaml": "settings:\n  resource:\n    ja: 窓口\n    fr: guichet\n  other:\n    en: desk\n  limit:\n    ja: 五\n    en: five\n  time_zone:\n    ja: Asia/Tokyo\n",
    ], keys: ["t.a"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/main.yaml:9:5: warning: setting 'resource' has no 'en' text; screens in that language show the 'ja' one",
        "DIR/Dialogs/office.yaml:3:5: warning: setting 'resource' has no 'en' text; screens in that language show the 'ja' one",
        "DIR/Dialogs/office.yaml:4:5: error: setting 'resource': language 'fr' is not in Locales (there are en, ja)",
        "DIR/Dialogs/office.yaml:6:5: error: unknown setting 'other'",
        "DIR/Dialogs/office.yaml:8:5: error: setting 'limit' must keep the type the dialog gives it; '五' does not fit",
        "DIR/Dialogs/office.yaml:11:5: error: setting 'time_zone' must keep the type the dialog gives it; '{…}' does not fit",
    ].map(fixture.expand))
    // A setting without the fallback's text.
    let missing = try Fixture([
        "Dialogs/main.yaml": dialog("  - id: a\n    kind: integer", tail: "settings:\n  resource:\n    en: desk"),
    ], keys: ["t.a"])
    #expect(missing.lines() == [
        "DIR/Dialogs/main.yaml:9:5: error: setting 'resource' written per language needs a 'ja' text too (shown where another language has none)",
    ].map(missing.expand))
}

@Test func anOfficeSettingMustExistAndKeepItsType() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - id: a\n    kind: integer", tail: "settings:\n  limit: 5"),
        "Dialogs/office.yaml": "settings:\n  limt: 7\n  limit: seven\n",
    ], keys: ["t.a"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/office.yaml:2:3: error: unknown setting 'limt' (did you mean 'limit'?)",
        "DIR/Dialogs/office.yaml:3:10: error: setting 'limit' must keep the type the dialog gives it; 'seven' does not fit",
    ].map(fixture.expand))
}

@Test func stringsMayLiveInALocaleFolderBesideTheBaseFile() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: [])
    for locale in ["en", "ja"] {
        let dir = fixture.dir + "/Locales/\(locale)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "t:\n  a: \"A \(locale)\"\n".write(toFile: dir + "/t.yaml", atomically: true, encoding: .utf8)
    }
    let project = fixture.load()
    #expect(project.diagnostics.isEmpty)
    #expect(project.catalog.text("t.a", "en") == "A en")
    #expect(project.catalog.text("t.a", "ja") == "A ja")
}

@Test func aKeyDefinedInTwoFilesOfOneLocaleIsAnError() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    let dir = fixture.dir + "/Locales/en"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "t:\n  a: again\n".write(toFile: dir + "/t.yaml", atomically: true, encoding: .utf8)
    #expect(fixture.lines() == [fixture.expand("DIR/Locales/en/t.yaml:1:1: error: key 't.a' appears twice")])
}

// MARK: - Furigana markup (issue 14)

/// A fixture with the furigana wording (Locales/en/furigana.yaml) and `files` under Locales/ (a
/// ja-easy folder without the engine's strings: its missing translations are not these tests' concern).
private func furiganaFixture(_ files: [String: String]) throws -> Fixture {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    var all = files
    all["en/furigana.yaml"] = try String(contentsOfFile: packageRoot + "/Locales/en/furigana.yaml", encoding: .utf8)
    for (path, text) in all {
        let full = fixture.dir + "/Locales/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    return fixture
}

@Test func malformedFuriganaIsAnErrorAtItsLineAndColumn() throws {
    let fixture = try furiganaFixture(["ja-easy/t.yaml": """
        t:
          a: "{仕事|しごと}の {名前|なまえ}：{name}"
          open: "ばんごう {仕事|しごと"
          empty: "{|しごと}です"
          romaji: "{仕事|shigoto}"
          kana_base: しごとの {しごと|しごと}
          with_kana: "{お金|おかね}"

        """])
    let file = fixture.dir + "/Locales/ja-easy/t.yaml"
    #expect(fixture.lines().filter { $0.hasPrefix(file) && !$0.contains("missing translation") } == [
        "\(file):3:15: error: '{仕事|しごと' in 't.open': a brace is opened and never closed",
        "\(file):4:11: error: '{|しごと}' in 't.empty' is not a reading: write the kanji, a bar and the reading in kana between braces, as {仕事|しごと}",
        "\(file):5:12: error: '{仕事|shigoto}' in 't.romaji': a reading is written in hiragana or katakana, without spaces",
        "\(file):6:19: error: '{しごと|しごと}' in 't.kana_base': a reading goes over kanji only; kana before or after stay outside the braces, as お{金|かね}",
        "\(file):7:15: error: '{お金|おかね}' in 't.with_kana': a reading goes over kanji only; kana before or after stay outside the braces, as お{金|かね}",
    ])
}

/// The failing fixture of the rule "every kanji in ja-easy has its reading": a bare kanji, in a
/// plain and in a quoted scalar; the word lists a client types and the staff's sheet labels may
/// hold kanji.
@Test func aBareKanjiInJaEasyIsAnError() throws {
    let fixture = try furiganaFixture(["ja-easy/t.yaml": """
        t:
          a: すきな 仕事を えらんで ください
          b: "{子|こ}どもと 一緒に"
          c: "{仕事|しごと}を さがす"
          decline_words: こたえない|答えない
        sheet:
          title: 就労相談記録票

        """])
    let file = fixture.dir + "/Locales/ja-easy/t.yaml"
    #expect(fixture.lines().filter { $0.hasPrefix(file) && !$0.contains("missing translation") } == [
        "\(file):2:10: error: '仕事' in 't.a' has no reading: in ja-easy every kanji a client reads carries its reading, as {仕事|しごと}, or is written in kana",
        "\(file):3:16: error: '一緒' in 't.b' has no reading: in ja-easy every kanji a client reads carries its reading, as {仕事|しごと}, or is written in kana",
    ])
}

/// ja and en show text as written: a reading there is an error (ja is for fluent readers; en has
/// no kanji), so the markup never shows up raw on a screen.
@Test func readingsOutsideJaEasyAreAnError() throws {
    let fixture = try furiganaFixture(["en/t.yaml": "t:\n  b: \"The {job|work} of {name}\"\n",
                                       "ja/t.yaml": "t:\n  b: \"{仕事|しごと}を 探す\"\n  c: \"{name}の仕事\"\n"])
    let lines = fixture.lines().filter { $0.contains("/Locales/en/t.yaml") || $0.contains("/Locales/ja/t.yaml") }
    #expect(lines == [
        fixture.expand("DIR/Locales/en/t.yaml:2:11: error: '{job|work}' in 't.b': readings over kanji belong in ja-easy; locale 'en' shows its text as written"),
        fixture.expand("DIR/Locales/ja/t.yaml:2:7: error: '{仕事|しごと}' in 't.b': readings over kanji belong in ja-easy; locale 'ja' shows its text as written"),
    ])
}

/// The repository's ja-easy strings carry readings (and lint clean, `theSampleDialogsLintClean`):
/// rendered for a terminal they show the kanji with its reading in brackets.
@Test func theRealJaEasyStringsCarryReadings() {
    let project = Project.load(paths: [packageRoot + "/Dialogs"], localesDirectory: packageRoot + "/Locales")
    let easy = project.catalog.strings["ja-easy"] ?? [:]
    let withReadings = easy.values.filter(Furigana.hasGroups)
    #expect(withReadings.count > 300)
    #expect(project.catalog.text("family.name", "ja-easy") == "あなたの 名前（なまえ）を おしえてください")
    var reading = project.catalog
    reading.furigana = .reading
    #expect(reading.text("family.name", "ja-easy") == "あなたの なまえを おしえてください")
    for locale in ["ja", "en"] {
        #expect((project.catalog.strings[locale] ?? [:]).values.filter(Furigana.hasGroups).isEmpty, "\(locale)")
    }
}

// MARK: - A file that is not valid YAML is reported first and alone (issue 17)

/// A dialog of two questions in a module, `m.yaml`, whose third question's `kind:` is indented one
/// space less than its `id:` (line 9).
private let misindentedModule = """
    format: 1
    section: m
    items:
      - id: a
        kind: text
      - id: b
        kind: yesno
      - id: c
       kind: integer
      - id: d
        kind: text
    """

@Test func anIndentationErrorIsTheOnlyErrorReported() throws {
    let fixture = try Fixture([
        "Dialogs/main.yaml": dialog("  - id: x\n    kind: text\n  - include: modules/m.yaml"),
        "Dialogs/modules/m.yaml": misindentedModule,
        // Another file's own problem waits until the YAML reads.
        "Dialogs/other.yaml": dialog("  - id: y\n    kind: txt").replacingOccurrences(of: "dialog: t", with: "dialog: u"),
    ], keys: ["t.x"])
    #expect(fixture.lines() == [
        "DIR/Dialogs/modules/m.yaml:9:4: error: the indentation does not match the lines around it: lines at the same level start with the same number of spaces (YAML: did not find expected '-' indicator)",
    ].map(fixture.expand))
}

@Test func aQuoteInsideAQuotedLocaleStringIsReportedAloneWhereTheStringBegins() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    let en = fixture.dir + "/Locales/en.yaml"
    let text = try String(contentsOfFile: en, encoding: .utf8)
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).count
    try (text + "t.b: \"She said \"yes\" at once\"\nt.c: fine\n").write(toFile: en, atomically: true, encoding: .utf8)
    #expect(fixture.lines() == [
        "\(en):\(line):6: error: text follows a quoted value: inside the quotes write \\\" for \", or use ' outside (YAML: did not find expected key)",
    ])
}

@Test func aQuoteLeftOpenIsReportedOnItsOwnLineNotWhereYAMLNoticed() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    let ja = fixture.dir + "/Locales/ja.yaml"
    let text = try String(contentsOfFile: ja, encoding: .utf8)
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).count
    // The quote of t.b is never closed: YAML reads on to t.c's opening quote and stops there.
    try (text + "t.b: \"はい\nt.c: \"いいえ\"\n").write(toFile: ja, atomically: true, encoding: .utf8)
    let project = fixture.load()
    #expect(project.diagnostics.count == 1)
    #expect(project.diagnostics.first?.source.line == line)
    #expect(project.diagnostics.first?.source.column == 6)
    #expect(project.diagnostics.first?.code == "yaml-quote-inside")
    // In Japanese too, although ja.yaml (the Japanese wording) is the file that cannot be read.
    #expect(project.diagnostics.first?.rendered(project.catalog, locale: "ja").hasSuffix(
        "エラー: 引用符で囲んだ値のあとに、まだ文字があります。値の中の \" は \\\" と書くか、外側を ' にしてください（YAML：did not find expected key）") == true)
}

@Test func aQuoteNeverClosedBeforeTheEndIsReportedWhereItOpens() throws {
    let fixture = try Fixture(["Dialogs/main.yaml": dialog("  - id: a\n    kind: text")], keys: ["t.a"])
    let en = fixture.dir + "/Locales/en.yaml"
    let text = try String(contentsOfFile: en, encoding: .utf8)
    let line = text.split(separator: "\n", omittingEmptySubsequences: false).count
    try (text + "t.b: \"never closed\nt.c: fine\n").write(toFile: en, atomically: true, encoding: .utf8)
    let project = fixture.load()
    #expect(project.diagnostics.map(\.code) == ["yaml-unclosed-quote"])
    #expect(project.diagnostics.first?.source.line == line)
    #expect(project.diagnostics.first?.source.column == 6)
}

@Test func theBuiltInMessagesSayWhatTheLocalesSay() throws {
    let project = Project.load(paths: [packageRoot + "/Dialogs"], localesDirectory: packageRoot + "/Locales")
    for key in BuiltInMessages.keys {
        for locale in ["ja", "en"] {
            #expect(project.catalog.has(key, in: locale), "\(key) in \(locale)")
            #expect(BuiltInMessages.text(key, locale) == project.catalog.text(key, locale), "\(key) in \(locale)")
        }
    }
}
