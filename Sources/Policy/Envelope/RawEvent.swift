import RecordHeaders

/// One header of a plant event (see `RecordHeader`, which `Kafka` calls `KafkaHeader`).
public typealias EventHeader = RecordHeader

/// A record as consumed from a topic, before any decoding. The router fills it from Kafka;
/// tests, the simulator and `policy explain` build it directly.
public struct RawEvent: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [EventHeader]

    public init(topic: String, partition: Int32 = 0, offset: Int64 = 0, timestampMs: Int64 = 0, key: [UInt8]?, value: [UInt8], headers: [EventHeader]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.key = key
        self.value = value
        self.headers = headers
    }

    public func header(_ name: String) -> [UInt8]? {
        headers.first { $0.name == name }?.value
    }
}
