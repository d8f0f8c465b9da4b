import Edge
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PlantSimulation
import Policy
import Synchronization

/// The demo's line gateway: the simulated plant's events as structured CloudEvents in
/// `cloudevents-batch+json` requests, paced to `rate` events/s. A 503 (business quota) is
/// counted and not retried, so the demo ends; a real gateway keeps the events and retries.
final class DemoGateway: Sendable {
    struct Progress: Sendable {
        var accepted = 0
        var refused = 0
    }

    let port: Int
    let token: String
    let bodies: [(count: Int, body: Data)]
    let rate: Int
    private let state = Mutex(Progress())
    private let done = Atomic<Bool>(false)

    init(port: Int, token: String, events: Int, batch: Int, rate: Int) {
        self.port = port
        self.token = token
        self.rate = rate
        var configuration = PlantSimulator.Configuration()
        configuration.count = events
        let all = Array(PlantSimulator(configuration).events().prefix(events))
        bodies = stride(from: 0, to: all.count, by: batch).map { start in
            let slice = all[start..<min(start + batch, all.count)]
            return (slice.count, Data(("[" + slice.map(\.structuredCloudEvent).joined(separator: ",") + "]").utf8))
        }
    }

    var progress: Progress { state.withLock { $0 } }
    var finished: Bool { done.load(ordering: .relaxed) }

    func send() async {
        defer { done.store(true, ordering: .relaxed) }
        let start = ContinuousClock.now
        var sent = 0
        for (count, body) in bodies {
            if Task.isCancelled { return }
            // Paced: request n leaves when the plant has produced its events.
            let due = start + .milliseconds(sent * 1000 / rate)
            if due > ContinuousClock.now { try? await Task.sleep(until: due) }
            sent += count
            let status = await post(body)
            state.withLock { progress in
                if status == 202 { progress.accepted += count } else { progress.refused += count }
            }
        }
    }

    /// POSTs one batch to the edge on loopback: its HTTP status, 0 when the request failed.
    ///
    /// On SwiftNIO, which Hummingbird already brings, rather than URLSession: that would link
    /// FoundationNetworking, and with it libcurl, GnuTLS, Kerberos and LDAP, into every
    /// `plantrouter` process (4 MB resident in `plantrouter run`) for this one loopback request.
    private func post(_ body: Data) async -> Int {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { responses, requests in
                var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/events")
                head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
                head.headers.add(name: "Content-Type", value: "application/cloudevents-batch+json")
                head.headers.add(name: "Authorization", value: "Bearer \(token)")
                head.headers.add(name: "Content-Length", value: String(body.count))
                head.headers.add(name: "Connection", value: "close")
                try await requests.write(.head(head))
                try await requests.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                try await requests.write(.end(nil))
                var status = 0
                for try await part in responses {
                    if case .head(let response) = part { status = Int(response.status.code) }
                    if case .end = part { break }
                }
                return status
            }
        } catch {
            return 0
        }
    }
}
