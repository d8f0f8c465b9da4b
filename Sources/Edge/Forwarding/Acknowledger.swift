import Foundation
import Logging
import Synchronization

/// Marks delivered events gone in the spool on a thread of its own (`edge-acknowledger`), so the
/// forwarder's thread only claims and produces. An acknowledgement is a write transaction; with
/// claims, production and acknowledgements on one thread the drain ran at 0.55x the produce
/// loop (plantrouter-bench edge), with the forwarder's thread the bottleneck.
///
/// Batching: what is submitted goes in one transaction once `batch` events wait, when nothing
/// is in flight any more, or after `delay`: a crash repeats at most those (same `ce_id`). Fewer,
/// larger transactions cost less per event (2,000 events or 10 ms: the drain at 0.50-0.66x the
/// produce loop; 10,000 or 50 ms: 0.63-0.68x). `flush` waits until everything submitted so far
/// is written (or has failed, which is logged: those events stay spooled and are sent again).
final class Acknowledger: Sendable {
    static let batch = 10_000
    static let delay: DispatchTimeInterval = .milliseconds(50)

    private let spool: Spool
    private let logger: Logger
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    private struct Queue {
        var pending: [DeliveredEvent] = []
        var submitted = 0
        var written = 0
        var stopping = false
    }

    init(spool: Spool, logger: Logger) {
        self.spool = spool
        self.logger = logger
    }

    func start() {
        let thread = Thread { [self] in
            self.loop()
            self.finished.signal()
        }
        thread.name = "edge-acknowledger"
        thread.start()
    }

    /// `idle`: nothing is in flight any more, so write now (the spool's depth then shows the
    /// drain's end at once).
    func submit(_ delivered: [DeliveredEvent], idle: Bool) {
        guard !delivered.isEmpty else { return }
        let full = queue.withLock { queue in
            queue.pending += delivered
            queue.submitted += delivered.count
            return queue.pending.count >= Self.batch
        }
        if full || idle { wake.signal() }
    }

    /// Returns once everything submitted before the call is written (or failed and was logged).
    func flush() {
        let target = queue.withLock { $0.submitted }
        wake.signal()
        while queue.withLock({ $0.written }) < target { Thread.sleep(forTimeInterval: 0.001) }
    }

    /// Flushes, then ends the thread.
    func stop() {
        queue.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    private func loop() {
        while true {
            _ = wake.wait(timeout: .now() + Self.delay)
            let (batch, stopping) = queue.withLock { queue in
                let batch = queue.pending
                queue.pending.removeAll(keepingCapacity: true)
                return (batch, queue.stopping)
            }
            if !batch.isEmpty {
                do {
                    try spool.acknowledge(batch)
                } catch {
                    // Still spooled: sent again (same ce_id) after the next reset or restart.
                    logger.error("edge spool: cannot mark \(batch.count) delivered events gone: \(error)")
                }
                queue.withLock { $0.written += batch.count }
            }
            if stopping, batch.isEmpty { return }
        }
    }
}
