import IntakeEngine

extension Project {
    /// Only the strings (no dialogs): for a command's messages where no dialog is loaded, e.g. why a
    /// database did not open. `localesDirectory` defaults as in `load(paths:localesDirectory:)`.
    public static func loadCatalog(paths given: [String], localesDirectory givenLocales: String? = nil,
                                   location: ProjectLocation = .current()) -> Catalog {
        var project = Project()
        var problems: [Diagnostic] = []
        let (paths, localesDirectory) = location.resolve(given, locales: givenLocales, problems: &problems)
        project.loadLocales(localesDirectory ?? defaultLocales(for: paths))
        return project.catalog
    }
}
