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
}
