import IntakeEngine

extension Project {
    /// Only the strings (no dialogs): for a command's messages where no dialog is loaded, e.g. why a
    /// database did not open. `localesDirectory` defaults as in `load(paths:localesDirectory:)`.
    public static func loadCatalog(paths: [String], localesDirectory: String? = nil) -> Catalog {
        var project = Project()
        project.loadLocales(localesDirectory ?? defaultLocales(for: paths))
        return project.catalog
    }
}
