import CRdKafka

/// An error reported by librdkafka, carrying its code name and text, plus the
/// classification librdkafka gives transactional errors.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What the wrapper was doing when librdkafka failed, e.g. "produce to erp.confirmations".
    public var operation: String
    public var code: KafkaErrorCode
    /// librdkafka's message; more specific than `code.text` when librdkafka supplied one.
    public var message: String
    /// The client instance can no longer be used (e.g. a fenced transactional producer).
    public var isFatal: Bool
    /// The same call may succeed if retried.
    public var isRetriable: Bool
    /// The current transaction must be aborted before the producer can continue.
    public var requiresTransactionAbort: Bool

    public init(
        operation: String, code: KafkaErrorCode, message: String? = nil,
        isFatal: Bool = false, isRetriable: Bool = false, requiresTransactionAbort: Bool = false
    ) {
        self.operation = operation
        self.code = code
        self.message = message ?? code.text
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.requiresTransactionAbort = requiresTransactionAbort
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(operation: String, consuming error: OpaquePointer) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            operation: operation,
            code: KafkaErrorCode(rd_kafka_error_code(error)),
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            requiresTransactionAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    /// Throws when `code` is not `NO_ERROR`.
    static func check(_ code: rd_kafka_resp_err_t, _ operation: @autoclosure () -> String) throws(KafkaError) {
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        throw KafkaError(operation: operation(), code: KafkaErrorCode(code))
    }

    /// Throws when `error` is non-nil, consuming it.
    static func check(_ error: OpaquePointer?, _ operation: @autoclosure () -> String) throws(KafkaError) {
        guard let error else { return }
        throw KafkaError(operation: operation(), consuming: error)
    }

    public var description: String { "\(operation): \(code.name): \(message)" }
}

/// A configuration property librdkafka rejected, or a setting the wrapper rejects itself.
public struct KafkaConfigurationError: Error, Sendable, CustomStringConvertible {
    public var property: String
    public var value: String
    /// librdkafka's own explanation.
    public var message: String

    public var description: String { "invalid Kafka property \(property)=\"\(value)\": \(message)" }
}

extension [CChar] {
    /// The NUL-terminated text librdkafka wrote into this error buffer.
    var cString: String { withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }
}
