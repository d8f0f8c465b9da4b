import Foundation

/// An output the producer confirmed: where its idempotency key landed.
public struct ProducedOutput: Sendable, Hashable, Codable {
    public var idempotencyKey: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var producedAt: Date

    public init(idempotencyKey: String, topic: String, partition: Int32, offset: Int64, producedAt: Date = Date()) {
        self.idempotencyKey = idempotencyKey
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.producedAt = producedAt
    }
}
