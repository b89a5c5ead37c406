extension Dialog {
    /// The answers a later visit starts from, out of the client's earlier records (newest first):
    /// each top-level section from the newest record that holds it, with what was declined or
    /// skipped there. Records of other dialogs count where they share a section (a follow-up's
    /// plan and wishes, say). (The typed form of `carriedAnswers(records: [JSON])`, which the
    /// runtime no longer calls.)
    public func carriedAnswers(records: [IntakeRecord]) -> [Path: Answer] {
        var out: [Path: Answer] = [:]
        for item in items {
            guard case .section(let s) = item, s.carry else { continue }
            for record in records {
                guard record.answers[s.id] != nil else { continue }
                carry(s.items, record.answers, [], into: &out)
                for (list, answer) in [(record.declined, Answer.declined), (record.skipped, Answer.skipped)] {
                    for text in list {
                        if let p = parsePath(text), index.entries[p.id]?.sections.first == s.id, index.question(p.id) != nil {
                            out[p] = answer
                        }
                    }
                }
                break
            }
        }
        return out
    }

    private func carry(_ items: [Item], _ answers: RecordAnswers, _ outer: [Int], into out: inout [Path: Answer]) {
        for item in items {
            switch item {
            case .section(let s): carry(s.items, answers, outer, into: &out)
            case .question(let q):
                if let stored = recordValue(answers, q.id, indices: outer), let v = answerValue(stored, question: q.id) {
                    out[Path(q.id, outer)] = .value(v)
                }
            case .group(let g):
                let n = recordInstances(answers, group: g.id, outer: outer)
                if case .addAnother = g.count {
                    for i in g.min..<max(g.min, n) { out[.morePrompt(g.id, outer: outer, instance: i)] = .value(.bool(true)) }
                    if n < g.max { out[.morePrompt(g.id, outer: outer, instance: max(n, g.min))] = .value(.bool(false)) }
                }
                for i in 0..<n { carry(g.items, answers, outer + [i], into: &out) }
            case .end: continue
            }
        }
    }
}
