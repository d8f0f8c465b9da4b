import Dispatch

/// Runs librdkafka calls that block for a long time (transaction commits,
/// admin requests, metadata queries) on a dedicated dispatch queue instead of
/// Swift's cooperative pool, and resumes the caller when they return.
enum BlockingCall {
    private static let queue = DispatchQueue(label: "plantrouter.kafka.blocking", attributes: .concurrent)

    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }
}
