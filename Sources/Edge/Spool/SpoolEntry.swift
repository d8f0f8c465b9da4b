import Foundation
import Kafka

/// One event on its way out of the plant, as spooled: the exact bytes to produce and where to.
public struct SpoolEntry: Sendable, Equatable {
    /// Arrival order across the whole spool (SQLite rowid, never reused).
    public var seq: Int64
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
    static func encode(_ headers: [KafkaHeader]) -> Data { Data(encodeBytes(headers)) }

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
    static func decode(_ data: Data) -> [KafkaHeader]? {
        data.withUnsafeBytes { decode($0) }
    }

    /// nil when the blob is malformed (every length is checked against what is left).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [KafkaHeader]? {
        var index = 0
        func take() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt32 = 0
            for shift in 0..<4 { value |= UInt32(bytes[index + shift]) << (8 * UInt32(shift)) }
            index += 4
            return value
        }
        func slice(_ count: Int) -> [UInt8]? {
            guard count >= 0, bytes.count - index >= count else { return nil }
            defer { index += count }
            return Array(bytes[index..<(index + count)])
        }
        guard let count = take(), Int(count) <= bytes.count else { return nil }
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let nameLength = take(), let name = slice(Int(nameLength)), let valueLength = take() else { return nil }
            if valueLength == UInt32.max {
                headers.append(KafkaHeader(name: String(decoding: name, as: UTF8.self), value: nil))
            } else {
                guard let value = slice(Int(valueLength)) else { return nil }
                headers.append(KafkaHeader(name: String(decoding: name, as: UTF8.self), value: value))
            }
        }
        return index == bytes.count ? headers : nil
    }
}
