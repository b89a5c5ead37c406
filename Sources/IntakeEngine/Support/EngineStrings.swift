/// Locale keys the engine itself shows (errors, yes/no, review words). Every locale must have them;
/// `intake lint` checks.
public enum EngineStrings {
    public static let keys: [String] = [
        "engine.add.max", "engine.add.not_possible", "engine.add.unknown", "engine.back.none", "engine.confirm.nothing",
        "engine.date", "engine.decline.not_allowed", "engine.dialog_changed", "engine.decline.words", "engine.declined", "engine.edit.unknown",
        "engine.finish.not_yet", "engine.finished", "engine.invalid.choice", "engine.invalid.date", "engine.invalid.decimal",
        "engine.invalid.email", "engine.invalid.exclusive", "engine.invalid.integer", "engine.invalid.month", "engine.invalid.max", "engine.invalid.min",
        "engine.invalid.no_such_day", "engine.invalid.phone", "engine.invalid.pick", "engine.ongoing.words",
        "engine.invalid.picks_max", "engine.invalid.picks_min", "engine.invalid.range", "engine.invalid.required",
        "engine.invalid.time", "engine.invalid.too_long", "engine.invalid.type", "engine.invalid.yesno", "engine.list_separator",
        "engine.locale.switched", "engine.locale.unknown", "engine.no", "engine.note.empty", "engine.note.saved",
        "engine.remove.min", "engine.remove.not_possible", "engine.remove.unknown", "engine.review.finish_or_edit", "engine.revisit.change", "engine.revisit.help",
        "engine.revisit.keep", "engine.revisit.question", "engine.revisit.started",
        "engine.skipped", "engine.yes", "text_safety.control_characters",
    ]
}
