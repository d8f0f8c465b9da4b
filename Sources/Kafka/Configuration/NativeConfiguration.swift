import CRdKafka

/// Builds an `rd_kafka_conf_t` from properties, failing on the first key or
/// value librdkafka rejects with librdkafka's own message.
enum NativeConfiguration {
    /// The returned configuration is owned by the caller until passed to `rd_kafka_new`.
    static func make(_ properties: [(String, String)]) throws(KafkaConfigurationError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaConfigurationError(property: key, value: value, message: errorText.cString)
            }
        }
        return conf
    }
}
