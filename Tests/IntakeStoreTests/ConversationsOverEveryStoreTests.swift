import Foundation
import IntakeDialogs
import IntakeEngine
import IntakeRuntime
import IntakeTesting
import Testing

/// Every test conversation of Dialogs/ (a first visit), run again through the session runner on
/// each store: what the store keeps — the finished record, and the log that replays to the same
/// state — is exactly what the engine alone produced. So a dialog author's conversations prove the
/// record on SQLite and on PostgreSQL alike.
@Suite struct ConversationsOverEveryStoreTests {
    /// The conversations run once for every store (each runs three ways, which a debug build does
    /// slowly); each store then replays what they gave.
    static let suite = TestSuite.run(StoreTestProject.project)

    @Test(arguments: StoreKind.all) func everyConversationsRecordIsWhatTheStoreKeeps(_ kind: StoreKind) async throws {
        let project = StoreTestProject.project
        let suite = Self.suite
        let firstVisits = suite.results.filter { $0.passed && $0.conversation.previous == nil }
        #expect(firstVisits.count >= 20, "the conversations of Dialogs/ ran (\(firstVisits.count))")
        try await StoreConformanceTests.with(kind) { s in
            let store = s.store
            let outcomes = try await withThrowingTaskGroup(of: (String, String?).self) { group in
                for (n, result) in firstVisits.enumerated() {
                    group.addTask { (result.conversation.name, try await Self.replay(result, number: n, project: project, store: store)) }
                }
                var out: [(String, String?)] = []
                for try await o in group { out.append(o) }
                return out
            }
            for (name, problem) in outcomes { #expect(problem == nil, "\(name): \(problem ?? "")") }
            #expect(outcomes.count == firstVisits.count)
        }
    }

    /// Runs one conversation's inputs through a runner on `store`; nil when the store kept what the
    /// engine produced, else what differs.
    static func replay(_ result: ConversationResult, number: Int, project: Project, store: any Store) async throws -> String? {
        let c = result.conversation
        guard let dialog = project.dialog(c.dialog) else { return "unknown dialog" }
        let runner = SessionRunner(engine: Engine(dialog: dialog, catalog: project.catalog), store: store)
        var now = Moment.noon(of: c.today)
        let id = "conv-\(number)"
        var (session, _) = try await runner.start(id: id, token: ResumeToken(bytes: (0..<16).map { UInt8(truncatingIfNeeded: number >> ($0 % 4 * 8)) ^ UInt8($0) }),
                                                  locale: c.locale, mode: c.mode, actor: c.mode == .counselor ? .counselor("相談員") : .client, at: now)
        walk: for step in c.steps {
            now.epochMillis += 60_000
            let input: LineInput
            switch step {
            case .answer(_, let i, _): input = i
            case .command(let i, _): input = i
            case .expect: continue
            }
            switch input {
            case .event(let e):
                _ = try await runner.handle(e, in: &session, actor: c.mode == .counselor ? .counselor("相談員") : .client, at: now)
            case .quit:
                try await runner.suspend(&session, actor: .client, at: now)
                break walk
            case .help, .unknownCommand, .missingArgument:
                continue
            }
        }
        let log = try await store.log(of: id)
        guard try runner.replay(log) == session.state else { return "the stored log does not replay to the session's state" }
        let stored = try await store.record(of: id)
        if let record = result.record, case .done = session.state.phase {
            // A counselor's session names her (her identity) after its mode: the record sheet's 相談員.
            var expected = record.json
            if c.mode == .counselor, case .object(var members) = expected, let i = members.firstIndex(where: { $0.0 == "mode" }) {
                members.insert(("counselor", .string("相談員")), at: i + 1)
                expected = .object(members)
            }
            guard stored == expected else { return "the stored record differs from the engine's: \(stored?.rendered().prefix(300) ?? "none") vs \(expected.rendered().prefix(300))" }
        } else if stored != nil {
            return "a record was stored for a session that did not finish"
        }
        return nil
    }
}
