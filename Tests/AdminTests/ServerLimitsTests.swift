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
            try await Self.waitUntil("the server counting both held connections") { cap.count == 2 }
            // The third is accepted by the kernel, then closed by the server without a byte.
            let refused = try Socket(port: port)
            let sent = try await BlockingThread.run(name: "refused-read") { try refused.readToEnd() }
            #expect(sent.isEmpty)
            #expect(cap.count == 2)
            // Room again once one of the held connections goes.
            held[0].close()
            try await Self.waitUntil("the server releasing the closed connection") { cap.count == 1 }
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
            try await waitUntil("the server listening") { bound.withLock { $0 } != nil }
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

    /// Generous, like LiveAdmin's: on 2 cores, parallel suites doing blocking Kafka set-up can hold
    /// the cooperative pool (and with it the server's start) for tens of seconds.
    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw RawHTTP.Failure(description: "waited 60 s for \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A connected loopback socket that sends nothing.
private final class Socket: Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = try RawHTTP.connect(port: port, timeoutSeconds: 60)
    }

    /// Everything until the server closes (a receive timeout throws).
    func readToEnd() throws -> [UInt8] { try RawHTTP.readToEnd(fd) }

    func close() { _ = Glibc.close(fd) }
}
