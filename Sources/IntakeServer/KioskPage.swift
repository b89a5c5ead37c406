import Foundation
import IntakeEngine
import NIOCore
import NIOHTTP1

/// The kiosk's touch page: a few static files shipped with the package (the `Kiosk` folder of this
/// target, copied next to the binary as `intake_IntakeServer.resources/Kiosk`), read once at start
/// and served from memory, plus `/config.json` (the page's times and its own strings from Locales/).
/// Nothing else is served: any other path is 404, any other method 405.
public struct KioskPage: Sendable {
    struct File: Sendable {
        let body: ByteBuffer
        let contentType: String
    }

    /// Path → file. The set is fixed: the page is three files and its configuration.
    let files: [String: File]

    /// What the page needs besides its files.
    public struct Settings: Sendable {
        /// Seconds without a touch before the page warns, then how long its countdown lasts before
        /// the session is suspended and the welcome screen comes back.
        public var inactivitySeconds = 120
        public var warningSeconds = 30
        public init() {}
    }

    /// The page's files, by name, with the content type each is served as.
    static let pageFiles: [(name: String, path: String, contentType: String)] = [
        ("index.html", "/", "text/html; charset=utf-8"),
        ("kiosk.css", "/kiosk.css", "text/css; charset=utf-8"),
        ("kiosk.js", "/kiosk.js", "text/javascript; charset=utf-8"),
    ]

    /// Reads the page from `directory`; throws `PageError.missing` naming the first file not there.
    public init(directory: URL, catalog: Catalog, settings: Settings) throws {
        var files: [String: File] = [:]
        for f in Self.pageFiles {
            let url = directory.appendingPathComponent(f.name)
            guard let data = try? Data(contentsOf: url) else { throw PageError.missing(url.path) }
            files[f.path] = File(body: ByteBuffer(bytes: data), contentType: f.contentType)
        }
        files["/config.json"] = File(body: ByteBuffer(string: Self.configuration(catalog: catalog, settings: settings)),
                                     contentType: "application/json; charset=utf-8")
        self.files = files
    }

    /// The folder the page is read from when none is given: next to the running binary (where
    /// SwiftPM puts the target's resources), then `Sources/IntakeServer/Kiosk` under the current
    /// folder (a checkout).
    public static func defaultDirectory() -> URL? {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            candidates.append(executable.appendingPathComponent("intake_IntakeServer.resources/Kiosk"))
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            .appendingPathComponent("Sources/IntakeServer/Kiosk"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }

    public enum PageError: Error, CustomStringConvertible {
        case missing(String)
        public var description: String {
            switch self {
            case .missing(let path): return "the kiosk page's file \(path) is missing"
            }
        }
    }

    /// `{"inactivity_seconds":…,"warning_seconds":…,"locales":[…],"strings":{locale:{key:text}}}`:
    /// every `kiosk.*` string of every locale, with furigana as annotations for the page to show as ruby.
    static func configuration(catalog: Catalog, settings: Settings) -> String {
        let styled = catalog
        let locales = catalog.locales
        let strings: [(String, JSON)] = locales.map { locale in
            let keys = (catalog.strings[locale] ?? [:]).keys.filter { $0.hasPrefix("kiosk.") }.sorted()
            return (locale, .object(keys.map { ($0, .string(styled.text($0, locale))) }))
        }
        return JSON.object([
            ("inactivity_seconds", .int(settings.inactivitySeconds)),
            ("warning_seconds", .int(settings.warningSeconds)),
            ("locales", .array(locales.map(JSON.string))),
            ("strings", .object(strings)),
        ]).rendered()
    }

    /// The headers every response carries: nothing cached (a kiosk is shared by strangers), no
    /// inline script or style, no framing, no referrer, no type sniffing.
    static func securityHeaders() -> HTTPHeaders {
        HTTPHeaders([
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy",
             "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Connection", "close"),
        ])
    }

    /// The response to a request for `path` with `method`: status, headers and body.
    func response(method: HTTPMethod, uri: String) -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer) {
        var headers = Self.securityHeaders()
        // The query string is ignored: the page has no parameters.
        let path = String(uri.prefix { $0 != "?" && $0 != "#" })
        guard method == .GET || method == .HEAD else {
            headers.add(name: "Allow", value: "GET, HEAD")
            return Self.plain(.methodNotAllowed, headers)
        }
        guard let file = files[path] else { return Self.plain(.notFound, headers) }
        headers.add(name: "Content-Type", value: file.contentType)
        headers.add(name: "Content-Length", value: String(file.body.readableBytes))
        return (.ok, headers, method == .HEAD ? ByteBuffer() : file.body)
    }

    static func plain(_ status: HTTPResponseStatus, _ headers: HTTPHeaders) -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer) {
        var headers = headers
        let body = ByteBuffer(string: "\(status.code) \(status.reasonPhrase)\n")
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        return (status, headers, body)
    }
}
