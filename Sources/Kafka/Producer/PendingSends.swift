import Synchronization

/// Continuations of `Producer.send` calls waiting for their delivery report,
/// keyed by a token whose top bit marks it as ours rather than the caller's.
final class PendingSends: Sendable {
    static let marker: UInt64 = 1 << 63

    private let nextToken = Atomic<UInt64>(1)
    private let waiting = Mutex<[UInt64: CheckedContinuation<DeliveryReport, any Error>]>([:])

    static func owns(_ token: UInt64) -> Bool { token & marker != 0 }

    func register(_ continuation: CheckedContinuation<DeliveryReport, any Error>) -> UInt64 {
        let token = nextToken.wrappingAdd(1, ordering: .relaxed).oldValue | Self.marker
        waiting.withLock { $0[token] = continuation }
        return token
    }

    func complete(_ report: DeliveryReport) {
        guard let continuation = waiting.withLock({ $0.removeValue(forKey: report.token) }) else { return }
        if let error = report.error {
            continuation.resume(throwing: error)
        } else {
            continuation.resume(returning: report)
        }
    }

    func fail(_ token: UInt64, with error: KafkaError) {
        waiting.withLock { $0.removeValue(forKey: token) }?.resume(throwing: error)
    }
}
