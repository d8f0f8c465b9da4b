@testable import Admin
import Policy
import Testing

/// What the admin audit log says about who sent a request: the peer it knows, and what the
/// client claims only labelled, shortened and without control characters.
struct AuditClientTests {
    @Test func peerIsAlwaysLoggedAndForwardedForOnlyAsAClaim() {
        #expect(RequireRole.client(peer: "[IPv4]10.0.0.7/10.0.0.7:51234", forwardedFor: nil) == "[IPv4]10.0.0.7/10.0.0.7:51234")
        #expect(RequireRole.client(peer: "10.0.0.7:1", forwardedFor: "10.9.9.9, admin-workstation")
            == "10.0.0.7:1 (claims X-Forwarded-For: 10.9.9.9, admin-workstation)")
    }

    @Test func forwardedForCannotFloodOrForgeTheLog() {
        let forged = RequireRole.client(peer: "p", forwardedFor: "1.2.3.4\n2026-12-08 allowed POST /v1/policy\r\u{7}")
        #expect(!forged.contains("\n") && !forged.contains("\r") && !forged.contains("\u{7}"))
        let flood = RequireRole.client(peer: "p", forwardedFor: String(repeating: "a", count: 70_000))
        #expect(flood == "p (claims X-Forwarded-For: \(String(repeating: "a", count: InputLimits.maxLoggedForwardedFor))…)")
    }
}
