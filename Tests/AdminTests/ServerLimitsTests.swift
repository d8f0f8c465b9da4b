import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServing
import Hummingbird
import Kafka
import Logging
import Policy
import Synchronization
import Testing

/// The limits both HTTP servers keep (`HTTPServerBuilder.boundedHTTP1`), on a real loopback
/// server: a connection past the ceiling is closed at once, an oversized header is refused.
@Suite(.serialized)
struct ServerLimitsTests {
    @Test func connectionsPastTheCeilingAreClosedAtOnce() async throws {
        let cap = ConnectionCap(limit: 2)
        try await Self.serve(cap: cap) { port in
            let held = try (0..<2).map { _ in try Socket(port: port) }
            try await Self.waitUntil { cap.count == 2 }
            // The third is accepted by the kernel, then closed by the server without a byte.
            let refused = try Socket(port: port)
            let sent = try await BlockingThread.run(name: "refused-read") { try refused.readToEnd() }
            #expect(sent.isEmpty)
            #expect(cap.count == 2)
            // Room again once one of the held connections goes.
            held[0].close()
            try await Self.waitUntil { cap.count == 1 }
            let admitted = try await Self.get(port: port)
            #expect(admitted.hasPrefix("HTTP/1.1 200"))
            held[1].close()
        }
    }

    @Test func oversizedHeadersAreRefused() async throws {
        try await Self.serve(cap: ConnectionCap(limit: 8)) { port in
            let big = String(repeating: "a", count: InputLimits.maxHTTPHeaderFieldBytes + 1)
            let refused = try await Self.get(port: port, header: "X-Big: \(big)")
            #expect(refused.hasPrefix("HTTP/1.1 400"))
            let fine = try await Self.get(port: port, header: "X-Fine: \(String(repeating: "a", count: 1024))")
            #expect(fine.hasPrefix("HTTP/1.1 200"))
        }
    }

    static func serve(cap: ConnectionCap, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/ping") { _, _ in "pong" }
        let bound = Mutex<Int?>(nil)
        let app = Application(
            router: router, server: .boundedHTTP1(cap: cap), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } }, logger: Logger(label: "server-limits-tests"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            try await waitUntil { bound.withLock { $0 } != nil }
            guard let port = bound.withLock({ $0 }) else { throw AdminNotListening() }
            defer { group.cancelAll() }
            try await body(port)
        }
    }

    /// `GET /ping` with one extra header line, over a raw socket off the cooperative pool.
    static func get(port: Int, header: String = "X-None: 0") async throws -> String {
        let request = Array("GET /ping HTTP/1.1\r\nHost: x\r\n\(header)\r\nConnection: close\r\n\r\n".utf8)
        let reply = try await BlockingThread.run(name: "raw-http") { try RawHTTP.exchange(request, port: port) }
        return String(decoding: reply, as: UTF8.self)
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw RawHTTP.Failure(description: "condition not reached within 30 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A connected loopback socket that sends nothing.
private final class Socket: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTP.Failure(description: "socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawHTTP.Failure(description: "connect failed: errno \(errno)") }
    }

    /// Everything until the server closes (a receive timeout throws).
    func readToEnd() throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return bytes }
            guard n > 0 else { throw RawHTTP.Failure(description: "recv failed: errno \(errno)") }
            bytes += chunk[..<n]
        }
    }

    func close() { _ = Glibc.close(fd) }
}
