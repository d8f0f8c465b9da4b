import CRdKafka

/// Versions of the linked client library, for `--version` and benchmark reports.
public enum KafkaVersion {
    /// librdkafka's version string as the loaded shared library reports it.
    public static var librdkafka: String { String(cString: rd_kafka_version_str()) }
}
