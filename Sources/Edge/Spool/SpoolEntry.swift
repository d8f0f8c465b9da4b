import Foundation
import Kafka

/// One event on its way out of the plant, as spooled: the exact bytes to produce and where to.
public struct SpoolEntry: Sendable, Equatable {
    /// Its row and place in the row: arrival order within a class.
    public var position: SpoolPosition
    public var priority: PriorityClass
    public var lane: String
    /// The enterprise topic: the plant source topic, or the lane's dead-letter topic.
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// The CloudEvents `ce_id` (kept unchanged through the spool and the producer).
    public var eventID: String
    public var arrivedMs: Int64

    /// What an entry counts against its class's quota.
    public var bytes: Int64 { Self.size(key: key, value: value, headers: headers) }

    static func size(key: [UInt8]?, value: [UInt8], headers: [KafkaHeader]) -> Int64 {
        var total = 64 + (key?.count ?? 0) + value.count
        for header in headers { total += header.name.utf8.count + (header.value?.count ?? 0) + 8 }
        return Int64(total)
    }
}

/// Headers as one blob: a count, then per header the name's length and bytes and the value's
/// length (-1 for a null value) and bytes, all lengths little-endian UInt32/Int32.
enum HeaderCoding {
    static func encodeBytes(_ headers: [KafkaHeader]) -> [UInt8] {
        var out: [UInt8] = []
        var capacity = 4
        for header in headers { capacity += 8 + header.name.utf8.count + (header.value?.count ?? 0) }
        out.reserveCapacity(capacity)
        func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt32(truncatingIfNeeded: headers.count))
        for header in headers {
            put(UInt32(truncatingIfNeeded: header.name.utf8.count))
            out.append(contentsOf: header.name.utf8)
            if let value = header.value {
                put(UInt32(truncatingIfNeeded: value.count))
                out.append(contentsOf: value)
            } else {
                put(UInt32.max)
            }
        }
        return out
    }

    /// nil when the blob is malformed (every length is checked against what is left).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [KafkaHeader]? {
        var headers: [KafkaHeader] = []
        let wellFormed = forEach(bytes) { name, value in
            headers.append(KafkaHeader(name: String(decoding: name, as: UTF8.self), value: value.map { Array($0) }))
        }
        return wellFormed ? headers : nil
    }

    static func isWellFormed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        forEach(bytes) { _, _ in }
    }

    /// Calls `body` with each header's name and value (nil for a null value) as views into
    /// `bytes`, while every length fits what is left; true when the blob ended exactly after the
    /// last header its count announced. On false, `body` may have seen the headers before the
    /// damage: callers drop what they gathered (`decode` returns nil; the forwarder's produce
    /// destroys the header list).
    static func forEach(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) -> Bool {
        var reader = LengthPrefixedReader(bytes)
        guard let count = reader.length(), Int(count) <= bytes.count else { return false }
        for _ in 0..<count {
            guard let nameLength = reader.length(), let name = reader.bytes(nameLength), let valueLength = reader.length() else { return false }
            if valueLength == UInt32.max {
                body(name, nil)
            } else {
                guard let value = reader.bytes(valueLength) else { return false }
                body(name, value)
            }
        }
        return reader.atEnd
    }
}
