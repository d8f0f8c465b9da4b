import Foundation

/// How a replay sends events again (issue 5).
public enum ReplayMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Through the current policy, to whatever targets it picks now.
    case reroute
    /// The original bytes, to the original topic.
    case redrive
}

/// Which records a replay reads: a dead-letter topic or a source topic, over a range.
public struct ReplaySource: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case deadLetter
        case sourceTopic
    }

    public var kind: Kind
    public var topic: String
    public var range: ReplayRange

    public init(kind: Kind, topic: String, range: ReplayRange = .all) {
        self.kind = kind
        self.topic = topic
        self.range = range
    }
}

public enum ReplayRange: Sendable, Hashable, Codable {
    /// Everything the topic still retains.
    case all
    /// Records whose timestamp is in `from..<until` (an open end when `nil`).
    case time(from: Date?, until: Date?)
    /// Per partition, offsets in `from..<until`.
    case offsets([PartitionOffsets])
}

public struct PartitionOffsets: Sendable, Hashable, Codable {
    public var partition: Int32
    public var from: Int64
    /// Exclusive; `nil` means up to the high watermark when the job starts.
    public var until: Int64?

    public init(partition: Int32, from: Int64, until: Int64? = nil) {
        self.partition = partition
        self.from = from
        self.until = until
    }
}
