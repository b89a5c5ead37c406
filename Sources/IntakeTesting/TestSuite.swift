import Foundation
import IntakeDialogs
import IntakeEngine

/// Runs every conversation file of a project; optionally rewrites their `expect:` blocks.
public struct TestSuite: Sendable {
    public var results: [ConversationResult] = []
    /// Problems reading conversation files.
    public var diagnostics: [Diagnostic] = []
    public var updatedFiles: [String] = []
    /// Conversations whose expect: block `--update` rewrote: they count as failed, so that a
    /// re-recorded run never passes silently (re-run without --update to see it pass).
    public var rerecorded: [String] = []

    public var passed: Int { results.filter { $0.passed && !rerecorded.contains(Self.key($0.conversation)) }.count }
    public var failed: Int { results.count - passed + diagnostics.errorCount }

    static func key(_ c: Conversation) -> String { "\(c.file):\(c.source.line)" }

    /// `references`: more conversation files, not run or reported, whose conversations a `previous:`
    /// may name (a file tested alone whose later visits start from another file's conversations).
    /// `checksStateReadings`: see `ConversationRunner` (intake's own tests).
    public static func run(_ project: Project, update: Bool = false, references: [String] = [],
                           checksStateReadings: Bool = false) -> TestSuite {
        var suite = TestSuite()
        let runner = ConversationRunner(project: project, checksStateReadings: checksStateReadings)
        let files = project.conversationFiles.map { file in (file, ConversationParser.parse(file: file)) }
        var byName: [String: Conversation] = [:]
        for (_, (conversations, _)) in files { for c in conversations where byName[c.name] == nil { byName[c.name] = c } }
        // (A file both run and referenced adds nothing here: its names are taken already.)
        for file in references {
            for c in ConversationParser.parse(file: file).0 where byName[c.name] == nil { byName[c.name] = c }
        }
        // A later visit runs after the conversation it starts from (each is run once).
        var done: [String: ConversationResult] = [:]
        func result(_ c: Conversation, chain: [String] = []) -> ConversationResult {
            if let r = done[key(c)] { return r }
            var carrying: Carried?
            if let name = c.previous {
                guard let before = byName[name], !chain.contains(key(before)), before.file != c.file || before.source.line != c.source.line else {
                    var failed = ConversationResult(conversation: c, failure: nil, asked: [], suggestions: [],
                                                    actual: .init(status: nil, answers: [], declined: nil, skipped: nil, suggestions: nil, warnings: nil),
                                                    record: nil)
                    failed.failure = byName[name] == nil ? "previous: no conversation is named '\(name)'"
                                                         : "previous: '\(name)' leads back to this conversation"
                    return failed
                }
                let earlier = result(before, chain: chain + [key(c)])
                guard let record = earlier.record, earlier.passed, let dialog = project.dialog(c.dialog) else {
                    var failed = ConversationResult(conversation: c, failure: nil, asked: [], suggestions: [],
                                                    actual: .init(status: nil, answers: [], declined: nil, skipped: nil, suggestions: nil, warnings: nil),
                                                    record: nil)
                    failed.failure = "previous: '\(name)' did not pass, so this visit has no record to start from"
                    return failed
                }
                guard let typed = try? IntakeRecord(json: record.json) else {
                    var failed = ConversationResult(conversation: c, failure: nil, asked: [], suggestions: [],
                                                    actual: .init(status: nil, answers: [], declined: nil, skipped: nil, suggestions: nil, warnings: nil),
                                                    record: nil)
                    failed.failure = "previous: '\(name)' gave a record that does not read back as one"
                    return failed
                }
                carrying = Carried(previous: name, previousDate: before.today.iso, answers: dialog.carriedAnswers(records: [typed]))
            }
            let r = runner.run(c, carrying: carrying)
            done[key(c)] = r
            return r
        }
        // First visits do not depend on one another: they run side by side, one per core (each later
        // visit then runs after the conversation it starts from, in `result`).
        var firstVisits: [Conversation] = []
        var seen: Set<String> = []
        for (_, (conversations, _)) in files {
            for c in conversations where c.previous == nil && seen.insert(key(c)).inserted { firstVisits.append(c) }
        }
        for (c, r) in zip(firstVisits, inParallel(firstVisits) { runner.run($0) }) { done[key(c)] = r }
        for (file, (conversations, diagnostics)) in files {
            suite.diagnostics += diagnostics
            let results = conversations.map { result($0) }
            suite.results += results
            if update, diagnostics.errorCount == 0, results.contains(where: { !$0.passed || $0.conversation.expect == nil }) {
                // Only the expectations that failed are rewritten (and a conversation without one gets
                // its first): a passing conversation keeps its block as its author wrote it, and one that
                // fails before its end keeps its file as it is.
                let rewritable = results.filter {
                    $0.failure?.hasPrefix(ConversationRunner.recordDiffers) == true
                        || ($0.failure == nil && $0.conversation.expect == nil && $0.record != nil)
                }
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
                let updated = ExpectUpdater.rewrite(text, rewritable.map { ($0.conversation, $0.actual) },
                                                    starts: conversations.map(\.source.line))
                if updated != text, (try? updated.write(toFile: file, atomically: true, encoding: .utf8)) != nil {
                    suite.updatedFiles.append(file)
                    suite.rerecorded += rewritable.map { key($0.conversation) }
                }
            }
        }
        return suite
    }

    /// `body` applied to every item, on as many threads as the machine has cores; the results in
    /// the items' order.
    static func inParallel<T: Sendable, R: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) -> R) -> [R] {
        guard items.count > 1 else { return items.map(body) }
        let out = Slots<R>(items.count)
        DispatchQueue.concurrentPerform(iterations: items.count) { i in out.set(i, body(items[i])) }
        return out.filled
    }

    /// Results written from several threads, each into its own slot.
    private final class Slots<R: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [R?]
        init(_ count: Int) { items = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: R) {
            lock.lock()
            items[i] = r
            lock.unlock()
        }
        var filled: [R] {
            lock.lock()
            defer { lock.unlock() }
            return items.compactMap { $0 }
        }
    }

    /// Questions (and add-another prompts) and suggestion rules that no conversation reached, per dialog.
    public func unreached(_ project: Project) -> [(dialog: String, id: String, kind: String, source: SourceRef)] {
        var out: [(String, String, String, SourceRef)] = []
        for id in project.dialogs.keys.sorted() {
            guard let dialog = project.dialogs[id] else { continue }
            let mine = results.filter { (project.dialog($0.conversation.dialog)?.id) == id }
            let asked = mine.reduce(into: Set<String>()) { $0.formUnion($1.asked) }
            let fired = mine.reduce(into: Set<String>()) { $0.formUnion($1.suggestions) }
            for q in dialog.index.questionOrder where !asked.contains(q) {
                out.append((id, q, "question", dialog.index.entries[q]?.item.source ?? dialog.source))
            }
            for s in dialog.suggestions where !fired.contains(s.id) {
                out.append((id, s.id, "suggestion", s.source))
            }
        }
        return out
    }
}

/// Rewrites `expect:` blocks in a conversation file's text, leaving every other line as written.
enum ExpectUpdater {
    /// `starts`: the first line of every conversation in the file (not only the rewritten ones), so
    /// that a block goes to the end of its own conversation.
    static func rewrite(_ text: String, _ items: [(Conversation, Conversation.Expectation)], starts allStarts: [Int]? = nil) -> String {
        var lines = text.components(separatedBy: "\n")
        let starts = (allStarts ?? items.map { $0.0.source.line }).sorted()
        // From the bottom up, so earlier line numbers stay valid.
        for (c, given) in items.sorted(by: { $0.0.source.line > $1.0.source.line }) {
            // Computed values are checked only where the author listed them: the rewrite keeps those.
            var actual = given
            let listed = Set(c.expect?.computed.map(\.0) ?? [])
            actual.computed = given.computed.filter { listed.contains($0.0) }
            let indent = c.keyColumn - 1
            let start = c.source.line - 1
            let nextStart = starts.first { $0 > c.source.line }.map { $0 - 1 } ?? lines.count
            var end = nextStart
            while end > start + 1, lines[end - 1].trimmingCharacters(in: " ").isEmpty { end -= 1 }
            let block = ["\(String(repeating: " ", count: indent))expect:"] + ExpectationWriter.lines(actual, indent: indent + 2)
            if let expectLine = c.expectLine {
                let from = expectLine - 1
                var to = from + 1
                while to < end {
                    let line = lines[to]
                    let trimmed = line.trimmingCharacters(in: " ")
                    if !trimmed.isEmpty && line.prefix(while: { $0 == " " }).count <= indent { break }
                    to += 1
                }
                while to > from + 1, lines[to - 1].trimmingCharacters(in: " ").isEmpty { to -= 1 }
                lines.replaceSubrange(from..<to, with: block)
            } else {
                lines.insert(contentsOf: block, at: end)
            }
        }
        return lines.joined(separator: "\n")
    }
}
