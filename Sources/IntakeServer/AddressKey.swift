import NIOCore

/// What the per-address limits count by: a client's "address" as one machine holds it.
///
/// An IPv4 address is one address. An IPv6 host is usually given a whole /64 and may use any
/// address in it (privacy addresses change by the hour), so counting by the full IPv6 address
/// would give one host unlimited connections, starts and token guesses: IPv6 addresses count by
/// their /64. An IPv4 address mapped into IPv6 (`::ffff:192.0.2.1`, from a dual-stack listener)
/// counts as the IPv4 address it is. The key is also what a refusal logs, so the log names a
/// network, not one device, for IPv6 clients.
public enum AddressKey {
    public static func of(_ address: SocketAddress?) -> String {
        switch address {
        case .v4?:
            return address?.ipAddress ?? "unknown"
        case .v6(let a)?:
            let bytes = withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
            guard bytes.count == 16 else { return address?.ipAddress ?? "unknown" }
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
                return bytes[12...].map(String.init).joined(separator: ".")
            }
            // The first four groups, without leading zeros, as an address is written.
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        case .unixDomainSocket?, nil:
            return "unknown"
        }
    }
}
