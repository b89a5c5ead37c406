/// Lookup tables over a dialog tree: where each question and group sits (its enclosing repeat
/// groups and section), in the order the dialog asks them.
public struct DialogIndex: Sendable {
    public struct Entry: Sendable {
        public var item: Item
        /// Ids of the enclosing repeat groups, outermost first.
        public var groups: [String]
        /// Ids of the enclosing sections, outermost first.
        public var sections: [String]
        /// Position in a depth-first walk of the dialog.
        public var order: Int
    }

    /// What a name in an expression refers to, without copying an entry (the evaluator's hot path).
    enum NameRef: Sendable {
        /// A question inside `depth` repeat groups.
        case question(depth: Int)
        /// A repeat group inside `depth` other repeat groups.
        case group(RepeatGroup, depth: Int)
        case other
    }

    public private(set) var entries: [String: Entry] = [:]
    private(set) var refs: [String: NameRef] = [:]
    /// An `each:` group → the group it follows.
    public private(set) var follows: [String: String] = [:]
    /// A group → the `each:` groups that follow it.
    public private(set) var followers: [String: [String]] = [:]
    /// Computed values by id: the dialog's, and those of every repeat group (their `groups` set).
    public private(set) var computed: [String: ComputedValue] = [:]
    /// Question ids in dialog order.
    public private(set) var questionOrder: [String] = []

    init(items: [Item], computed: [ComputedValue]) {
        var order = 0
        add(items, groups: [], sections: [], order: &order)
        for c in computed where self.computed[c.id] == nil { self.computed[c.id] = c }
    }

    private mutating func add(_ items: [Item], groups: [String], sections: [String], order: inout Int) {
        for item in items {
            order += 1
            if entries[item.id] == nil {
                entries[item.id] = Entry(item: item, groups: groups, sections: sections, order: order)
                switch item {
                case .question: refs[item.id] = .question(depth: groups.count)
                case .group(let g): refs[item.id] = .group(g, depth: groups.count)
                case .section, .end: refs[item.id] = .other
                }
            }
            switch item {
            case .section(let s): add(s.items, groups: groups, sections: sections + [s.id], order: &order)
            case .group(let g):
                if case .each(let source) = g.count {
                    follows[g.id] = source
                    followers[source, default: []].append(g.id)
                }
                for var c in g.computed where computed[c.id] == nil {
                    c.groups = groups + [g.id]
                    computed[c.id] = c
                }
                add(g.items, groups: groups + [g.id], sections: sections, order: &order)
            case .question(let q): questionOrder.append(q.id)
            case .end: break
            }
        }
    }

    public func question(_ id: String) -> Question? {
        if case .question(let q)? = entries[id]?.item { return q }
        return nil
    }

    /// Whether two groups walk the same instances (the same group, or one follows the other).
    public func sameInstances(_ a: String, _ b: String) -> Bool {
        a == b || follows[a] == b || follows[b] == a || (follows[a] != nil && follows[a] == follows[b])
    }

    /// Whether a name inside `groups` (a question's, a per-instance value's) can be read in one
    /// instance from `scope`: each of its groups walks the same instances as the scope's there.
    public func isVisible(_ groups: [String], from scope: [String]) -> Bool {
        groups.count <= scope.count && zip(scope, groups).allSatisfy { sameInstances($0, $1) }
    }

    public func group(_ id: String) -> RepeatGroup? {
        if case .group(let g)? = entries[id]?.item { return g }
        return nil
    }
}
