import CRdKafka

/// Adds headers to a record being produced with `Producer.produce(topic:key:value:timestampMs:token:headers:)`,
/// from bytes the caller lends (librdkafka copies them).
public struct NativeHeaderList {
    fileprivate let list: OpaquePointer

    /// A header; a `nil` value is a null value.
    public func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
        let nameBytes = (name.baseAddress ?? emptyBytes).assumingMemoryBound(to: CChar.self)
        if let value {
            _ = rd_kafka_header_add(list, nameBytes, name.count, value.baseAddress ?? emptyBytes, value.count)
        } else {
            _ = rd_kafka_header_add(list, nameBytes, name.count, nil, 0)
        }
    }
}

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
        let error = topic.withCString { topicName in
            produceNative(topic: topicName, partition: nil, key: key, value: value, timestampMs: timestampMs, headers: list, token: token)
        }
        if error != nil { rd_kafka_headers_destroy(list) }
        try KafkaError.check(error, "produce to \(topic)")
        return true
    }
}
