import NIOCore
import Testing
@testable import IntakeServer

/// The per-address limits (connections, starts, wrong tokens) count an IPv6 client by its /64:
/// one host may use any address of its /64, and would otherwise have no limit at all.
@Suite struct AddressKeyTests {
    static func key(_ ip: String) throws -> String { AddressKey.of(try SocketAddress(ipAddress: ip, port: 40000)) }

    @Test func anIPv6HostCountsAsItsSlash64() throws {
        let first = try Self.key("2001:db8:0:12:1111:2222:3333:4444")
        #expect(first == "2001:db8:0:12::/64")
        // Another address of the same /64 (a privacy address, the next hour's) is the same client.
        #expect(try Self.key("2001:db8:0:12:abcd::1") == first)
        #expect(try Self.key("2001:db8::12:0:0:0:9") == first)
        // The next /64 is another.
        #expect(try Self.key("2001:db8:0:13::1") != first)
        #expect(try Self.key("::1") == "0:0:0:0::/64")
    }

    @Test func anIPv4AddressCountsAsItselfMappedOrNot() throws {
        #expect(try Self.key("192.0.2.7") == "192.0.2.7")
        #expect(try Self.key("192.0.2.8") == "192.0.2.8")
        #expect(try Self.key("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(AddressKey.of(nil) == "unknown")
    }
}
