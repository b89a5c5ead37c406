import Foundation
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
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
