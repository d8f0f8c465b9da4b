import Foundation

/// Runs blocking work (librdkafka polls, waits for delivery reports) on a thread of its
/// own and resumes the caller when it returns, so Swift's cooperative pool never blocks.
public enum BlockingThread {
    public static func run<Result: Sendable>(
        name: String, _ body: @escaping @Sendable () throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                ThreadName.setCurrent(name)
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.start()
        }
    }
}
