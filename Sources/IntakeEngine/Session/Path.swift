/// Where an answer lives: a question id and the instance index (0-based) of each enclosing repeat
/// group, outermost first. People see it 1-based, e.g. `children[2].age` for the second child's age.
public struct Path: Hashable, Comparable, Sendable, Codable {
    public var id: String
    public var indices: [Int]

    public init(_ id: String, _ indices: [Int] = []) {
        self.id = id
        self.indices = indices
    }

    public static func == (a: Path, b: Path) -> Bool {
        a.indices == b.indices && a.id == b.id
    }

    /// Hashes the id's length and its first and last bytes, not every byte: answers are looked up
    /// at every step of every walk, and ids that share length and both ends are rare (equality
    /// still compares whole ids).
    public func hash(into h: inout Hasher) {
        let bytes = id.utf8
        let n = bytes.count
        var x = UInt64(truncatingIfNeeded: n)
        if n > 0 {
            x = x &* 1_099_511_628_211 ^ UInt64(bytes[bytes.startIndex])
            x = x &* 1_099_511_628_211 ^ UInt64(bytes[bytes.index(bytes.startIndex, offsetBy: n / 2)])
            x = x &* 1_099_511_628_211 ^ UInt64(bytes[bytes.index(before: bytes.endIndex)])
        }
        for i in indices { x = x &* 1_099_511_628_211 ^ UInt64(truncatingIfNeeded: i &+ 1) }
        h.combine(x)
    }

    public static func < (a: Path, b: Path) -> Bool {
        if a.indices != b.indices { return a.indices.lexicographicallyPrecedes(b.indices) }
        return a.id < b.id
    }

    /// The "add another?" prompt of `group` before its instance `instance`, inside `outer` instances.
    public static func morePrompt(_ group: String, outer: [Int], instance: Int) -> Path {
        Path(group + morePromptSuffix, outer + [instance])
    }

    static let morePromptSuffix = "+"

    /// (Its last byte first: most ids do not end in the suffix, and `hasSuffix` compares characters.)
    public var isMorePrompt: Bool { id.utf8.last == UInt8(ascii: "+") && id.hasSuffix(Path.morePromptSuffix) }
    public var groupOfMorePrompt: String? { isMorePrompt ? String(id.dropLast()) : nil }

    /// At a later visit, the question "is what you said last time in `section` still right?".
    public static func sectionCheck(_ section: String) -> Path {
        Path(section + sectionCheckSuffix)
    }

    static let sectionCheckSuffix = "?"

    public var isSectionCheck: Bool { id.utf8.last == UInt8(ascii: "?") && id.hasSuffix(Path.sectionCheckSuffix) }
    public var sectionOfCheck: String? { isSectionCheck ? String(id.dropLast()) : nil }
    /// A prompt the engine asks of its own (add another?, still right?), not a question of the dialog.
    public var isPrompt: Bool { isMorePrompt || isSectionCheck }
}

extension Dialog {
    /// `children[2].age`, `jobs[1].tasks[3].what`, `children+` (the add-another prompt), `name`.
    public func display(_ path: Path) -> String {
        if path.isSectionCheck { return path.id }
        let baseID = path.groupOfMorePrompt ?? path.id
        let groups = index.entries[baseID]?.groups ?? []
        var parts: [String] = []
        for (i, g) in groups.enumerated() {
            parts.append(i < path.indices.count ? "\(g)[\(path.indices[i] + 1)]" : g)
        }
        if let g = path.groupOfMorePrompt {
            let n = path.indices.last.map { $0 + 1 } ?? 1
            parts.append("\(g)+\(n)")
        } else {
            parts.append(path.id)
        }
        return parts.joined(separator: ".")
    }

    /// Reads what `display(_:)` writes; also a bare id for a question outside repeat groups, and
    /// `children[2]` for a whole instance (returned with the group's id).
    public func parsePath(_ text: String) -> Path? {
        var indices: [Int] = []
        var chain: [String] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var name = Substring(part)
            if name.hasSuffix("]"), let open = name.firstIndex(of: "[") {
                guard let n = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]), n >= 1 else { return nil }
                indices.append(n - 1)
                name = name[..<open]
            } else if let plus = name.firstIndex(of: "+") {
                guard let n = Int(name[name.index(after: plus)...]), n >= 1 else { return nil }
                let g = String(name[..<plus])
                guard index.group(g) != nil, index.entries[g]?.groups == chain else { return nil }
                return Path(g + Path.morePromptSuffix, indices + [n - 1])
            }
            guard !name.isEmpty else { return nil }
            chain.append(String(name))
        }
        guard let last = chain.last, let entry = index.entries[last] else { return nil }
        let expectedChain = entry.groups + [last]
        guard chain == expectedChain else { return nil }
        if case .group = entry.item {
            guard indices.count == entry.groups.count + 1 else { return nil }
        } else {
            guard indices.count == entry.groups.count else { return nil }
        }
        return Path(last, indices)
    }
}
