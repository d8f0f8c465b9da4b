/// Kafka protocol request types, for injecting errors into the embedded
/// cluster's handling of one kind of request.
public struct KafkaAPIKey: Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let produce = KafkaAPIKey(rawValue: 0)
    public static let fetch = KafkaAPIKey(rawValue: 1)
    public static let listOffsets = KafkaAPIKey(rawValue: 2)
    public static let metadata = KafkaAPIKey(rawValue: 3)
    public static let offsetCommit = KafkaAPIKey(rawValue: 8)
    public static let offsetFetch = KafkaAPIKey(rawValue: 9)
    public static let findCoordinator = KafkaAPIKey(rawValue: 10)
    public static let joinGroup = KafkaAPIKey(rawValue: 11)
    public static let heartbeat = KafkaAPIKey(rawValue: 12)
    public static let syncGroup = KafkaAPIKey(rawValue: 14)
    public static let initProducerID = KafkaAPIKey(rawValue: 22)
    public static let addPartitionsToTransaction = KafkaAPIKey(rawValue: 24)
    public static let addOffsetsToTransaction = KafkaAPIKey(rawValue: 25)
    public static let endTransaction = KafkaAPIKey(rawValue: 26)
    public static let transactionOffsetCommit = KafkaAPIKey(rawValue: 28)
}
