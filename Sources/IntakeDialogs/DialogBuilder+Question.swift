import Foundation
import IntakeEngine
import Yams

extension DialogBuilder {
    mutating func readQuestion(_ node: Node, section: String, groups: [String], reader r: inout YAMLReader) -> Item? {
        guard let m = r.members(node, allowed: Self.questionKeys, what: "question"),
              let id = r.string(m["id"], "id") else { return nil }
        let idNode = m["id"] ?? node
        define(id, at: idNode, &r)
        let text = r.string(m["text"], "text") ?? "\(section).\(id)"
        need(text, at: r.ref(m["text"] ?? idNode))
        let help = r.string(m["help"], "help")
        need(help ?? text + ".help", at: r.ref(m["help"] ?? idNode), optional: help == nil)
        guard let kindNode = m["kind"], let kindName = r.string(kindNode, "kind") else {
            if m["kind"] == nil { r.error("missing-key", ["key": "kind"], at: node) }
            return nil
        }
        let kind: QuestionKind
        let limitKeys: Set<String>
        switch kindName {
        case "text":
            kind = .text(maxLength: r.int(m["max_length"], "max_length"))
            limitKeys = ["max_length", "format"]
        case "integer":
            let lo = r.int(m["min"], "min"), hi = r.int(m["max"], "max")
            if let lo, let hi, lo > hi { r.error("min-above-max", ["min": String(lo), "max": String(hi)], at: m["min"] ?? node) }
            kind = .integer(min: lo, max: hi)
            limitKeys = ["min", "max"]
        case "decimal":
            let lo = r.number(m["min"], "min"), hi = r.number(m["max"], "max")
            if let lo, let hi, lo > hi { r.error("min-above-max", ["min": "\(lo)", "max": "\(hi)"], at: m["min"] ?? node) }
            kind = .decimal(min: lo, max: hi)
            limitKeys = ["min", "max"]
        case "date":
            let lo = r.date(m["min"], "min"), hi = r.date(m["max"], "max")
            if let lo, let hi, lo > hi { r.error("min-above-max", ["min": lo.iso, "max": hi.iso], at: m["min"] ?? node) }
            kind = .date(min: lo, max: hi)
            limitKeys = ["min", "max"]
        case "yesno":
            kind = .yesNo
            limitKeys = []
        case "month":
            kind = .month
            limitKeys = ["open_ended"]
        case "time":
            kind = .time
            limitKeys = []
        case "choice", "multi":
            let choices = readChoices(m["choices"], textKey: text, at: node, &r)
            if kindName == "choice" {
                kind = .single(choices)
                limitKeys = ["choices"]
            } else {
                let lo = r.int(m["min_picks"], "min_picks"), hi = r.int(m["max_picks"], "max_picks")
                if let lo, let hi, lo > hi { r.error("min-above-max", ["min": String(lo), "max": String(hi)], at: m["min_picks"] ?? node) }
                if let hi, hi > choices.count { r.warning("picks-above-choices", ["max": String(hi), "count": String(choices.count)], at: m["max_picks"] ?? node) }
                kind = .multi(choices, minPicks: lo, maxPicks: hi)
                limitKeys = ["choices", "min_picks", "max_picks"]
            }
        default:
            var args = ["kind": kindName]
            if let s = Spelling.closest(to: kindName, in: Self.kinds) { args["suggestion"] = s }
            r.error("unknown-kind", args, at: kindNode)
            return nil
        }
        var format: TextFormat?
        if let n = m["format"], let name = r.string(n, "format"), limitKeys.contains("format") {
            format = TextFormat(rawValue: name)
            if format == nil {
                var args = ["format": name]
                if let s = Spelling.closest(to: name, in: TextFormat.allCases.map(\.rawValue)) { args["suggestion"] = s }
                r.error("unknown-format", args, at: n)
            }
        }
        let openEnded = limitKeys.contains("open_ended") ? (r.bool(m["open_ended"], "open_ended") ?? false) : false
        if openEnded, r.bool(m["required"], "required") ?? true, let n = m["open_ended"] {
            r.error("open-ended-required", [:], at: n)
        }
        for key in ["min", "max", "max_length", "format", "open_ended", "choices", "min_picks", "max_picks"] where m[key] != nil && !limitKeys.contains(key) {
            if let n = m[key] { r.error("key-not-for-kind", ["key": key, "kind": kindName], at: n) }
        }
        let audienceName = r.string(m["audience"], "audience") ?? "all"
        let audience = Audience(rawValue: audienceName) ?? .all
        if Audience(rawValue: audienceName) == nil, let n = m["audience"] {
            var args = ["audience": audienceName]
            if let s = Spelling.closest(to: audienceName, in: Audience.allCases.map(\.rawValue)) { args["suggestion"] = s }
            r.error("unknown-audience", args, at: n)
        }
        let when = expr(m["when"], "when", &r, scope: groups, role: .when, owner: id, expected: .bool)
        // A value that follows from earlier answers: read like a condition (earlier answers only).
        let derive = expr(m["derive"], "derive", &r, scope: groups, role: .when, owner: id, expected: nil)
        var variants: [TextVariant] = []
        for v in r.sequence(m["variants"], "variants") {
            guard let vm = r.members(v, allowed: ["when", "text"], what: "variant") else { continue }
            guard let key = r.string(vm["text"], "text") else {
                if vm["text"] == nil { r.error("missing-key", ["key": "text"], at: v) }
                continue
            }
            need(key, at: r.ref(vm["text"] ?? v))
            if vm["when"] == nil { r.error("missing-key", ["key": "when"], at: v) }
            guard let e = expr(vm["when"], "when", &r, scope: groups, role: .when, owner: id, expected: .bool) else { continue }
            variants.append(TextVariant(when: e, text: key))
        }
        var checks: [Check] = []
        for c in r.sequence(m["checks"], "checks") {
            guard let cm = r.members(c, allowed: ["expect", "message", "soft"], what: "check") else { continue }
            guard let message = r.string(cm["message"], "message") else {
                if cm["message"] == nil { r.error("missing-key", ["key": "message"], at: c) }
                continue
            }
            need(message, at: r.ref(cm["message"] ?? c))
            if cm["expect"] == nil { r.error("missing-key", ["key": "expect"], at: c) }
            guard let e = expr(cm["expect"], "expect", &r, scope: groups, role: .check, owner: id, expected: .bool,
                               valueType: kind.valueType) else { continue }
            checks.append(Check(expect: e, soft: r.bool(cm["soft"], "soft") ?? false, message: message, source: r.ref(c)))
        }
        return .question(Question(id: id, kind: kind, text: text, help: help, required: r.bool(m["required"], "required") ?? true,
                                  declinable: r.bool(m["decline"], "decline") ?? false, audience: audience,
                                  personal: r.bool(m["personal"], "personal") ?? false, format: format,
                                  openEnded: openEnded, when: when, derive: derive, variants: variants,
                                  checks: checks, source: r.ref(idNode)))
    }

    private mutating func readChoices(_ node: Node?, textKey: String, at parent: Node, _ r: inout YAMLReader) -> [Choice] {
        guard let node else {
            r.error("missing-key", ["key": "choices"], at: parent)
            return []
        }
        var out: [Choice] = []
        var seen: [String: SourceRef] = [:]
        for c in r.sequence(node, "choices") {
            var value: String?, label: String?, exclusive = false
            if case .mapping = c {
                guard let cm = r.members(c, allowed: ["value", "label", "exclusive"], what: "choice") else { continue }
                value = r.string(cm["value"], "value")
                label = r.string(cm["label"], "label")
                exclusive = r.bool(cm["exclusive"], "exclusive") ?? false
            } else {
                value = r.string(c, "choices")
            }
            guard let value else { continue }
            if let first = seen[value] {
                r.error("duplicate-choice", ["value": value, "first": first.description], at: c)
                continue
            }
            if value == "help" { r.error("reserved-choice", ["value": value], at: c) }
            seen[value] = r.ref(c)
            let key = label ?? "\(textKey).\(value)"
            need(key, at: r.ref(c))
            out.append(Choice(value: value, label: key, exclusive: exclusive))
        }
        if out.isEmpty { r.error("no-choices", at: node) }
        return out
    }
}
