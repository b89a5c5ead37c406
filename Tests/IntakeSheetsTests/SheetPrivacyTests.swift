import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeSheets
import Testing

/// What the sheets must never show, whatever the record holds.
@Suite struct SheetPrivacyTests {
    static let project = SheetGoldenTests.project

    func render(_ kind: String, _ record: JSON, _ locale: String = "ja") throws -> SheetOutcome {
        let dialog = try #require(Self.project.dialogs["intake"])
        let sheet = try #require(Self.project.sheet(kind, dialog: "intake"))
        return SheetRenderer(dialog: dialog, catalog: Self.project.catalog).render(sheet, record: try IntakeRecord(json: record), locale: locale)
    }

    /// Every personal answer of the record, as text.
    func personalValues(_ record: JSON) throws -> [String] {
        let dialog = try #require(Self.project.dialogs["intake"])
        let answers = try IntakeRecord(json: record).answers
        return dialog.index.questionOrder.filter { dialog.index.question($0)?.personal == true }.compactMap { id in
            guard case .string(let s)? = dialog.recordValue(answers, id) else { return nil }
            return s
        }
    }

    @Test(arguments: ["aiko", "kenji"])
    func theRequestCardCarriesNoNameAndNoContact(_ who: String) throws {
        let record = try SheetGoldenTests.record(who)
        let personal = try personalValues(record)
        #expect(!personal.isEmpty)
        for sheet in try render("request", record).sheets {
            for value in personal { #expect(!sheet.markdown.contains(value), "\(value) on the request card") }
        }
    }

    @Test func anAnonymousSheetNamingAPersonalFieldIsALintError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sheet-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: SheetGoldenTests.root.appendingPathComponent("Dialogs"), to: dir.appendingPathComponent("Dialogs"))
        try FileManager.default.copyItem(at: SheetGoldenTests.root.appendingPathComponent("Locales"), to: dir.appendingPathComponent("Locales"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("Dialogs/sheets/request.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "      - { field: area, label: sheet.label.area }", with: "      - { field: phone, label: sheet.label.phone }")
            .write(to: file, atomically: true, encoding: .utf8)
        let project = Project.load(paths: [dir.appendingPathComponent("Dialogs").path])
        let lines = project.diagnostics.map { $0.rendered(project.catalog, locale: "en") }
        #expect(lines.contains { $0.hasSuffix("error: 'phone' identifies or reaches the client and cannot be on an anonymous sheet") })
    }

    @Test func aReferralSheetIsPrintedOnlyForBodiesTheClientConsentedTo() throws {
        // Kenji consents to Hello Work only (see the fixture); a referral to the welfare office is withheld.
        let record = try SheetGoldenTests.record("kenji")
        let outcome = try render("referral", record)
        #expect(outcome.sheets.count >= 1)
        #expect(outcome.sheets.allSatisfy { $0.title.contains("ハローワーク") })
    }

    @Test func noRequestCardWithoutTheClientsAgreement() throws {
        var record = try SheetGoldenTests.record("aiko")
        // Flip request_card_ok to false in the record.
        if case .object(var top) = record, let i = top.firstIndex(where: { $0.0 == "answers" }), case .object(var sections) = top[i].1,
           let w = sections.firstIndex(where: { $0.0 == "wishes" }), case .object(var wishes) = sections[w].1,
           let r = wishes.firstIndex(where: { $0.0 == "request_card_ok" }) {
            wishes[r].1 = .bool(false)
            sections[w].1 = .object(wishes)
            top[i].1 = .object(sections)
            record = .object(top)
        }
        let outcome = try render("request", record)
        #expect(outcome.sheets.isEmpty)
        #expect(outcome.withheld == ["求人リクエストカード：ご本人が希望されなかったため、印刷しません。"])
    }
}
