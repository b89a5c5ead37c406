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

    /// What a name in an expression refers to, in one lookup and without copying an entry (the
    /// evaluator's and the walk's hot path).
    enum NameRef: Sendable {
        /// A question inside `depth` repeat groups.
        case question(Question, depth: Int)
        /// A repeat group inside `depth` other repeat groups.
        case group(RepeatGroup, depth: Int)
        /// A computed value (a name no item of the dialog has), boxed: every name looked up copies
        /// its reference, and a reference is one retain where the value's fields were several.
        case computed(Computed)
        case other
    }

    final class Computed: Sendable {
        let value: ComputedValue
        init(_ value: ComputedValue) { self.value = value }
    }

    /// The tables, built once and shared by every copy of the index: a walk and each evaluator
    /// hold the dialog's index, and copying it retains one reference, not six tables.
    private final class Tables: Sendable {
        let entries: [String: Entry]
        let refs: [String: NameRef]
        let follows: [String: String]
        let followers: [String: [String]]
        let computed: [String: ComputedValue]
        let questionOrder: [String]

        init(_ b: Builder) {
            entries = b.entries
            follows = b.follows
            followers = b.followers
            computed = b.computed
            questionOrder = b.questionOrder
            var refs = b.refs
            for (id, c) in b.computed where refs[id] == nil { refs[id] = .computed(Computed(c)) }
            self.refs = refs
        }
    }

    private let tables: Tables

    public var entries: [String: Entry] { tables.entries }
    /// Every item's id, and every computed value's that no item has.
    var refs: [String: NameRef] { tables.refs }
    /// An `each:` group → the group it follows.
    public var follows: [String: String] { tables.follows }
    /// A group → the `each:` groups that follow it.
    public var followers: [String: [String]] { tables.followers }
    /// Computed values by id: the dialog's, and those of every repeat group (their `groups` set).
    public var computed: [String: ComputedValue] { tables.computed }
    /// Question ids in dialog order.
    public var questionOrder: [String] { tables.questionOrder }

    init(items: [Item], computed: [ComputedValue]) {
        var b = Builder()
        var order = 0
        b.add(items, groups: [], sections: [], order: &order)
        for c in computed where b.computed[c.id] == nil { b.computed[c.id] = c }
        tables = Tables(b)
    }

    private struct Builder {
        var entries: [String: Entry] = [:]
        var refs: [String: NameRef] = [:]
        var follows: [String: String] = [:]
        var followers: [String: [String]] = [:]
        var computed: [String: ComputedValue] = [:]
        var questionOrder: [String] = []

        mutating func add(_ items: [Item], groups: [String], sections: [String], order: inout Int) {
            for item in items {
                order += 1
                if entries[item.id] == nil {
                    entries[item.id] = Entry(item: item, groups: groups, sections: sections, order: order)
                    switch item {
                    case .question(let q): refs[item.id] = .question(q, depth: groups.count)
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
    }

    public func question(_ id: String) -> Question? {
        if case .question(let q, _)? = refs[id] { return q }
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
        if case .group(let g, _)? = refs[id] { return g }
        return nil
    }
}
