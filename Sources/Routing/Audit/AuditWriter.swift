import Foundation
import Kafka
import Ledger
import Logging
import Synchronization

/// Writes audit records and confirmed outputs to the ledger in batches on a
/// thread of its own, so SQLite never sits on a lane's hot path. Records are
/// written before the outputs that complete them, in the order handed in.
public final class AuditWriter: Sendable {
    private struct Pending {
        var records: [AuditRecord] = []
        var produced: [ProducedOutput] = []
        var isEmpty: Bool { records.isEmpty && produced.isEmpty }
    }

    private let ledger: Ledger
    private let logger: Logger
    private let pending = Mutex(Pending())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    public init(ledger: Ledger, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
        let thread = Thread { [self] in
            ThreadName.setCurrent("audit-writer")
            while running.load(ordering: .acquiring) {
                _ = wakeUp.wait(timeout: .now() + .milliseconds(200))
                flush()
            }
            flush()
            finished.signal()
        }
        thread.start()
    }

    func record(_ records: [AuditRecord]) {
        guard !records.isEmpty else { return }
        pending.withLock { $0.records += records }
    }

    func produced(_ outputs: [ProducedOutput]) {
        guard !outputs.isEmpty else { return }
        pending.withLock { $0.produced += outputs }
    }

    /// Writes what is queued and stops the writer thread.
    public func close() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        wakeUp.signal()
        finished.wait()
    }

    private func flush() {
        let batch = pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try ledger.append(batch.records)
            try ledger.recordProduced(batch.produced)
        } catch {
            // The audit trail is an index over Kafka data; losing a batch must not stop routing.
            logger.error("audit write failed, \(batch.records.count) records and \(batch.produced.count) outputs not recorded: \(error)")
        }
    }
}
