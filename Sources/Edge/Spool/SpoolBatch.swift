import Kafka

/// The body of one spool row: the events of one request that share a class and a lane, in the
/// order the gateway sent them. Per event, little-endian lengths then bytes:
/// topic (UInt32), key (Int32, -1 for none), value (UInt32), headers (UInt32, `HeaderCoding`),
/// event id (UInt32).
///
/// Written by hand rather than with a serialisation package: the forwarder walks these bytes
/// for every event it drains, in place, and the format is five length-prefixed fields.
enum SpoolBatch {
    static func encode(_ items: ArraySlice<Spool.Incoming>) -> [UInt8] {
        var out: [UInt8] = []
        var capacity = 0
        for item in items { capacity += 20 + item.topic.utf8.count + (item.key?.count ?? 0) + item.value.count + 64 + item.eventID.utf8.count }
        out.reserveCapacity(capacity)
        for item in items {
            append(to: &out, topic: item.topic, key: item.key, value: item.value, headers: HeaderCoding.encodeBytes(item.headers), eventID: item.eventID)
        }
        return out
    }

    /// One event with its headers already in `HeaderCoding` bytes (kept as they are, even damaged).
    static func append(to out: inout [UInt8], topic: String, key: [UInt8]?, value: [UInt8], headers: [UInt8], eventID: String) {
        func put(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        put(UInt32(truncatingIfNeeded: topic.utf8.count))
        out.append(contentsOf: topic.utf8)
        if let key {
            put(UInt32(truncatingIfNeeded: key.count))
            out.append(contentsOf: key)
        } else {
            put(UInt32.max)
        }
        put(UInt32(truncatingIfNeeded: value.count))
        out.append(contentsOf: value)
        put(UInt32(truncatingIfNeeded: headers.count))
        out.append(contentsOf: headers)
        put(UInt32(truncatingIfNeeded: eventID.utf8.count))
        out.append(contentsOf: eventID.utf8)
    }

    /// One event of a body, as views into the body's bytes (valid inside `forEach`'s closure only).
    struct EventView {
        var topic: UnsafeRawBufferPointer
        var key: UnsafeRawBufferPointer?
        var value: UnsafeRawBufferPointer
        var headers: UnsafeRawBufferPointer
        var eventID: UnsafeRawBufferPointer

        /// What the event counts against its class's quota: `SpoolEntry.size`, from the lengths
        /// alone (the headers blob is 4 bytes of count plus, per header, 8 bytes of lengths, the
        /// name and the value).
        var bytes: Int64 { Int64(64 + (key?.count ?? 0) + value.count + headers.count - 4) }
    }

    /// Calls `visit` with each event's index and view until it returns false. False when the
    /// body is malformed (every length is checked against what is left) or holds a different
    /// number of events than `expected`; the events before the damage have been visited.
    static func forEach(_ body: UnsafeRawBufferPointer, expected: Int, _ visit: (Int, EventView) -> Bool) -> Bool {
        var reader = LengthPrefixedReader(body)
        var index = 0
        while !reader.atEnd {
            guard index < expected,
                  let topicLength = reader.length(), let topic = reader.bytes(topicLength),
                  let keyLength = reader.length() else { return false }
            var key: UnsafeRawBufferPointer?
            if keyLength != UInt32.max {
                guard let bytes = reader.bytes(keyLength) else { return false }
                key = bytes
            }
            guard let valueLength = reader.length(), let value = reader.bytes(valueLength),
                  let headersLength = reader.length(), headersLength >= 4, let headers = reader.bytes(headersLength),
                  let idLength = reader.length(), let eventID = reader.bytes(idLength) else { return false }
            guard visit(index, EventView(topic: topic, key: key, value: value, headers: headers, eventID: eventID)) else { return true }
            index += 1
        }
        return index == expected
    }
}

/// Reads little-endian UInt32 lengths and the bytes they announce, each checked against what is
/// left (the spool's bodies and header blobs).
struct LengthPrefixedReader {
    private let buffer: UnsafeRawBufferPointer
    private var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var atEnd: Bool { offset >= buffer.count }

    mutating func length() -> UInt32? {
        guard buffer.count - offset >= 4 else { return nil }
        var value: UInt32 = 0
        for shift in 0..<4 { value |= UInt32(buffer[offset + shift]) << (8 * UInt32(shift)) }
        offset += 4
        return value
    }

    mutating func bytes(_ length: UInt32) -> UnsafeRawBufferPointer? {
        let count = Int(length)
        guard buffer.count - offset >= count else { return nil }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }
}

/// Which events of a row are gone (delivered or shed): bit `i` of byte `i / 8`.
struct GoneMask: Equatable {
    private(set) var bytes: [UInt8]

    init(events: Int) { bytes = [UInt8](repeating: 0, count: (events + 7) / 8) }
    init(bytes: [UInt8]) { self.bytes = bytes }

    func contains(_ index: Int) -> Bool {
        guard index >= 0, index / 8 < bytes.count else { return false }
        return bytes[index / 8] & (1 << UInt8(index % 8)) != 0
    }

    /// Marks `index` gone; false when it already was (or is outside the row).
    mutating func insert(_ index: Int) -> Bool {
        guard index >= 0, index / 8 < bytes.count, !contains(index) else { return false }
        bytes[index / 8] |= 1 << UInt8(index % 8)
        return true
    }
}
