import Admin
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import HTTPServing
import Hummingbird
import Kafka
import Logging
import Policy
import Synchronization

/// The admin API served for real on a free loopback port, and a small HTTP client for it.
/// (Real HTTP rather than HummingbirdTesting: its live client pulls AsyncHTTPClient and TLS
/// into the build, minutes on this machine.)
struct LiveAdmin: Sendable {
    struct Reply: Sendable {
        var status: Int
        var body: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    }

    let port: Int

    static func serve(_ dependencies: AdminServer.Dependencies, _ body: @Sendable (LiveAdmin) async throws -> Void) async throws {
        let bound = Mutex<Int?>(nil)
        let app = Application(
            router: AdminServer.makeRouter(dependencies, logger: Logger(label: "admin-tests")),
            server: .boundedHTTP1(cap: ConnectionCap(limit: InputLimits.maxAdminConnections)),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } },
            logger: Logger(label: "admin-tests"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            // Generous: on 2 cores, parallel suites doing blocking Kafka set-up can hold the pool for a while.
            let deadline = ContinuousClock.now + .seconds(60)
            while bound.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            guard let port = bound.withLock({ $0 }) else { throw AdminNotListening() }
            defer { group.cancelAll() }
            try await body(LiveAdmin(port: port))
        }
    }

    func execute(_ method: String, _ path: String, token: String? = nil, authorization: String? = nil, body: String? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return Reply(status: (response as! HTTPURLResponse).statusCode, body: String(decoding: data, as: UTF8.self))
    }

    /// Sends `target` exactly as given in the request line (URLSession and curl normalise
    /// `/./`, `/../` and more), over a plain socket on a thread of its own.
    func raw(_ method: String, _ target: String, token: String? = nil, body: String? = nil) async throws -> Reply {
        var request = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        let payload = body ?? ""
        request += "Content-Type: application/json\r\nContent-Length: \(payload.utf8.count)\r\n\r\n\(payload)"
        let (bytes, port) = (Array(request.utf8), port)
        let response = try await BlockingThread.run(name: "raw-http") { try RawHTTP.exchange(bytes, port: port) }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first,
              let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw RawHTTP.Failure(description: "no HTTP status line in \(text.prefix(200))")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Reply(status: code, body: body)
    }
}

/// One HTTP/1.1 exchange over a blocking loopback socket: write the request, read to EOF.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A blocking socket connected to 127.0.0.1:`port`, whose reads give up after `timeoutSeconds`.
    /// The caller closes it.
    static func connect(port: Int, timeoutSeconds: Int = 30) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
        return fd
    }

    static func exchange(_ request: [UInt8], port: Int) throws -> [UInt8] {
        let fd = try connect(port: port)
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            sent += n
        }
        return try readToEnd(fd)
    }

    /// Everything `fd` receives until the peer closes (a receive timeout throws).
    static func readToEnd(_ fd: Int32) throws -> [UInt8] {
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return response }
            guard n > 0 else { throw Failure(description: "recv failed: errno \(errno) after \(response.count) bytes") }
            response += chunk[..<n]
        }
    }
}

struct AdminNotListening: Error, CustomStringConvertible {
    var description: String { "the admin server did not report a listening port within 60 s" }
}
