import Foundation
import IntakeEngine
import IntakeRuntime

/// Who a listed session is about: the client's name and its kana as her own answers hold them now
/// (the questions `name` and `kana`, FIELDS.md), and her number in the office. Nothing else of the
/// answers is read for a list.
struct ClientName: Equatable, Sendable {
    var name: String?
    var kana: String?

    var isEmpty: Bool { name == nil && kana == nil }

    /// The question ids that hold the client's name and its reading.
    static let nameID = "name", kanaID = "kana"

    /// The name and kana the log's answers hold at its end (the last change to each; a declined
    /// or withdrawn one is none).
    init(log: [LogEntry]) {
        for entry in log {
            for change in entry.answers ?? [] where change.path.indices.isEmpty {
                guard change.path.id == Self.nameID || change.path.id == Self.kanaID else { continue }
                var text: String?
                if case .value(.text(let t))? = change.entry?.answer {
                    let trimmed = t.trimmingCharacters(in: .whitespaces)
                    text = trimmed.isEmpty ? nil : trimmed
                }
                if change.path.id == Self.nameID { name = text } else { kana = text }
            }
        }
    }

    init(name: String? = nil, kana: String? = nil) {
        self.name = name
        self.kana = kana
    }

    /// Whether `query` (folded: hiragana = katakana, full = half width, case and spaces ignored)
    /// is part of the name or of the kana.
    func matches(_ query: String) -> Bool {
        let q = Self.folded(query)
        guard !q.isEmpty else { return false }
        return [name, kana].contains { $0.map { Self.folded($0).contains(q) } ?? false }
    }

    /// A name as it is compared: compatibility forms (half-width katakana, full-width letters and
    /// digits) to their usual ones, katakana to hiragana, lower case, without spaces or 中黒.
    static func folded(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for u in s.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            if u.properties.isWhitespace || u == "・" || u == "･" { continue }
            // ァ (U+30A1) … ヶ (U+30F6), ヽヾ (U+30FD, U+30FE): the hiragana 0x60 below.
            if (0x30A1...0x30F6).contains(u.value) || (0x30FD...0x30FE).contains(u.value),
               let h = Unicode.Scalar(u.value - 0x60) {
                out.append(h)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }
}

/// The client columns of a session list (`intake records list`, the REPL's `:records`): names read
/// from each listed session's log, and the search by client number or name.
enum ClientListing {
    struct Names: Sendable {
        /// By session id; a session that names nobody is absent.
        var names: [String: ClientName] = [:]
        /// The answers are sealed and no key opens them: no name could be read.
        var sealed = false
        /// Sessions whose log did not read (damage): listed apart, as the store's own list does.
        var damaged: [String] = []
    }

    /// The client's name for each of `sessions` (newest first). A session whose own answers name
    /// nobody (a later visit under `followup`) takes the name of the newest listed session of the
    /// same client (office and number).
    static func names(of sessions: [SessionInfo], in store: any Store) async throws -> Names {
        var result = Names()
        for s in sessions {
            do {
                let name = ClientName(log: try await store.log(of: s.id))
                if !name.isEmpty { result.names[s.id] = name }
            } catch RuntimeError.damaged {
                result.damaged.append(s.id)
            } catch Cipher.Failure.needsKey {
                result.sealed = true
                break
            } catch Cipher.Failure.cannotOpen {
                result.sealed = true
                break
            }
        }
        var byClient: [ClientKey: ClientName] = [:]
        for s in sessions {
            guard let client = s.client, let name = result.names[s.id], byClient[client] == nil else { continue }
            byClient[client] = name
        }
        for s in sessions where result.names[s.id] == nil {
            if let client = s.client, let name = byClient[client] { result.names[s.id] = name }
        }
        return result
    }

    /// Whether a session answers a search: `office` is its office exactly ("" the unnamed one),
    /// so that with it a client is matched by (office, number) as `ClientKey` names her; `client`
    /// is her number exactly (full-width digits fold), `name` part of her name or kana; `any` either.
    static func matches(_ s: SessionInfo, _ name: ClientName?, office: String? = nil, client: String?, nameQuery: String?,
                        any: String?) -> Bool {
        if let office, (s.office ?? "") != office { return false }
        if let client, s.clientID.map({ TextFolding.fold($0) }) != TextFolding.fold(client) { return false }
        if let nameQuery, !(name?.matches(nameQuery) ?? false) { return false }
        if let any {
            let byNumber = s.clientID.map { TextFolding.fold($0) == TextFolding.fold(any) } ?? false
            if !byNumber && !(name?.matches(any) ?? false) { return false }
        }
        return true
    }

    /// The session's office as a list shows it: its name, or `unnamed` (the locale's word for the
    /// unnamed office, `""` or none). Shown, never acted on.
    static func office(of s: SessionInfo, unnamed: String) -> String {
        let office = s.office ?? ""
        return office.isEmpty ? unnamed : ControlCharacters.visible(office)
    }

    /// `山田 花子（やまだ はなこ）`, `山田 花子`, `（やまだ はなこ）`, or `—`; shown, never acted on.
    static func shown(_ name: ClientName?, none: String = "—") -> String {
        switch (name?.name, name?.kana) {
        case (let n?, let k?): return ControlCharacters.visible("\(n)（\(k)）")
        case (let n?, nil): return ControlCharacters.visible(n)
        case (nil, let k?): return ControlCharacters.visible("（\(k)）")
        case (nil, nil): return none
        }
    }
}
