import Foundation
import GRDB
import GRDBSQLite
import Kafka

/// An event handed to the forwarder: what it produces, and what acknowledging it takes
/// (seq, class, lane, bytes), so the delete needs no read first.
struct ClaimedEvent: Sendable {
    var seq: Int64
    var priority: PriorityClass
    var lane: String
    var topic: String
    var key: [UInt8]?
    var value: [UInt8]
    var headers: [KafkaHeader]
    var arrivedMs: Int64
    /// As counted against the class's quota (the row's `bytes` column).
    var bytes: Int64

    var delivered: DeliveredEvent { DeliveredEvent(seq: seq, priority: priority, lane: lane, bytes: bytes) }
}

/// A claimed event whose delivery the enterprise cluster acknowledged: enough to delete its row
/// and keep the in-memory depth and quota usage right without reading the row back.
struct DeliveredEvent: Sendable, Equatable {
    var seq: Int64
    var priority: PriorityClass
    var lane: String
    var bytes: Int64
}

/// Reads claimed rows straight off a prepared statement (sqlite3_column_*), copying each blob
/// once into the array the producer reads, and reusing the `String`s of lanes and topics and the
/// decoded headers of the previous row when the bytes are the same. Through GRDB's `Row`, each
/// column was first copied into a `DatabaseValue` and then again into `Data` and `[UInt8]`
/// (perf on the drain, plantrouter-bench edge: the claim cost as much as the produce loop).
struct SpoolRowReader {
    private var names: [(bytes: [UInt8], string: String)] = []
    private var lastHeaderBlob: [UInt8] = []
    private var lastHeaders: [KafkaHeader] = []

    /// A text column as a `String`, the same instance for the same bytes.
    mutating func name(_ statement: OpaquePointer, _ column: Int32) -> String {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let text = sqlite3_column_text(statement, column) else { return "" }
        let bytes = UnsafeBufferPointer(start: text, count: count)
        for entry in names where entry.bytes.count == count && entry.bytes.elementsEqual(bytes) { return entry.string }
        let string = String(decoding: bytes, as: UTF8.self)
        if names.count < 256 { names.append((Array(bytes), string)) }
        return string
    }

    /// A blob column's bytes, nil for NULL (an empty blob is an empty array).
    func blob(_ statement: OpaquePointer, _ column: Int32) -> [UInt8]? {
        if sqlite3_column_type(statement, column) == SQLITE_NULL { return nil }
        let pointer = sqlite3_column_blob(statement, column)
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: count))
            initialized = count
        }
    }

    /// The headers blob decoded; the previous row's array when the blob is the same (structured
    /// and batched events all carry the one `content-type` header). nil when malformed.
    mutating func headers(_ statement: OpaquePointer, _ column: Int32) -> [KafkaHeader]? {
        let pointer = sqlite3_column_blob(statement, column)
        let count = Int(sqlite3_column_bytes(statement, column))
        let bytes = UnsafeRawBufferPointer(start: count > 0 ? pointer : nil, count: count)
        if count == lastHeaderBlob.count, !lastHeaderBlob.isEmpty, lastHeaderBlob.elementsEqual(bytes) { return lastHeaders }
        guard let decoded = HeaderCoding.decode(bytes) else { return nil }
        lastHeaderBlob = Array(bytes)
        lastHeaders = decoded
        return decoded
    }
}
