/// The current value of one work order on the compacted MES topic.
public struct WorkOrderRow: Sendable, Hashable, Codable {
    public var id: String
    public var asset: String
    public var line: String
    public var status: String
    /// The work order's JSON body as read from the topic (checked to be valid JSON).
    public var payload: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64

    public init(
        id: String, asset: String, line: String, status: String, payload: String,
        sourcePartition: Int32, sourceOffset: Int64
    ) {
        self.id = id
        self.asset = asset
        self.line = line
        self.status = status
        self.payload = payload
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
    }
}

/// One record of the compacted work-order topic: a new value, or a tombstone.
public enum WorkOrderChange: Sendable, Hashable {
    case upsert(WorkOrderRow)
    case remove(id: String, partition: Int32, offset: Int64)

    var partition: Int32 {
        switch self {
        case let .upsert(row): row.sourcePartition
        case let .remove(_, partition, _): partition
        }
    }

    var offset: Int64 {
        switch self {
        case let .upsert(row): row.sourceOffset
        case let .remove(_, _, offset): offset
        }
    }
}
