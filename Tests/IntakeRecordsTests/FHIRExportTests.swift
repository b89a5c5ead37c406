import Foundation
import IntakeRuntime
import IntakeDialogs
import IntakeEngine
import IntakeRecords
import IntakeTesting
import Testing

/// FHIR R4 output of every intake record of the test conversations. The structure is checked here;
/// when INTAKE_FHIR_PYTHON names a Python with fhir.resources 6.5 (R4; .ci/run installs it), every
/// resource is also validated by it — and a broken one must be rejected, so the validator is live.
@Suite struct FHIRExportTests {
    static let python = ProcessInfo.processInfo.environment["INTAKE_FHIR_PYTHON"]

    func bundle() throws -> (JSON, Dialog) {
        let dialog = try #require(CSVExportTests.project.dialogs["intake"])
        return (FHIRExport.bundle(dialog, catalog: CSVExportTests.project.catalog, locale: "ja", records: try CSVExportTests.records()), dialog)
    }

    @Test func everyAnswerIsALinkIdOfTheQuestionnaireWithATypedValue() throws {
        let (bundle, dialog) = try bundle()
        guard case .array(let entries)? = bundle["entry"] else { Issue.record("no entries"); return }
        #expect(entries.count == (try CSVExportTests.records()).count + 1)
        #expect(entries.first?["resource"]?["resourceType"] == .string("Questionnaire"))
        var linkIds: Set<String> = []
        func collect(_ j: JSON?) {
            guard case .array(let items)? = j else { return }
            for item in items {
                if case .string(let id)? = item["linkId"] { linkIds.insert(id) }
                collect(item["item"])
            }
        }
        collect(entries.first?["resource"]?["item"])
        #expect(linkIds.isSuperset(of: dialog.index.questionOrder))
        func check(_ j: JSON?) {
            guard case .array(let items)? = j else { return }
            for item in items {
                if case .string(let id)? = item["linkId"] { #expect(linkIds.contains(id)) }
                if case .array(let answers)? = item["answer"] {
                    for a in answers {
                        guard case .object(let fields) = a else { continue }
                        #expect(fields.count == 1 && fields[0].0.hasPrefix("value"))
                    }
                }
                check(item["item"])
            }
        }
        for e in entries.dropFirst() {
            #expect(e["resource"]?["resourceType"] == .string("QuestionnaireResponse"))
            check(e["resource"]?["item"])
        }
    }

    @Test(.enabled(if: python != nil, "set INTAKE_FHIR_PYTHON to a Python with fhir.resources 6.5 (R4); .ci/run does"))
    func theBundleValidatesAsFHIRR4() throws {
        let (bundle, _) = try bundle()
        #expect(try validate(bundle) == "ok")
        // The validator is live: a response item without its linkId is rejected.
        let broken = JSON.object([("resourceType", .string("Bundle")), ("type", .string("collection")), ("entry", .array([
            .object([("resource", .object([("resourceType", .string("QuestionnaireResponse")), ("status", .string("completed")),
                                           ("item", .array([.object([("answer", .array([.object([("valueBoolean", .bool(true))])]))])]))]))]),
        ]))])
        #expect(try validate(broken) != "ok")
    }

    /// 答えない is an answer too: the item stays, without an answer, with the standard
    /// data-absent-reason extension (R4's QuestionnaireResponse has no dataAbsentReason element);
    /// in a repeat group, in the instance it was declined in.
    @Test func aDeclinedAnswerSaysAskedDeclinedInsteadOfVanishing() throws {
        let dialog = try #require(CSVExportTests.project.dialogs["intake"])
        let record: JSON = .object([
            ("status", .string("complete")), ("finished", .string("2026-11-23T01:41:07Z")),
            ("answers", .object([("family", .object([("name", .string("花子")),
                                                     ("children", .array([.object([("age", .int(4))]), .object([])]))]))])),
            ("declined", .array([.string("income_sources"), .string("children[2].age")])),
        ])
        let response = FHIRExport.response(try CSVExportTests.completed(record), session: "s", dialog: dialog)
        #expect(response["authored"] == .string("2026-11-23T10:41:07+09:00"), "office time, with its offset")
        var found: [String: JSON] = [:]
        func walk(_ j: JSON?, _ trail: String) {
            guard case .array(let items)? = j else { return }
            var instance = 0
            for item in items {
                guard case .string(let id)? = item["linkId"] else { continue }
                let here = trail + "/" + id + (id == "children" ? "[\(instance)]" : "")
                if id == "children" { instance += 1 }
                found[here] = item
                walk(item["item"], here)
            }
        }
        walk(response["item"], "")
        let declined: JSON = .array([.object([("url", .string("http://hl7.org/fhir/StructureDefinition/data-absent-reason")),
                                              ("valueCode", .string("asked-declined"))])])
        let income = try #require(found.first { $0.key.hasSuffix("/income_sources") }?.value)
        #expect(income["extension"] == declined)
        #expect(income["answer"] == nil)
        let second = try #require(found.first { $0.key.hasSuffix("/children[1]/age") }?.value)
        #expect(second["extension"] == declined)
        let first = try #require(found.first { $0.key.hasSuffix("/children[0]/age") }?.value)
        #expect(first["extension"] == nil && first["answer"] != nil)
        if Self.python != nil {
            #expect(try validate(.object([("resourceType", .string("Bundle")), ("type", .string("collection")),
                                          ("entry", .array([.object([("resource", response)])]))])) == "ok")
        }
    }

    /// A simple `when:` (one answer against a constant, or several joined all by `and` or all by
    /// `or`) becomes enableWhen; anything else is left out, and so is a condition on another
    /// repeat group's instance.
    @Test func simpleConditionsBecomeEnableWhen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fhir-when-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Dialogs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("Locales"), withIntermediateDirectories: true)
        try """
            format: 1
            dialog: t
            version: "1"
            title: t.title
            settings:
              limit: 5
            items:
              - id: ok
                kind: yesno
              - id: n
                kind: integer
                when: ok
              - id: pick
                kind: choice
                choices: [a, b, c]
                when: not ok
              - id: many
                kind: multi
                choices: [x, y]
                when: pick in ['a', 'b']
              - id: both
                kind: text
                when: "'x' in many and n >= settings.limit"
              - id: either
                kind: text
                when: "3 < n or pick == 'c' or both != null"
              - id: counted
                kind: text
                when: count(many) > 1
              - id: given
                kind: text
                when: answered(either)
              - id: mixed
                kind: text
                when: ok and pick == 'a' or n > 3
              - group: kids
                count: n
                max: 3
                items:
                  - id: age
                    kind: integer
                  - id: detail
                    kind: text
                    when: age < 6
              - group: care
                each: kids
                items:
                  - id: care_q
                    kind: yesno
                    when: age < 6
            """.write(to: dir.appendingPathComponent("Dialogs/t.yaml"), atomically: true, encoding: .utf8)
        try "t:\n  title: T\n".write(to: dir.appendingPathComponent("Locales/ja.yaml"), atomically: true, encoding: .utf8)
        let project = Project.load(paths: [dir.appendingPathComponent("Dialogs").path])
        let dialog = try #require(project.dialogs["t"], "\(project.diagnostics.map(\.code))")
        let q = FHIRExport.questionnaire(dialog, catalog: project.catalog, locale: "ja")
        var items: [String: JSON] = [:]
        func walk(_ j: JSON?) {
            guard case .array(let list)? = j else { return }
            for item in list {
                if case .string(let id)? = item["linkId"] { items[id] = item }
                walk(item["item"])
            }
        }
        walk(q["item"])
        func when(_ id: String) -> String {
            guard case .array(let list)? = items[id]?["enableWhen"] else { return "-" }
            let parts = list.map { e -> String in
                let answer = e["answerBoolean"] ?? e["answerInteger"] ?? e["answerCoding"]?["code"] ?? e["answerString"] ?? .null
                return "\(e["question"]?.rendered() ?? "") \(e["operator"]?.rendered() ?? "") \(answer.rendered())"
            }
            return parts.joined(separator: ", ") + (items[id]?["enableBehavior"].map { " (\($0.rendered()))" } ?? "")
        }
        #expect(when("ok") == "-")
        #expect(when("n") == #""ok" "=" true"#)
        #expect(when("pick") == #""ok" "=" false"#)
        #expect(when("many") == #""pick" "=" "a", "pick" "=" "b" ("any")"#)
        #expect(when("both") == #""many" "=" "x", "n" ">=" 5 ("all")"#, "a setting is a constant")
        #expect(when("either") == #""n" ">" 3, "pick" "=" "c", "both" "exists" true ("any")"#)
        #expect(when("counted") == "-", "a function is not a simple condition")
        #expect(when("given") == #""either" "exists" true"#)
        #expect(when("mixed") == "-", "and and or mixed")
        #expect(when("detail") == #""age" "<" 6"#, "the same instance of the same group")
        #expect(when("care_q") == "-", "another group's instance")
        if Self.python != nil {
            #expect(try validate(.object([("resourceType", .string("Bundle")), ("type", .string("collection")),
                                          ("entry", .array([.object([("resource", q)])]))])) == "ok")
        }
    }

    /// The intake dialog's enableWhen entries are well formed: an operator FHIR knows, a linkId of
    /// the Questionnaire, an answer of the question's type, enableBehavior when there are several.
    @Test func theIntakeDialogsEnableWhenEntriesAreWellFormed() throws {
        let (bundle, _) = try bundle()
        guard case .array(let entries)? = bundle["entry"] else { Issue.record("no entries"); return }
        let questionnaire = try #require(entries.first?["resource"])
        var linkIds: Set<String> = []
        var conditions: [(JSON, Int, JSON?)] = []
        func walk(_ j: JSON?) {
            guard case .array(let list)? = j else { return }
            for item in list {
                if case .string(let id)? = item["linkId"] { linkIds.insert(id) }
                if case .array(let when)? = item["enableWhen"] {
                    for e in when { conditions.append((e, when.count, item["enableBehavior"])) }
                }
                walk(item["item"])
            }
        }
        walk(questionnaire["item"])
        #expect(conditions.count > 10)
        for (e, count, behavior) in conditions {
            guard case .object(let fields) = e, case .string(let question)? = e["question"], case .string(let op)? = e["operator"] else {
                Issue.record("\(e.rendered())"); continue
            }
            #expect(linkIds.contains(question))
            #expect(["exists", "=", "!=", ">", "<", ">=", "<="].contains(op))
            #expect(fields.filter { $0.0.hasPrefix("answer") }.count == 1)
            if op == "exists" { #expect(e["answerBoolean"] != nil) }
            #expect((count > 1) == (behavior != nil), "que-12: enableBehavior with more than one enableWhen")
        }
    }

    func validate(_ bundle: JSON) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fhir-\(UUID().uuidString).json")
        try Data(bundle.rendered().utf8).write(to: file)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.python))
        p.arguments = ["-c", """
            import json, sys
            from fhir.resources.bundle import Bundle
            from fhir.resources.questionnaire import Questionnaire
            from fhir.resources.questionnaireresponse import QuestionnaireResponse
            data = json.load(open(sys.argv[1]))
            try:
                Bundle.parse_obj(data)
                for e in data["entry"]:
                    r = e["resource"]
                    (Questionnaire if r["resourceType"] == "Questionnaire" else QuestionnaireResponse).parse_obj(r)
                print("ok")
            except Exception as err:
                print("invalid: " + str(err)[:300])
            """, file.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
