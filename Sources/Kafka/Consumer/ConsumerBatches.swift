import Dispatch

/// Batches from a consumer polled on a dedicated thread, as an async sequence.
/// Polling waits while `bufferedBatches` batches are unread (backpressure) and
/// stops when the iterator is dropped.
public struct ConsumerBatches: AsyncSequence, Sendable {
    public typealias Element = ConsumerBatch

    let consumer: Consumer
    let maxRecords: Int
    let bufferedBatches: Int

    public func makeAsyncIterator() -> Iterator {
        let credits = DispatchSemaphore(value: bufferedBatches)
        let (stream, continuation) = AsyncThrowingStream<ConsumerBatch, any Error>.makeStream()
        let consumer = consumer
        let maxRecords = maxRecords
        let poller = Poller()
        poller.thread = PollThread(name: "kafka-consumer-poll") { [poller] in
            // Bounded waits keep the thread responsive to stop requests.
            guard credits.wait(timeout: .now() + .milliseconds(100)) == .success else { return }
            do {
                let batch = try consumer.poll(maxRecords: maxRecords, timeout: .milliseconds(100))
                if batch.isEmpty {
                    credits.signal()
                } else {
                    continuation.yield(batch)
                }
            } catch {
                continuation.finish(throwing: error)
                poller.thread?.requestStop()
            }
        }
        return Iterator(stream: stream.makeAsyncIterator(), credits: credits, poller: poller)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var stream: AsyncThrowingStream<ConsumerBatch, any Error>.AsyncIterator
        let credits: DispatchSemaphore
        let poller: Poller

        public mutating func next() async throws -> ConsumerBatch? {
            let batch = try await stream.next()
            credits.signal()
            return batch
        }
    }

    /// Owns the polling thread and stops it when the last iterator copy is gone.
    final class Poller: @unchecked Sendable {
        // Set once, right after creation, before the thread's first step can read it.
        var thread: PollThread?
        deinit { thread?.stop() }
    }
}
