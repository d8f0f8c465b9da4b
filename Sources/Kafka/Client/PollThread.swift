import Foundation
import Synchronization

/// A dedicated OS thread that runs one blocking polling step again and again
/// until stopped, so librdkafka's blocking polls never occupy a thread of
/// Swift's cooperative pool.
public final class PollThread: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let joined = Atomic<Bool>(false)

    /// `step` should block for a bounded time (e.g. `rd_kafka_poll(rk, 100)`),
    /// which bounds how long `stop()` waits.
    public init(name: String, step: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            ThreadName.setCurrent(name)
            while !stopRequested.load(ordering: .acquiring) { step() }
            finished.signal()
        }
        thread.start()
    }

    /// Asks the thread to stop after its current step, without waiting; the
    /// only way to stop it from inside a step.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Asks the thread to stop and waits until its current step has returned.
    /// Call it from another thread; later calls return at once.
    public func stop() {
        requestStop()
        if !joined.exchange(true, ordering: .acquiringAndReleasing) { finished.wait() }
    }
}
