import Foundation
import Testing

/// `records`, `export`, `report` and the REPL's `:records` read the database through the `Store`
/// protocol: what they print is what they printed when they read the SQLite file directly.
@Suite struct RecordsThroughStoreCommandTests {
    @Test func aRecordIsShownAndExportedAsStoredMembersInTheDialogsOrder() throws {
        let dir = try CLI.scratchProject()
        let answers = ["はい", "令和8年11月1日", "2", "ABC Care", "moved house", "3", "", "4", "no", "", "not yet", "2", ":finish"]
        let run = try CLI.run(["--dialog", "followup", "--counselor", "佐藤", "--client", "A", "--today", "2026-11-23"],
                              stdin: Data((answers.joined(separator: "\n") + "\n").utf8), in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require(try CLI.run(["records", "list"], in: dir).lines.first?.split(separator: "\t").first.map(String.init))
        let shown = try CLI.run(["records", "show", id], in: dir)
        #expect(shown.status == 0)
        // The engine's order (dialog, status, locale, mode, whose record it is, started, …), not sorted keys.
        #expect(shown.stdout.hasPrefix(#"{"dialog":{"id":"followup","version":"#))
        #expect(shown.stdout.contains(#""status":"complete","locale":"ja","mode":"counselor","client":"A","counselor":""#))
        // The counselor it names is the store's identity (here the operating-system account), never the typed name.
        #expect(!shown.stdout.contains("佐藤"))
        let ndjson = try CLI.run(["export", "--format", "ndjson"], in: dir)
        #expect(ndjson.stdout == shown.stdout)
        let json = try CLI.run(["records", "export", "--format", "json"], in: dir)
        #expect(json.stdout == "[" + shown.stdout.dropLast() + "]\n")
    }

    @Test func theREPLListsTheSessionsInItsDatabase() throws {
        let dir = try CLI.scratchProject()
        let out = try CLI.run(["--dialog", "followup", "--counselor", "佐藤", "--today", "2026-11-23"],
                              stdin: Data(":records\n:suspend\n".utf8), in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let id = try #require(try CLI.run(["records", "list"], in: dir).lines.first?.split(separator: "\t").first.map(String.init))
        #expect(out.stdout.contains("面談の一覧（新しい順。お名前と番号のほかの回答は表示しません）："))
        #expect(out.lines.contains { $0.hasPrefix("  \(id)  2026-11-23") && $0.contains("followup") && $0.hasSuffix(CLI.account) })
    }

    /// The intake dialog's answers in a counselor's interview up to the client's name and kana.
    static func upToName(_ name: String, _ kana: String) -> [String] {
        ["はい", "はい", "ハローワーク", "伝えてよい", "携帯電話", "090-1234-5678", "平日の昼間", "いいえ", name, kana]
    }

    /// Two clients interviewed up to their names and suspended, in a fresh project.
    static func twoClients() throws -> URL {
        let dir = try CLI.scratchProject()
        for (client, name, kana) in [("1024", "山田 花子", "やまだ はなこ"), ("2048", "田中 愛子", "タナカ アイコ")] {
            let run = try CLI.run(["--client", client, "--office", "川越", "--counselor", "佐藤", "--today", "2026-11-23"],
                                  stdin: Data(((upToName(name, kana) + [":suspend"]).joined(separator: "\n") + "\n").utf8), in: dir)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains("生年月日を教えてください"), "the name and kana were taken: \(run.stdout)")
        }
        return dir
    }

    static func rows(_ out: CLI.Output) -> [[String]] {
        out.lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test func theListShowsEachClientsNumberNameAndKanaAndFindsHerByEither() throws {
        let dir = try Self.twoClients()
        let all = try CLI.run(["records", "list"], in: dir)
        #expect(all.status == 0, "\(all.stderr)")
        // The last three columns: her number, name, kana (both started at the same noon: in either order).
        #expect(Set(Self.rows(all).map { Array($0.suffix(3)) }) == [["2048", "田中 愛子", "タナカ アイコ"], ["1024", "山田 花子", "やまだ はなこ"]])
        let yamada = try #require(Self.rows(all).first { $0.suffix(3).first == "1024" }?.first)
        // By number (full-width digits as typed), by name, by kana in the other script and width.
        for search in [["--client", "1024"], ["１０２４"], ["--name", "山田"], ["--name", "ﾔﾏﾀﾞ"], ["ヤマダ"], ["はなこ"]] {
            let found = try CLI.run(["records", "list"] + search, in: dir)
            #expect(found.status == 0)
            #expect(Self.rows(found).map(\.first) == [yamada], "\(search): \(found.stdout)")
        }
        // たなか finds the client whose kana was typed in katakana.
        #expect(Self.rows(try CLI.run(["records", "list", "たなか"], in: dir)).map { $0.suffix(3).first } == ["2048"])
        let none = try CLI.run(["records", "list", "--name", "佐々木"], in: dir)
        #expect(none.status == 0 && none.stdout.isEmpty)
        #expect(none.stderr.contains("No interview matches."))
        // Every listing that showed her name is in her access history; one that did not show her is not.
        let access = try CLI.run(["records", "access", yamada], in: dir)
        #expect(access.lines.count == 7, "\(access.stdout)")
        #expect(access.lines.allSatisfy { $0.hasSuffix("\t\(CLI.account)\tlist") })
    }

    @Test func theREPLListsAndFindsClientsByNumberOrName() throws {
        let dir = try Self.twoClients()
        let out = try CLI.run(["--counselor", "佐藤", "--today", "2026-11-23"],
                              stdin: Data(":records\n:records やまだ\n:records 2048\n:records 佐々木\n:quit\n".utf8), in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let listed = out.lines.filter { $0.hasPrefix("  s-") }
        // The new session (no name yet), then both clients; then each search finds one.
        #expect(listed.count == 5, "\(out.stdout)")
        #expect(listed.filter { $0.contains("  1024  山田 花子（やまだ はなこ）  ") }.count == 2)
        #expect(listed.filter { $0.contains("  2048  田中 愛子（タナカ アイコ）  ") }.count == 2)
        #expect(listed.prefix(3).filter { $0.contains("  —  —  ") }.count == 1, "\(listed)")
        #expect(out.stdout.contains("当てはまる面談はありません。"))
    }

    /// Issue 16: a client is her office and her number there. Client 1024 of 川越, of 所沢 and of
    /// the database's unnamed office, each interviewed up to her name and suspended.
    static func threeOfficesClient1024() throws -> URL {
        let dir = try CLI.scratchProject()
        for (office, name, kana) in [("川越", "山田 花子", "やまだ はなこ"), ("所沢", "鈴木 一美", "すずき かずみ"), (nil, "田中 愛子", "たなか あいこ")] {
            let run = try CLI.run(["--client", "1024"] + (office.map { ["--office", $0] } ?? []) + ["--counselor", "佐藤", "--today", "2026-11-23"],
                                  stdin: Data(((upToName(name, kana) + [":suspend"]).joined(separator: "\n") + "\n").utf8), in: dir)
            #expect(run.status == 0, "\(run.stderr)")
        }
        return dir
    }

    @Test func theListNamesEachClientsOfficeAndOfficeKeepsOneOfficesClients() throws {
        let dir = try Self.threeOfficesClient1024()
        let all = try CLI.run(["records", "list", "--client", "1024"], in: dir)
        #expect(all.status == 0, "\(all.stderr)")
        // Three clients 1024, told apart by their office (the unnamed office: —), the column before her number.
        #expect(Self.rows(all).allSatisfy { $0.count == 12 }, "\(all.stdout)")
        #expect(Set(Self.rows(all).map { Array($0.suffix(4)) })
                == [["川越", "1024", "山田 花子", "やまだ はなこ"], ["所沢", "1024", "鈴木 一美", "すずき かずみ"], ["—", "1024", "田中 愛子", "たなか あいこ"]])
        let ids = Dictionary(uniqueKeysWithValues: Self.rows(all).map { ($0[8], $0[0]) })
        let kawagoe = try #require(ids["川越"]), tokorozawa = try #require(ids["所沢"]), unnamed = try #require(ids["—"])
        // With --office, client 1024 is that office's client alone: by number, by name, or the office's whole list.
        for search in [["--office", "所沢", "--client", "1024"], ["--office", "所沢", "１０２４"], ["--office", "所沢", "--name", "すずき"], ["--office", "所沢"]] {
            let found = try CLI.run(["records", "list"] + search, in: dir)
            #expect(found.status == 0, "\(search): \(found.stderr)")
            #expect(Self.rows(found).map { [$0[0], $0[8]] } == [[tokorozawa, "所沢"]], "\(search): \(found.stdout)")
        }
        // '' is the unnamed office.
        #expect(Self.rows(try CLI.run(["records", "list", "--office", "", "--client", "1024"], in: dir)).map(\.first) == [unnamed])
        // Another office's client of that name is nobody here.
        let none = try CLI.run(["records", "list", "--office", "川越", "--name", "すずき"], in: dir)
        #expect(none.status == 0 && none.stdout.isEmpty)
        #expect(none.stderr.contains("No interview matches."))
        // A client of an office the filter leaves out is not listed, so not read: only the first list read 川越's.
        #expect(try CLI.run(["records", "access", kawagoe], in: dir).lines.count == 1)
        #expect(try CLI.run(["records", "access", tokorozawa], in: dir).lines.count == 5)
    }

    /// An office's name is shown inert, as every stored text is; the filter takes it as it was given.
    @Test func anOfficesNameIsShownNotActedOn() throws {
        let dir = try CLI.scratchProject()
        let office = "所沢\u{1B}[2J\u{202E}"
        let run = try CLI.run(["run", "--db", "intake.sqlite", "--client", "7", "--office", office, "--today", "2026-11-23"],
                              stdin: Data("いいえ\n".utf8), in: dir)
        #expect(run.status == 2, "\(run.stderr)")
        let list = try CLI.run(["records", "list", "--office", office], in: dir)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(Self.rows(list).map { Array($0.suffix(4)) } == [["所沢␛[2J⟨U+202E⟩", "7", "-", "-"]], "\(list.stdout)")
        #expect(!list.stdout.contains("\u{1B}") && !list.stdout.contains("\u{202E}"))
    }

    @Test func theREPLsListNamesEachClientsOffice() throws {
        let dir = try Self.threeOfficesClient1024()
        let out = try CLI.run(["--counselor", "佐藤", "--office", "川越", "--today", "2026-11-23"],
                              stdin: Data(":records 1024\n:quit\n".utf8), in: dir)
        #expect(out.status == 0, "\(out.stderr)")
        let listed = out.lines.filter { $0.hasPrefix("  s-") }
        #expect(listed.count == 3, "\(out.stdout)")
        for line in ["  川越  1024  山田 花子（やまだ はなこ）  ", "  所沢  1024  鈴木 一美（すずき かずみ）  ", "  —  1024  田中 愛子（たなか あいこ）  "] {
            #expect(listed.filter { $0.contains(line) }.count == 1, "\(line): \(listed)")
        }
    }

    /// A sealed database lists its sessions without the key, but not the names in its sealed
    /// answers: with the key they show; without it the list says why, and a name is not searched.
    @Test func aSealedDatabaseShowsAndSearchesNamesOnlyWithItsKey() throws {
        let dir = try CLI.scratchProject()
        let key = dir.appendingPathComponent("intake.key").path
        #expect(try CLI.run(["new-key", key]).status == 0)
        let run = try CLI.run(["--key", key, "--client", "1024", "--office", "川越", "--today", "2026-11-23"],
                              stdin: Data(((Self.upToName("山田 花子", "やまだ はなこ") + [":suspend"]).joined(separator: "\n") + "\n").utf8), in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let keyed = try CLI.run(["records", "list", "--key", key, "--name", "やまだ"], in: dir)
        #expect(keyed.status == 0, "\(keyed.stderr)")
        #expect(Self.rows(keyed).map { Array($0.suffix(3)) } == [["1024", "山田 花子", "やまだ はなこ"]])
        let bare = try CLI.run(["records", "list"], in: dir)
        #expect(bare.status == 0)
        #expect(Self.rows(bare).map { Array($0.suffix(3)) } == [["1024", "-", "-"]])
        #expect(bare.stderr.contains("Names are sealed and no key was given"))
        #expect(Self.rows(try CLI.run(["records", "list", "1024"], in: dir)).count == 1)
        let search = try CLI.run(["records", "list", "--name", "やまだ"], in: dir)
        #expect(search.status != 0)
        #expect(search.stdout.isEmpty)
        #expect(search.stderr.contains("sealed: give the key file with --key FILE"))
    }
}
