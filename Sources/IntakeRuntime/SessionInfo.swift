import IntakeEngine

/// A session as the store lists it (no answers).
public struct SessionInfo: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case inProgress = "in_progress"
        case suspended
        case complete
        case stopped
    }

    public var id: String
    public var clientID: String?
    public var dialogID: String
    public var dialogVersion: String
    public var mode: SessionState.Mode
    public var locale: String
    public var status: Status
    public var startedAt: Int64
    public var updatedAt: Int64
    public var counselor: String?
    public var office: String?

    public init(id: String, clientID: String? = nil, dialogID: String, dialogVersion: String, mode: SessionState.Mode,
                locale: String, status: Status, startedAt: Int64, updatedAt: Int64, counselor: String? = nil, office: String? = nil) {
        self.id = id
        self.clientID = clientID
        self.dialogID = dialogID
        self.dialogVersion = dialogVersion
        self.mode = mode
        self.locale = locale
        self.status = status
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.counselor = counselor
        self.office = office
    }

    /// The client this session belongs to (nil: it names none): her office and her number there.
    public var client: ClientKey? { clientID.map { ClientKey(office: office, number: $0) } }
}

/// Who a client is: the office she is a client of and the number that office gave her. Two offices
/// that both have a client "1024" have two clients: carried-over answers, "what changed" and the
/// monthly list never cross from one to the other. A session without an office (a single office's
/// database, `--office` not given) belongs to the unnamed office, `""`.
public struct ClientKey: Hashable, Sendable, Comparable {
    public var office: String
    public var number: String

    public init(office: String?, number: String) {
        self.office = office ?? ""
        self.number = number
    }

    public static func < (a: ClientKey, b: ClientKey) -> Bool { (a.office, a.number) < (b.office, b.number) }
}
