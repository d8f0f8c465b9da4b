import Admin
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
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
}

struct AdminNotListening: Error, CustomStringConvertible {
    var description: String { "the admin server did not report a listening port within 60 s" }
}
