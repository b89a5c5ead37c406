/// A 64-bit FNV-1a hash of a sequence of strings, each length-prefixed so that no two different
/// sequences run together into the same bytes. It tells whether what an engine was built from
/// changed (a dialog edited without a new version, an office's settings, a locale's labels); it is
/// not a defence against anyone who can write the database (the store's hash chain is).
public struct Fingerprint: Sendable {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ text: String) {
        var count = UInt64(text.utf8.count)
        for _ in 0..<8 {
            mix(UInt8(truncatingIfNeeded: count))
            count >>= 8
        }
        let done: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes { mix(byte) }
            return true
        }
        if done == nil {
            for byte in text.utf8 { mix(byte) }
        }
    }

    private mutating func mix(_ byte: UInt8) {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }

    /// Sixteen lowercase hex digits.
    public var hex: String {
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension Engine {
    /// What the engine was built from, as a fingerprint: the dialog's source files
    /// (`Dialog.sourceFingerprint`, set by the loader), its id, version, settings (an office's
    /// overrides included) and renames, and every string of the catalog (typed answers are read
    /// through its labels and words). Two engines with the same fingerprint replay a log to the same
    /// state; a saved state taken under another fingerprint may not be what a replay gives now.
    /// It also covers `stepsVersion`, so that a snapshot taken before an upgrade that changes
    /// where a step leads is passed over too. Computed when asked (it reads the whole catalog):
    /// `SessionRunner` keeps it.
    public var fingerprint: String { Engine.fingerprint(of: dialog, catalog) }

    /// The version of how the engine takes a step. Raise it with any change to the engine after
    /// which some step of some session ends in another state (a snapshot is a shortcut through the
    /// log, and the log replayed by this engine is what counts). 2: answers whose condition waits
    /// on an answer still to come are held, not dropped (2026-12-07).
    static let stepsVersion = 2

    static func fingerprint(of dialog: Dialog, _ catalog: Catalog, steps: Int = stepsVersion) -> String {
        var f = Fingerprint()
        f.add("intake engine \(steps)")
        f.add(dialog.id)
        f.add(dialog.version)
        f.add(dialog.sourceFingerprint ?? "")
        for key in dialog.settings.keys.sorted() {
            f.add(key)
            f.add(String(describing: dialog.settings[key]))
            for (locale, text) in (dialog.settingTexts[key] ?? [:]).sorted(by: { $0.key < $1.key }) {
                f.add(locale)
                f.add(text)
            }
        }
        for old in dialog.renames.keys.sorted() {
            f.add(old)
            f.add(dialog.renames[old] ?? "")
        }
        f.add(catalog.fallback)
        for locale in catalog.strings.keys.sorted() {
            f.add(locale)
            guard let strings = catalog.strings[locale] else { continue }
            for key in strings.keys.sorted() {
                f.add(key)
                f.add(strings[key] ?? "")
            }
        }
        return f.hex
    }
}
