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
/// produce loop; 10,000 or 50 ms: 0.63-0.68x). A transaction that fails is tried again (the
/// bits it sets are idempotent) every 100 ms until it succeeds; until then its events count as
/// unwritten. `flush` waits until everything submitted so far is written.
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
        /// Telemetry submitted and not yet written, bytes as the quota counts them.
        var telemetryBytes: Int64 = 0
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
        let filled = queue.withLock { queue in
            let before = queue.pending.count
            queue.pending += delivered
            queue.submitted += delivered.count
            for event in delivered where event.priority == .telemetry { queue.telemetryBytes += event.bytes }
            return before < Self.batch && queue.pending.count >= Self.batch
        }
        if filled || idle { wake.signal() }
    }

    /// Delivered telemetry not yet marked gone: still counted against the quota, and not
    /// sheddable, like telemetry in flight.
    var unwrittenTelemetryBytes: Int64 { queue.withLock { $0.telemetryBytes } }

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
                var failures = 0
                while true {
                    do {
                        try spool.acknowledge(batch)
                        break
                    } catch {
                        // Not written: tried again; meanwhile the events stay counted in the spool.
                        if failures == 0 { logger.error("edge spool: cannot mark \(batch.count) delivered events gone, trying again every 100 ms: \(error)") }
                        failures += 1
                        Thread.sleep(forTimeInterval: 0.1)
                    }
                }
                if failures > 0 { logger.notice("edge spool: marked \(batch.count) delivered events gone after \(failures) failed attempts") }
                let telemetry = batch.reduce(Int64(0)) { $0 + ($1.priority == .telemetry ? $1.bytes : 0) }
                queue.withLock {
                    $0.written += batch.count
                    $0.telemetryBytes -= telemetry
                }
            }
            if stopping, batch.isEmpty { return }
        }
    }
}
