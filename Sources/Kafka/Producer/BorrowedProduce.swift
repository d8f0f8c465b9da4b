import CRdKafka

/// Adds headers to a record being produced with `Producer.produce(topic:key:value:timestampMs:token:headers:)`,
/// from bytes the caller lends (librdkafka copies them).
public struct NativeHeaderList {
    fileprivate let list: OpaquePointer

    /// A header; a `nil` value is a null value.
    public func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
        let nameBytes = name.baseAddress?.assumingMemoryBound(to: CChar.self)
        if let value {
            _ = rd_kafka_header_add(list, nameBytes ?? emptyName, name.count, value.baseAddress ?? UnsafeRawPointer(emptyName), value.count)
        } else {
            _ = rd_kafka_header_add(list, nameBytes ?? emptyName, name.count, nil, 0)
        }
    }
}

/// A valid pointer for empty names and values (librdkafka reads a null one as "none").
nonisolated(unsafe) private let emptyName = UnsafePointer<CChar>(UnsafeMutablePointer<CChar>.allocate(capacity: 1))

extension Producer {
    /// Enqueues a record whose bytes the caller lends for the duration of the call: librdkafka
    /// copies key, value and headers (`RD_KAFKA_MSG_F_COPY`), so a record read from another
    /// buffer (the edge spool's rows) needs no Swift arrays first. `headers` adds the record's
    /// headers; when it returns false nothing is produced and the method returns false.
    /// Throws like `produce(_:token:)`.
    public func produce(
        topic: String, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer, timestampMs: Int64?, token: UInt64,
        headers: (NativeHeaderList) -> Bool
    ) throws(KafkaError) -> Bool {
        precondition(!PendingSends.owns(token), "tokens with the top bit set are reserved")
        guard let list = rd_kafka_headers_new(8) else { throw KafkaError(operation: "produce to \(topic)", code: KafkaErrorCode(RD_KAFKA_RESP_ERR__FAIL)) }
        guard headers(NativeHeaderList(list: list)) else {
            rd_kafka_headers_destroy(list)
            return false
        }
        let error: OpaquePointer? = topic.withCString { topicName in
            withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { values in
                var count = 0
                func append(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                    var entry = rd_kafka_vu_t()
                    entry.vtype = type
                    fill(&entry)
                    values.initializeElement(at: count, to: entry)
                    count += 1
                }
                append(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topicName }
                append(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = RD_KAFKA_PARTITION_UA }
                append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                append(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(token)) }
                if let key {
                    append(RD_KAFKA_VTYPE_KEY) {
                        $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress ?? UnsafeRawPointer(emptyName))
                        $0.u.mem.size = key.count
                    }
                }
                append(RD_KAFKA_VTYPE_VALUE) {
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress ?? UnsafeRawPointer(emptyName))
                    $0.u.mem.size = value.count
                }
                if let timestampMs { append(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestampMs } }
                append(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = list }
                return rd_kafka_produceva(handle.pointer, values.baseAddress, count)
            }
        }
        if error != nil { rd_kafka_headers_destroy(list) }
        try KafkaError.check(error, "produce to \(topic)")
        return true
    }
}
