/// "Did you mean …?" for misspelt keys, names and choice values.
public enum Spelling {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let limit = max(1, min(3, word.count / 3))
        var best: (String, Int)?
        for c in candidates.sorted() where c != word {
            let d = distance(word, c)
            guard d <= limit else { continue }
            if let b = best, d >= b.1 { continue }
            best = (c, d)
        }
        if best == nil, word.count >= 3 {
            // A shared stem catches plurals and abbreviations: 'child' and 'childs' → 'children'.
            let stem = max(3, word.count * 2 / 3)
            best = candidates.sorted().first { c in
                c.hasPrefix(word) || zip(c, word).prefix { $0 == $1 }.count >= stem
            }.map { ($0, 0) }
        }
        return best?.0
    }

    /// Levenshtein distance over characters.
    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var prev = Array(0...y.count)
        var cur = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            cur[0] = i
            for j in 1...y.count {
                cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[y.count]
    }
}
