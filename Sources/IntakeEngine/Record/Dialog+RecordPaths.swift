/// Where a question's answer sits in a record's `answers`: the section keys and repeat groups on the
/// way, then the question's id.
public enum RecordStep: Sendable, Equatable {
    case key(String)
    case group(String)
}

extension Dialog {
    /// The steps from `answers` to a question's value (groups where an instance index goes).
    public func recordSteps(to id: String) -> [RecordStep]? {
        func search(_ items: [Item], _ trail: [RecordStep]) -> [RecordStep]? {
            for item in items {
                switch item {
                case .section(let s): if let found = search(s.items, trail + [.key(s.id)]) { return found }
                case .group(let g): if let found = search(g.items, trail + [.group(g.id)]) { return found }
                case .question(let q): if q.id == id { return trail + [.key(q.id)] }
                case .end: continue
                }
            }
            return nil
        }
        return search(items, [])
    }
}

extension Dialog {
    /// The value of question `id` in a typed record's answers, in the instance `indices` of its groups.
    public func recordValue(_ answers: RecordAnswers, _ id: String, indices: [Int] = []) -> RecordValue? {
        guard let steps = recordSteps(to: id) else { return nil }
        var node = RecordNode.section(answers)
        var next = indices.makeIterator()
        for step in steps {
            guard case .section(let members) = node else { return nil }
            switch step {
            case .key(let k):
                guard let v = members[k] else { return nil }
                node = v
            case .group(let g):
                guard case .group(let instances)? = members[g], let i = next.next(), i >= 0, i < instances.count else { return nil }
                node = .section(instances[i])
            }
        }
        if case .value(let v) = node { return v }
        return nil
    }

    /// How many instances a group has in a typed record's answers (inside `outer` instances).
    public func recordInstances(_ answers: RecordAnswers, group: String, outer: [Int] = []) -> Int {
        guard let g = index.group(group), let steps = recordSteps(to: g.id, asGroup: true) else { return 0 }
        var members = answers
        var next = outer.makeIterator()
        for step in steps {
            switch step {
            case .key(let k):
                guard case .section(let inner)? = members[k] else { return 0 }
                members = inner
            case .group(let name):
                guard case .group(let instances)? = members[name] else { return 0 }
                if name == group { return instances.count }
                guard let i = next.next(), i >= 0, i < instances.count else { return 0 }
                members = instances[i]
            }
        }
        return 0
    }

    /// The steps from `answers` to a group (ending with the group itself).
    func recordSteps(to group: String, asGroup: Bool) -> [RecordStep]? {
        func search(_ items: [Item], _ trail: [RecordStep]) -> [RecordStep]? {
            for item in items {
                switch item {
                case .section(let s): if let found = search(s.items, trail + [.key(s.id)]) { return found }
                case .group(let g):
                    if g.id == group { return trail + [.group(g.id)] }
                    if let found = search(g.items, trail + [.group(g.id)]) { return found }
                case .question, .end: continue
                }
            }
            return nil
        }
        return search(items, [])
    }

    /// A record's value as the answer it was, by the question's kind (nil: none, or not of that kind).
    public func answerValue(_ value: RecordValue, question id: String) -> Value? {
        guard let q = index.question(id) else { return nil }
        switch (q.kind, value) {
        case (.yesNo, .bool(let b)): return .bool(b)
        case (.integer, .int(let i)): return .int(i)
        case (.decimal, .int(let i)): return .decimal(Double(i))
        case (.decimal, .number(let d)): return .decimal(d)
        case (.integer, .number(let d)) where d == d.rounded() && abs(d) < 1e15: return .int(Int(d))
        case (.time, .int(let i)): return TimeParser.time(hours: Double(i))?.value
        case (.time, .number(let d)): return TimeParser.time(hours: d)?.value
        case (.text, .string(let s)), (.month, .string(let s)): return .text(s)
        case (.single, .string(let s)): return .choice(s)
        case (.date, .string(let s)): return CivilDate(iso: s).map(Value.date)
        case (.multi, .strings(let items)): return .choices(items)
        default: return nil
        }
    }
}
