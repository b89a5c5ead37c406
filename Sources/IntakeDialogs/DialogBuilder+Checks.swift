import IntakeEngine

extension DialogBuilder {
    /// What lint finds once the whole dialog is known: type errors and unknown names in
    /// expressions, conditions on questions asked later, questions that can never be asked,
    /// and locale keys missing in some language.
    mutating func checkSemantics(_ dialog: Dialog) {
        let index = dialog.index
        for p in pending {
            var checker = TypeChecker(index: index, settings: dialog.settings, scope: p.scope, valueType: p.valueType)
            _ = checker.check(p.expr, expecting: p.expected)
            diagnostics += checker.issues.map {
                Diagnostic($0.isWarning ? .warning : .error, $0.code, $0.args, at: p.locate($0.offset))
            }
            if case .literal(.bool(false)) = p.expr.node, p.role == .when {
                diagnostics.append(Diagnostic(.warning, "never-asked", ["id": p.owner ?? ""], at: p.at))
            }
            checkOrder(p, index)
        }
        checkEach(index)
        checkTranslations()
    }

    /// An `each:` group follows an earlier group at the same depth (so instance numbers line up).
    private mutating func checkEach(_ index: DialogIndex) {
        for e in eachSources {
            guard let entry = index.entries[e.source], case .group = entry.item else {
                var args = ["name": e.source]
                let groups = index.entries.compactMap { k, v -> String? in if case .group = v.item { return k } else { return nil } }
                if let s = Spelling.closest(to: e.source, in: groups) { args["suggestion"] = s }
                diagnostics.append(Diagnostic(.error, "each-not-a-group", args, at: e.at))
                continue
            }
            if entry.groups != e.groups {
                diagnostics.append(Diagnostic(.error, "each-other-depth", ["group": e.group, "source": e.source], at: e.at))
            } else if let own = index.entries[e.group]?.order, entry.order >= own {
                diagnostics.append(Diagnostic(.error, "forward-ref", ["name": e.source, "owner": e.group], at: e.at))
            }
        }
    }

    /// A condition may only read answers given before its item is reached.
    private mutating func checkOrder(_ p: PendingExpr, _ index: DialogIndex) {
        guard let owner = p.owner, let ownOrder = index.entries[owner]?.order else { return }
        var visiting: Set<String> = []
        for (name, offset) in p.expr.names {
            for (question, via) in dependencies(name, index, &visiting) {
                guard let entry = index.entries[question], entry.order >= ownOrder, question != owner || p.role != .check else { continue }
                // Inside a check, the question's own answer is `value`; later questions are unknown yet.
                let code = p.role == .check ? "check-reads-later" : (via == nil ? "forward-ref" : "forward-ref-computed")
                var args = ["name": question, "owner": owner]
                if let via { args["computed"] = via }
                diagnostics.append(Diagnostic(p.role == .check ? .warning : .error, code, args, at: p.locate(offset)))
            }
        }
    }

    /// Questions and groups an expression name depends on, through computed values.
    private func dependencies(_ name: String, _ index: DialogIndex, _ visiting: inout Set<String>) -> [(String, String?)] {
        if index.entries[name] != nil { return [(name, nil)] }
        guard let c = index.computed[name], visiting.insert(name).inserted else { return [] }
        var out: [(String, String?)] = []
        for (n, _) in c.expr.names {
            out += dependencies(n, index, &visiting).map { ($0.0, $0.1 ?? name) }
        }
        return out
    }

    private mutating func checkTranslations() {
        let locales = catalog.locales.filter { !$0.isEmpty }
        var reported: Set<String> = []
        for (key, at, optional) in neededKeys {
            let present = locales.filter { catalog.has(key, in: $0) }
            if optional && present.isEmpty { continue }
            for locale in locales where !present.contains(locale) {
                guard reported.insert(key + "\u{0}" + locale).inserted else { continue }
                diagnostics.append(Diagnostic(optional ? .warning : .error, "missing-translation", ["key": key, "locale": locale], at: at))
            }
        }
    }
}
