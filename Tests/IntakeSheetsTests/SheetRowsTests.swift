import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeSheets
import IntakeTesting
import Testing

/// The rows issue 17 asked of the sheets a counselor hands over, from real records changed where
/// a case needs it: the counselor, 学童, `:note` remarks and amounts with units on the record
/// sheet; every contact method, 社協 and the bodies for money and housing on the referral sheet.
@Suite struct SheetRowsTests {
    static let project = SheetGoldenTests.project

    func render(_ kind: String, _ record: JSON, _ locale: String = "ja") throws -> SheetOutcome {
        let dialog = try #require(Self.project.dialogs["intake"])
        let sheet = try #require(Self.project.sheet(kind, dialog: "intake"))
        return SheetRenderer(dialog: dialog, catalog: Self.project.catalog).render(sheet, record: try IntakeRecord(json: record), locale: locale)
    }

    @Test func theRecordSheetNamesTheCounselorTheStoredRecordNames() throws {
        var record = try SheetGoldenTests.record("aiko")
        #expect(try render("record", record).sheets[0].markdown.contains("| 相談員 | — |"), "a record from no store names nobody")
        record = record.setting(top: "counselor", .string("sato.k"))
        #expect(try render("record", record).sheets[0].markdown.contains("| 相談員 | sato.k |"))
    }

    @Test func aFirstToThirdGradersAfterSchoolCareIsShown() throws {
        // マリア's children are 小1–3: their after-school care (学童) stands where a small child's daytime care would.
        let sheet = try #require(try render("record", SheetGoldenTests.record("maria")).sheets.first).markdown
        #expect(sheet.contains("| 昼間・放課後の預け先 |"))
        #expect(sheet.contains("| 1 | 8 | 小学1〜3年生 | 川越東小学校 | 学童保育（放課後児童クラブ） | ない |"))
    }

    @Test func amountsCarryTheUnitAnsweredBesideThem() throws {
        let aiko = try #require(try render("record", SheetGoldenTests.record("aiko")).sheets.first).markdown
        #expect(aiko.contains("| 希望の給与 | 時給 1,000円 |"))
        let kenji = try #require(try render("record", SheetGoldenTests.record("kenji")).sheets.first).markdown
        #expect(kenji.contains("| 希望の給与 | 月給 250,000円 |"))
        let en = try #require(try render("record", SheetGoldenTests.record("kenji"), "en").sheets.first).markdown
        #expect(en.contains("| Pay wished for | ¥250,000 a month |"))
    }

    @Test func theCounselorsNotesAreListedWithWhenAndWhere() throws {
        let note: JSON = .object([("question", .string("children[1].age")), ("text", .string("上の子は4月から小学校")),
                                  ("at", .string("2026-11-23T10:05:00.000+09:00"))])
        let general: JSON = .object([("question", .null), ("text", .string("次回は履歴書を持参")),
                                     ("at", .string("2026-11-23T10:40:00.000+09:00"))])
        let record = try SheetGoldenTests.record("aiko").setting(top: "notes", .array([note, general]))
        let sheet = try #require(try render("record", record).sheets.first).markdown
        #expect(sheet.contains("## 面談中のメモ\n\n- 上の子は4月から小学校  \n  2026-11-23 10:05（1人目のお子さんは何歳ですか？）\n- 次回は履歴書を持参  \n  2026-11-23 10:40\n"))
        let none = try #require(try render("record", SheetGoldenTests.record("aiko")).sheets.first).markdown
        #expect(none.contains("## 面談中のメモ\n\n—\n"))
    }

    /// A client's words are text on the Markdown sheet too: a name or an address typed as a link,
    /// an image or HTML prints as she typed it, and does not become a link to click, a picture
    /// fetched from another site or markup when the sheet is previewed or converted (an editor's
    /// preview, pandoc). The same for a counselor's note, which may quote her.
    @Test func markdownInAClientsAnswersIsWrittenAsText() throws {
        let note: JSON = .object([("question", .null), ("text", .string("# <script>x</script> **太字**")),
                                  ("at", .string("2026-11-23T10:40:00.000+09:00"))])
        let record = try SheetGoldenTests.record("aiko")
            .setting("family", "name", .string("[山田](http://evil.example)"))
            .setting("family", "address", .string("![x](http://evil.example/b.png)<img src=x> _a_ `c` ~~d~~ \\"))
            .setting(top: "notes", .array([note]))
        let sheet = try #require(try render("record", record).sheets.first).markdown
        #expect(sheet.contains("| 氏名 | \\[山田\\](http://evil.example) |"))
        #expect(sheet.contains(#"| 住所 | \!\[x\](http://evil.example/b.png)\<img src=x\> \_a\_ \`c\` \~\~d\~\~ \\ |"#))
        #expect(sheet.contains(##"- \# \<script\>x\</script\> \*\*太字\*\*  "##))
        // Nothing of hers opens a link, an image or a tag: each such mark has its backslash.
        for mark in ["](", "<img", "<script", "**"] {
            #expect(!sheet.replacingOccurrences(of: "\\" + String(mark.first!), with: "").contains(mark), "\(mark)")
        }
    }

    /// DOMAIN.md: a safety concern marks contact as discreet. She may have said no to discretion
    /// at the contact questions and raised the concern later: both sheets a counselor contacts
    /// her from say that contact needs care (the record's computed `contact_discreet`), though her
    /// own answer stays as given; where she declined and raised no concern, they say she declined.
    @Test func aSafetyConcernMarksContactAsDiscreetOnTheSheets() throws {
        let aiko = try SheetGoldenTests.record("aiko")
        for kind in ["record", "referral"] {
            #expect(try render(kind, aiko).sheets[0].markdown.contains("| 連絡に配慮が必要 | いいえ |"))
            let concern = aiko.setting("family", "safety_concern", .bool(true))
                .setting(top: "computed", .object([("contact_discreet", .bool(true))]))
            let marked = try render(kind, concern).sheets[0].markdown
            #expect(marked.contains("| 連絡に配慮が必要 | はい |"), "\(kind)")
            #expect(!marked.contains("| 連絡に配慮が必要 | いいえ |"), "\(kind)")
            let declined = aiko.setting("consent", "discreet", nil)
                .setting(top: "declined", .array([.string("discreet")]))
                .setting(top: "computed", .object([("contact_discreet", .null)]))
            #expect(try render(kind, declined).sheets[0].markdown.contains("| 連絡に配慮が必要 | 答えない |"), "\(kind)")
        }
    }

    @Test func anEmailOnlyClientsReferralCarriesHerAddressNotAnEmptyPhoneRow() throws {
        let record = try SheetGoldenTests.record("aiko")
            .setting("consent", "contact_methods", .array([.string("email")]))
            .setting("consent", "phone", nil)
            .setting("consent", "email", .string("aiko@example.jp"))
        for sheet in try render("referral", record).sheets {
            #expect(sheet.markdown.contains("| 連絡方法 | メール |"))
            #expect(sheet.markdown.contains("| メール | aiko@example.jp |"))
            #expect(!sheet.markdown.contains("| 電話 |"))
            #expect(!sheet.markdown.contains("| 住所 |"), "no post, no address")
            #expect(sheet.markdown.contains("| 連絡のつく時間帯 | 平日の昼間 |"))
        }
    }

    @Test func everyContactMethodSheGaveIsOnTheReferral() throws {
        let record = try SheetGoldenTests.record("aiko")
            .setting("consent", "contact_methods", .array([.string("mobile"), .string("email"), .string("post")]))
            .setting("consent", "email", .string("aiko@example.jp"))
            .setting("family", "address", .string("川越市中央1-2-3"))
        let sheet = try #require(try render("referral", record).sheets.first).markdown
        #expect(sheet.contains("| 連絡方法 | 携帯電話、メール、郵便 |"))
        #expect(sheet.contains("| 電話 | 090-1234-5678 |"))
        #expect(sheet.contains("| メール | aiko@example.jp |"))
        #expect(sheet.contains("| 住所 | 川越市中央1-2-3 |"))
    }

    @Test func moneyNeedsGoToTheFirstBodySheConsentedTo() throws {
        // 美咲 is short of money this month and consented to Hello Work, the center and the 社協 (not 生活保護).
        let misaki = try SheetGoldenTests.record("misaki")
        var outcome = try render("referral", misaki)
        let council = try #require(outcome.sheets.first { $0.title == "相談つなぎシート（社会福祉協議会）" })
        #expect(council.markdown.contains("| つなぎ先 | 社会福祉協議会 |"))
        #expect(council.markdown.contains("- 日払い・週払いの仕事、母子父子寡婦福祉資金の貸付、自立相談支援機関や生活保護の窓口をご案内します。"))
        #expect(!outcome.withheld.contains { $0.contains("生活保護") }, "the need reached a body she consented to")
        // With the 自立相談支援機関 among her consents it goes there, and only there.
        outcome = try render("referral", misaki.setting("consent", "share_outside", .array([.string("council"), .string("self_reliance")])))
        #expect(outcome.sheets.map(\.title) == ["相談つなぎシート（自立相談支援機関（くらしの困りごとの相談窓口））"])
        // With none of them, each body that handles it is named as withheld.
        outcome = try render("referral", misaki.setting("consent", "share_outside", .array([.string("none")])))
        #expect(outcome.sheets.isEmpty)
        #expect(outcome.withheld.contains("社会福祉協議会へのつなぎ：ご本人が情報の共有に同意していないため、相談つなぎシートは印刷しません。"))
        #expect(outcome.withheld.contains { $0.hasPrefix("生活保護の担当へのつなぎ") })
    }

    /// A persona's record had she typed `changes` (question path → answer) instead of what she
    /// did: her conversation run again through the engine with those answers in place of hers.
    static func record(_ name: String, answering changes: [String: String]) throws -> JSON {
        let prefix = try #require(SheetGoldenTests.personas[name])
        var conversation = try #require(project.conversationFiles.flatMap { ConversationParser.parse(file: $0).0 }
            .first { $0.name.hasPrefix(prefix) })
        var replaced: Set<String> = []
        conversation.steps = conversation.steps.map { step in
            guard case .answer(let question, _, let source) = step, let text = changes[question] else { return step }
            replaced.insert(question)
            return .answer(question: question, input: .event(.answer(text)), source: source)
        }
        #expect(replaced == Set(changes.keys), "each changed answer is one she gave")
        conversation.expect = nil
        let result = ConversationRunner(project: project).run(conversation)
        #expect(result.failure == nil, "\(result.failure ?? "")")
        return try #require(result.record?.json)
    }

    @Test func housingNeedsGoToTheFirstBodySheConsentedTo() throws {
        // 美咲, had she been a tenant behind with her rent and her money this month otherwise fine; she
        // consented to Hello Work, the center and the 社協 (not 生活保護).
        let arrears = try Self.record("misaki", answering: ["housing": "賃貸だが、家賃を滞納している・退去を求められている",
                                                           "money_now": "いまは特に困っていない"])
        guard case .array(let fired)? = arrears["suggestions"] else {
            Issue.record("no suggestions in the record")
            return
        }
        #expect(fired.contains { $0["id"] == .string("housing_support") })
        #expect(!fired.contains { $0["id"] == .string("money_now_support") }, "the 社協 sheet is there for her housing alone")
        var outcome = try render("referral", arrears)
        let council = try #require(outcome.sheets.first { $0.title == "相談つなぎシート（社会福祉協議会）" })
        #expect(council.markdown.contains("| つなぎ先 | 社会福祉協議会 |"))
        #expect(council.markdown.contains("- 住居確保給付金や公営住宅をご案内します。  \n  理由： いまのお住まいにあてはまるものを選んでください → 賃貸だが、家賃を滞納している・退去を求められている\n"))
        #expect(!council.markdown.contains("日払い・週払い"))
        #expect(!outcome.withheld.contains { $0.contains("生活保護") }, "the need reached a body she consented to")
        // With the 自立相談支援機関 among her consents it goes there (住居確保給付金), and only there.
        outcome = try render("referral", arrears.setting("consent", "share_outside", .array([.string("council"), .string("self_reliance")])))
        #expect(outcome.sheets.map(\.title) == ["相談つなぎシート（自立相談支援機関（くらしの困りごとの相談窓口））"])
        #expect(outcome.sheets.first?.markdown.contains("- 住居確保給付金や公営住宅をご案内します。") == true)
        // With the 生活保護 window alone, there.
        outcome = try render("referral", arrears.setting("consent", "share_outside", .array([.string("welfare")])))
        #expect(outcome.sheets.map(\.title) == ["相談つなぎシート（生活保護の担当）"])
        #expect(outcome.sheets.first?.markdown.contains("- 住居確保給付金や公営住宅をご案内します。") == true)
        // With none of them, each body that handles it is named as withheld.
        outcome = try render("referral", arrears.setting("consent", "share_outside", .array([.string("none")])))
        #expect(outcome.sheets.isEmpty)
        for body in ["自立相談支援機関（くらしの困りごとの相談窓口）", "社会福祉協議会", "生活保護の担当"] {
            #expect(outcome.withheld.contains("\(body)へのつなぎ：ご本人が情報の共有に同意していないため、相談つなぎシートは印刷しません。"), "\(body)")
        }
    }

    @Test func theHTMLPageIsSelfContainedA4AndEscapesWhatTheClientTyped() throws {
        let record = try SheetGoldenTests.record("aiko").setting("family", "name", .string("<script>alert('x')</script> & \u{1B}[2J"))
        let outcome = try render("record", record)
        let html = SheetHTML.page(outcome.sheets, locale: "ja", catalog: Self.project.catalog, footer: "出力：sato")
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"ja\">"))
        #expect(html.contains("@page { size: A4; margin: 15mm 14mm 16mm 14mm; }"))
        #expect(html.contains("font-family: \"Noto Sans CJK JP\", \"Noto Sans JP\", \"Hiragino Sans\""))
        #expect(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""))
        #expect(!html.contains("<script"))
        let shownEscape = ControlCharacters.visible("\u{1B}")
        #expect(html.contains("<tr><th scope=\"row\">氏名</th><td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; \(shownEscape)[2J</td></tr>"))
        #expect(!html.contains("\u{1B}"))
        #expect(html.contains("<tr><th scope=\"row\">相談員</th><td>—</td></tr>"))
        #expect(html.contains("<p class=\"footer\">出力：sato</p>"))
        #expect(html.range(of: "src=") == nil && html.range(of: "href=") == nil && html.range(of: "url(") == nil)
    }

    @Test func aRowListingAPersonalFieldAmongItsFieldsStaysOffAnAnonymousSheet() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sheet-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: SheetGoldenTests.root.appendingPathComponent("Dialogs"), to: dir.appendingPathComponent("Dialogs"))
        try FileManager.default.copyItem(at: SheetGoldenTests.root.appendingPathComponent("Locales"), to: dir.appendingPathComponent("Locales"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("Dialogs/sheets/request.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try text.replacingOccurrences(of: "      - { field: area, label: sheet.label.area }",
                                      with: "      - { field: [area, email], label: sheet.label.area }\n      - { field: desired_pay, label: sheet.label.desired_pay, show: amount, unit: area }")
            .write(to: file, atomically: true, encoding: .utf8)
        let project = Project.load(paths: [dir.appendingPathComponent("Dialogs").path])
        let lines = project.diagnostics.map { $0.rendered(project.catalog, locale: "en") }
        #expect(lines.contains { $0.hasSuffix("error: 'email' identifies or reaches the client and cannot be on an anonymous sheet") })
        #expect(lines.contains { $0.hasSuffix("error: unit needs a single-choice question (per hour, per month); 'area' is not one") })
    }
}

extension JSON {
    /// The record with a top-level member set.
    func setting(top key: String, _ value: JSON) -> JSON {
        guard case .object(var members) = self else { return self }
        if let i = members.firstIndex(where: { $0.0 == key }) { members[i].1 = value } else { members.append((key, value)) }
        return .object(members)
    }

    /// The record with the answer `key` of section `section` set (nil: removed).
    func setting(_ section: String, _ key: String, _ value: JSON?) -> JSON {
        guard case .object(var top) = self, let a = top.firstIndex(where: { $0.0 == "answers" }),
              case .object(var sections) = top[a].1, let s = sections.firstIndex(where: { $0.0 == section }),
              case .object(var answers) = sections[s].1 else { return self }
        answers.removeAll { $0.0 == key }
        if let value { answers.append((key, value)) }
        sections[s].1 = .object(answers)
        top[a].1 = .object(sections)
        return .object(top)
    }
}
