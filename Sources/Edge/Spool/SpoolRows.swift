import Foundation
import Kafka

/// Where an event sits in the spool: the row its request's events of one class and lane were
/// written to (SQLite rowid, arrival order, never reused) and its place in that row.
public struct SpoolPosition: Sendable, Hashable, Comparable {
    public var row: Int64
    public var index: Int

    public static func < (lhs: SpoolPosition, rhs: SpoolPosition) -> Bool {
        (lhs.row, lhs.index) < (rhs.row, rhs.index)
    }
}

/// The events claimed from one spool row: the row's body, copied out of the spool, and which
/// of its events were claimed, in row order.
struct ClaimedRow: Sendable {
    var seq: Int64
    var priority: PriorityClass
    var lane: String
    var arrivedMs: Int64
    /// Events in the body.
    var events: Int
    var body: [UInt8]
    var claimed: [Int] = []

    /// Lends each claimed event to `visit`, in order, until it returns false.
    func forEach(_ visit: (ClaimedView) -> Bool) {
        guard !claimed.isEmpty else { return }
        var next = 0
        body.withUnsafeBytes { raw in
            _ = SpoolBatch.forEach(raw, expected: events) { index, event in
                guard index == claimed[next] else { return true }
                next += 1
                let view = ClaimedView(
                    position: SpoolPosition(row: seq, index: index), priority: priority, lane: lane, topic: event.topic, key: event.key,
                    value: event.value, headers: event.headers, arrivedMs: arrivedMs, bytes: event.bytes)
                return visit(view) && next < claimed.count
            }
        }
    }
}

/// A claimed event as views into its row's body (valid during `ClaimedRow.forEach`'s callback
/// only): the forwarder produces straight from them, and librdkafka copies.
struct ClaimedView {
    var position: SpoolPosition
    var priority: PriorityClass
    var lane: String
    var topic: UnsafeRawBufferPointer
    var key: UnsafeRawBufferPointer?
    var value: UnsafeRawBufferPointer
    /// `HeaderCoding` bytes, checked well-formed.
    var headers: UnsafeRawBufferPointer
    var arrivedMs: Int64
    /// As counted against the class's quota.
    var bytes: Int64

    var delivered: DeliveredEvent { DeliveredEvent(position: position, priority: priority, lane: lane, bytes: bytes) }
}

/// A claimed event copied out of its row (`Spool.claim(limit:)`).
struct ClaimedEvent: Sendable {
    var position: SpoolPosition
    var priority: PriorityClass
    var lane: String
    var topic: String
    var key: [UInt8]?
    var value: [UInt8]
    var headers: [KafkaHeader]
    var arrivedMs: Int64
    var bytes: Int64

    init(_ view: ClaimedView) {
        position = view.position
        priority = view.priority
        lane = view.lane
        topic = String(decoding: view.topic, as: UTF8.self)
        key = view.key.map { Array($0) }
        value = Array(view.value)
        headers = HeaderCoding.decode(view.headers) ?? []
        arrivedMs = view.arrivedMs
        bytes = view.bytes
    }

    var delivered: DeliveredEvent { DeliveredEvent(position: position, priority: priority, lane: lane, bytes: bytes) }
}

/// A claimed event whose delivery the enterprise cluster acknowledged: enough to mark it gone
/// in its row and keep the in-memory depth and quota usage right.
struct DeliveredEvent: Sendable, Equatable {
    var position: SpoolPosition
    var priority: PriorityClass
    var lane: String
    var bytes: Int64
}

/// Topic and lane names as `String`s, the same instance for the same bytes: the forwarder
/// hands librdkafka a topic's C string (`withCString` on a native string copies nothing), and
/// consecutive events mostly share their topic, so the last hit is tried first. One owner's.
struct SpoolNames {
    private var names: [(bytes: [UInt8], string: String)] = []
    private var last = 0

    mutating func name(_ bytes: UnsafeRawBufferPointer) -> String {
        if last < names.count, Self.same(names[last].bytes, bytes) { return names[last].string }
        for (index, entry) in names.enumerated() where Self.same(entry.bytes, bytes) {
            last = index
            return entry.string
        }
        let string = String(decoding: bytes, as: UTF8.self)
        if names.count < 256 {
            names.append((Array(bytes), string))
            last = names.count - 1
        }
        return string
    }

    private static func same(_ known: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard known.count == bytes.count else { return false }
        return known.withUnsafeBytes { stored in
            guard let storedBase = stored.baseAddress, let base = bytes.baseAddress else { return true }
            return memcmp(storedBase, base, known.count) == 0
        }
    }
}
