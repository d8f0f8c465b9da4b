import Edge
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

    let url: URL
    let token: String
    let bodies: [(count: Int, body: Data)]
    let rate: Int
    private let state = Mutex(Progress())
    private let done = Atomic<Bool>(false)

    init(url: URL, token: String, events: Int, batch: Int, rate: Int) {
        self.url = url
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
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/cloudevents-batch+json", forHTTPHeaderField: "Content-Type")
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let status = (try? await URLSession.shared.data(for: request)).map { ($0.1 as? HTTPURLResponse)?.statusCode ?? 0 } ?? 0
            state.withLock { progress in
                if status == 202 { progress.accepted += count } else { progress.refused += count }
            }
        }
    }
}
