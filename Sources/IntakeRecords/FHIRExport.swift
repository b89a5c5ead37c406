import Foundation
import IntakeEngine

/// FHIR R4: a dialog as a `Questionnaire`, a record as a `QuestionnaireResponse` (linkId = the
/// question id; typed answers; a repeat group's instances as repeated items with the group's
/// linkId, each holding its questions). A declined answer (答えない) is an item without an answer
/// that carries the `data-absent-reason` extension, `asked-declined`. A simple condition becomes
/// `enableWhen` (`FHIRExport+EnableWhen.swift`); the others, and checks, are not carried over
/// (the record keeps what was asked). Every time (`authored`) is in the office's time zone with
/// its offset (`OfficeTime`).
public enum FHIRExport {
    public static func questionnaire(_ dialog: Dialog, catalog: Catalog, locale: String) -> JSON {
        // A simple `when:` as enableWhen (`FHIRExport+EnableWhen.swift`); any other is left out.
        func conditions(_ when: Expr?, _ groups: [String]) -> [(String, JSON)] {
            guard let when, let found = enableWhen(when, dialog: dialog, groups: groups) else { return [] }
            return [("enableWhen", .array(found.conditions))] + (found.behavior.map { [("enableBehavior", .string($0))] } ?? [])
        }
        func items(_ list: [Item], _ groups: [String]) -> [JSON] {
            list.compactMap { item -> JSON? in
                switch item {
                case .section(let s):
                    return .object([("linkId", .string(s.id)), ("text", .string(catalog.text(s.title, locale))),
                                    ("type", .string("group"))] + conditions(s.when, groups) + [("item", .array(items(s.items, groups)))])
                case .group(let g):
                    return .object([("linkId", .string(g.id)), ("text", .string(catalog.text(g.title, locale, ["n": "n"]))),
                                    ("type", .string("group"))] + conditions(g.when, groups)
                                   + [("repeats", .bool(true)), ("item", .array(items(g.items, groups + [g.id])))])
                case .question(let q):
                    var o: [(String, JSON)] = [("linkId", .string(q.id)), ("text", .string(catalog.text(q.text, locale, ["n": "n"]))),
                                               ("type", .string(type(q.kind)))]
                    o += conditions(q.when, groups)
                    o.append(("required", .bool(q.required)))
                    if case .multi = q.kind { o.append(("repeats", .bool(true))) }
                    let choices = q.kind.choices
                    if !choices.isEmpty {
                        o.append(("answerOption", .array(choices.map { c in
                            .object([("valueCoding", .object([("system", .string(system(dialog, q.id))), ("code", .string(c.value)),
                                                              ("display", .string(catalog.text(c.label, locale)))]))])
                        })))
                    }
                    return .object(o)
                case .end:
                    return nil
                }
            }
        }
        return .object([
            ("resourceType", .string("Questionnaire")),
            ("id", .string(dialog.id)),
            ("url", .string(url(dialog))),
            ("version", .string(dialog.version)),
            ("name", .string(dialog.id)),
            ("title", .string(catalog.text(dialog.title, locale))),
            ("status", .string("active")),
            ("item", .array(items(dialog.items, []))),
        ])
    }

    public static func response(_ record: IntakeRecord, session: String, dialog: Dialog, time: OfficeTime = .tokyo) -> JSON {
        let declined = Set(record.declined)
        func items(_ list: [Item], _ node: RecordAnswers, _ indices: [Int]) -> [JSON] {
            list.flatMap { item -> [JSON] in
                switch item {
                case .section(let s):
                    // A section whose every question was declined has no answers, but is not empty.
                    let inner: RecordAnswers = { if case .section(let a)? = node[s.id] { return a } else { return RecordAnswers() } }()
                    let children = items(s.items, inner, indices)
                    return children.isEmpty ? [] : [.object([("linkId", .string(s.id)), ("item", .array(children))])]
                case .group(let g):
                    guard case .group(let instances)? = node[g.id] else { return [] }
                    return instances.enumerated().map { i, instance in
                        .object([("linkId", .string(g.id)), ("item", .array(items(g.items, instance, indices + [i])))])
                    }
                case .question(let q):
                    guard case .value(let v)? = node[q.id] else {
                        // Asked and declined (答えない): said so, rather than left out.
                        guard declined.contains(dialog.display(Path(q.id, indices))) else { return [] }
                        return [.object([("linkId", .string(q.id)), ("extension", .array([declinedExtension]))])]
                    }
                    let values = answerValues(v, q, dialog)
                    return values.isEmpty ? [] : [.object([("linkId", .string(q.id)), ("answer", .array(values))])]
                case .end:
                    return []
                }
            }
        }
        let status: String = {
            switch record.status {
            case "complete": return "completed"
            case "in_progress": return "in-progress"
            default: return "stopped"
            }
        }()
        var o: [(String, JSON)] = [
            ("resourceType", .string("QuestionnaireResponse")),
            ("id", .string(session)),
            ("questionnaire", .string(url(dialog) + "|" + version(record, dialog))),
            ("status", .string(status)),
        ]
        // One convention for every time: the office's zone, with its offset (`OfficeTime`).
        let t = record.finished ?? record.started
        if !t.isEmpty { o.append(("authored", .string(time.iso(rewriting: t) ?? t))) }
        o.append(("item", .array(items(dialog.items, record.answers, []))))
        return .object(o)
    }

    /// A collection Bundle of the dialog's Questionnaire and the responses.
    public static func bundle(_ dialog: Dialog, catalog: Catalog, locale: String, records: [ExportedRecord], time: OfficeTime = .tokyo) -> JSON {
        let entries = [questionnaire(dialog, catalog: catalog, locale: locale)] + records.map { r in
            var response = response(r.record, session: r.session, dialog: dialog, time: time)
            // Whose answers these are: her number, in the system of her office's numbers.
            if case .object(var members) = response, let client = r.client {
                let identifier: JSON = .object([("system", .string(subjectSystem(office: r.office))), ("value", .string(client))])
                members.insert(("subject", .object([("identifier", identifier)])), at: min(members.count, 4))
                response = .object(members)
            }
            return response
        }
        return .object([("resourceType", .string("Bundle")), ("type", .string("collection")),
                        ("entry", .array(entries.map { .object([("resource", $0)]) }))])
    }

    static func url(_ dialog: Dialog) -> String { "urn:intake:questionnaire:\(dialog.id)" }

    /// R4's QuestionnaireResponse item has no dataAbsentReason element: the standard extension
    /// says why an item has no answer (asked, and declined: 答えない).
    static let declinedExtension: JSON = .object([("url", .string("http://hl7.org/fhir/StructureDefinition/data-absent-reason")),
                                                  ("valueCode", .string("asked-declined"))])

    /// The identifier system of an office's client numbers (the unnamed office: `urn:intake:client`).
    static func subjectSystem(office: String?) -> String {
        guard let office, !office.isEmpty else { return "urn:intake:client" }
        let encoded = office.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? office
        return "urn:intake:office:\(encoded):client"
    }

    static func system(_ dialog: Dialog, _ question: String) -> String { "urn:intake:\(dialog.id):\(question)" }

    /// The version the record was taken under (a record that names none: the dialog's).
    static func version(_ record: IntakeRecord, _ dialog: Dialog) -> String {
        record.dialog.version.isEmpty ? dialog.version : record.dialog.version
    }

    static func type(_ kind: QuestionKind) -> String {
        switch kind {
        case .text(let max): return (max ?? Question.defaultMaxLength) > 200 ? "text" : "string"
        case .integer: return "integer"
        case .decimal: return "decimal"
        case .yesNo: return "boolean"
        case .single, .multi: return "choice"
        case .date: return "date"
        case .month: return "string"
        case .time: return "time"
        }
    }

    /// A time of day kept as hours (8.5) as FHIR's `time` ("08:30:00").
    static func fhirTime(_ hours: Double) -> String? {
        guard let t = TimeParser.time(hours: hours), t.hour < 24 else { return nil }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return two(t.hour) + ":" + two(t.minute) + ":00"
    }

    static func answerValues(_ v: RecordValue, _ q: Question, _ dialog: Dialog) -> [JSON] {
        func coding(_ code: String) -> JSON {
            .object([("valueCoding", .object([("system", .string(system(dialog, q.id))), ("code", .string(code))]))])
        }
        switch (q.kind, v) {
        case (.yesNo, .bool(let b)): return [.object([("valueBoolean", .bool(b))])]
        case (.integer, .int(let i)): return [.object([("valueInteger", .int(i))])]
        case (.decimal, .int(let i)): return [.object([("valueDecimal", .number(Double(i)))])]
        case (.decimal, .number(let d)): return [.object([("valueDecimal", .number(d))])]
        case (.date, .string(let s)): return [.object([("valueDate", .string(s))])]
        case (.time, .int(let i)): return fhirTime(Double(i)).map { [.object([("valueTime", .string($0))])] } ?? []
        case (.time, .number(let d)): return fhirTime(d).map { [.object([("valueTime", .string($0))])] } ?? []
        case (.single, .string(let s)): return [coding(s)]
        case (.multi, .strings(let items)): return items.map(coding)
        case (_, .string(let s)): return [.object([("valueString", .string(s))])]
        default: return []
        }
    }
}
