import NIOConcurrencyHelpers
import NIOCore

/// The connections a server holds and the sessions they run, shared by every connection's task
/// (behind a lock): the connection limit, "one connection per session" (a resume elsewhere takes
/// the session over), and the shutdown broadcast.
final class Registry: Sendable {
    private struct State {
        var connections: [ObjectIdentifier: any Channel] = [:]
        /// Each admitted connection's address, and how many each address holds.
        var addresses: [ObjectIdentifier: String] = [:]
        var perAddress: [String: Int] = [:]
        var sessions: [String: ObjectIdentifier] = [:]
        var peak = 0
    }

    enum Admission: Equatable { case admitted, full, addressFull }

    private let state = NIOLockedValueBox(State())
    let maxConnections: Int
    let maxPerAddress: Int

    init(maxConnections: Int, maxPerAddress: Int = .max) {
        self.maxConnections = maxConnections
        self.maxPerAddress = maxPerAddress
    }

    /// Admits a connection unless the limit is reached, or its address holds its share already.
    func admit(_ channel: any Channel) -> Admission {
        let address = AddressKey.of(channel.remoteAddress)
        return state.withLockedValue { s in
            guard s.connections.count < maxConnections else { return .full }
            guard s.perAddress[address, default: 0] < maxPerAddress else { return .addressFull }
            let id = ObjectIdentifier(channel)
            s.connections[id] = channel
            s.addresses[id] = address
            s.perAddress[address, default: 0] += 1
            s.peak = max(s.peak, s.connections.count)
            return .admitted
        }
    }

    func remove(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { s in
            s.connections[id] = nil
            if let address = s.addresses.removeValue(forKey: id) {
                let left = s.perAddress[address, default: 1] - 1
                s.perAddress[address] = left > 0 ? left : nil
            }
            s.sessions = s.sessions.filter { $0.value != id }
        }
    }

    var count: Int { state.withLockedValue { $0.connections.count } }
    var peak: Int { state.withLockedValue { $0.peak } }

    /// Claims `session` for `owner`. Returns nil when claimed, else the channel that holds it.
    func claim(_ session: String, by owner: any Channel) -> (any Channel)? {
        let id = ObjectIdentifier(owner)
        return state.withLockedValue { s in
            if let holder = s.sessions[session], holder != id {
                // A holder that is gone releases implicitly.
                if let channel = s.connections[holder] { return channel }
            }
            s.sessions[session] = id
            return nil
        }
    }

    func release(_ session: String, by owner: any Channel) {
        let id = ObjectIdentifier(owner)
        state.withLockedValue { s in
            if s.sessions[session] == id { s.sessions[session] = nil }
        }
    }

    func holds(_ session: String) -> Bool {
        state.withLockedValue { $0.sessions[session] != nil }
    }

    /// The sessions held now.
    var sessionIDs: [String] { state.withLockedValue { Array($0.sessions.keys) } }

    /// Asks the connection holding `session` to check whether another process took it over.
    func checkHolder(of session: String) {
        let channel: (any Channel)? = state.withLockedValue { s in s.sessions[session].flatMap { s.connections[$0] } }
        channel?.pipeline.fireUserInboundEventTriggered(KioskSignal.heldElsewhere)
    }

    /// Tells every connection that the server stops (each suspends its session and says bye).
    func broadcastShutdown() {
        for channel in state.withLockedValue({ Array($0.connections.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(KioskSignal.shutdown)
        }
    }

    /// Closes whatever is still open (after the shutdown grace period).
    func closeAll() {
        for channel in state.withLockedValue({ Array($0.connections.values) }) {
            channel.close(promise: nil)
        }
    }
}
