/// Moving a session to a new version of its dialog (it was suspended while the dialog changed).
extension Engine {
    /// A session taken under an earlier version, rebuilt under this dialog from its answers: an
    /// answer is kept when its question still exists (or was renamed, see `Dialog.renames`) and
    /// the answer still fits the question's kind; the others are set aside (the log keeps them) and
    /// named to the person, as are answers that no longer apply. Then the dialog goes on.
    ///
    /// At a kiosk an answer set aside is named only when the kiosk may see it: its question is in
    /// this dialog and not counselor-only, or its question is gone and the answer is one of
    /// `clientGiven` (the client gave it herself: whose a vanished question was cannot be told).
    public func migrate(answers: [Path: AnswerEntry], from state: SessionState, at now: Moment,
                        clientGiven: Set<Path> = []) -> Step {
        var new = SessionState(dialog: dialog, locale: state.locale, mode: state.mode, at: state.started)
        new.updated = now
        new.earlierVersions = (state.earlierVersions ?? []) + [state.dialogVersion]
        new.notes = state.notes
        new.revisit = state.revisit
        var setAside: [AnswerLine] = []
        for (path, entry) in answers.sorted(by: { $0.key < $1.key }) {
            if let kept = carried(path, entry) {
                new.setAnswer(kept.entry, at: kept.path)
                new.trail.append(kept.path)
            } else {
                let words: String
                switch entry.answer {
                case .value(let v): words = Self.plainWords(v)
                case .declined: words = catalog.text("engine.declined", state.locale)
                case .skipped: words = catalog.text("engine.skipped", state.locale)
                }
                let id = dialog.renames[path.id] ?? path.id
                let visible = dialog.index.question(id) != nil ? shows(Path(id, path.indices), in: new) : clientGiven.contains(path)
                if new.mode == .counselor || path.isPrompt || visible {
                    setAside.append(AnswerLine(number: setAside.count + 1, path: path.groupOfMorePrompt ?? path.id, context: [],
                                               question: path.id, answer: words))
                }
            }
        }
        var effects: [Effect] = [.notice(message("engine.dialog_changed", new))]
        if !setAside.isEmpty { effects.append(.dropped(setAside)) }
        advance(&new, at: now, into: &effects)
        return Step(state: new, effects: effects)
    }

    private func carried(_ path: Path, _ entry: AnswerEntry) -> (path: Path, entry: AnswerEntry)? {
        if let s = path.sectionOfCheck {
            guard case .section? = dialog.index.entries[s]?.item else { return nil }
            return (path, entry)
        }
        if let group = path.groupOfMorePrompt {
            let id = dialog.renames[group] ?? group
            guard let g = dialog.index.group(id), case .addAnother = g.count,
                  (dialog.index.entries[id]?.groups.count ?? -1) + 1 == path.indices.count else { return nil }
            return (Path.morePrompt(id, outer: Array(path.indices.dropLast()), instance: path.indices.last ?? 0), entry)
        }
        let id = dialog.renames[path.id] ?? path.id
        guard let q = dialog.index.question(id), dialog.index.entries[id]?.groups.count == path.indices.count else { return nil }
        switch entry.answer {
        case .declined:
            return q.declinable ? (Path(id, path.indices), entry) : nil
        case .skipped:
            return q.required ? nil : (Path(id, path.indices), entry)
        case .value(let v):
            guard case .success(let typed) = coerce(v, to: q.kind) else { return nil }
            return (Path(id, path.indices), AnswerEntry(.value(typed), at: entry.at))
        }
    }

    static func plainWords(_ v: Value) -> String {
        switch v {
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .decimal(let d): return String(d)
        case .text(let s), .choice(let s): return s
        case .date(let d): return d.iso
        case .choices(let c): return c.joined(separator: ", ")
        }
    }
}
