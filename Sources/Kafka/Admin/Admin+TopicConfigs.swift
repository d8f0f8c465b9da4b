import CRdKafka

extension Admin {
    /// Topic-level configuration of each named topic, as the cluster reports it
    /// (DescribeConfigs): `cleanup.policy`, `retention.ms`, … by topic name.
    ///
    /// Kafka answers with every topic config, defaults included; some brokers (tansu)
    /// answer with only the configs set on the topic, so a missing key means "not set
    /// on the topic". A per-topic failure (unknown topic, no DescribeConfigs ACL) throws,
    /// naming the topic. librdkafka sends DescribeConfigs to the controller, which the
    /// embedded cluster never names: there it fails with `_TIMED_OUT` "waiting for
    /// controller" after `timeout` (RoutingTests.TopicProvisioningTests).
    public func topicConfigs(_ names: [String], timeout: Duration = .seconds(10)) throws(KafkaError) -> [String: TopicConfigs] {
        guard !names.isEmpty else { return [:] }
        var resources: [OpaquePointer?] = names.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
        defer { resources.forEach { rd_kafka_ConfigResource_destroy($0) } }
        let event = try adminRequest(operation: "describe topic configs", api: RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout: timeout) { options, queue in
            rd_kafka_DescribeConfigs(handle.pointer, &resources, resources.count, options, queue)
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let results = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count) else {
            return [:]
        }
        var byTopic: [String: TopicConfigs] = [:]
        for index in 0..<count {
            guard let resource = results[index] else { continue }
            let name = String(cString: rd_kafka_ConfigResource_name(resource))
            let code = rd_kafka_ConfigResource_error(resource)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(
                    operation: "describe configs of topic \(name)", code: KafkaErrorCode(code),
                    message: rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) })
            }
            var entryCount = 0
            var entries: [String: TopicConfigs.Entry] = [:]
            if let configs = rd_kafka_ConfigResource_configs(resource, &entryCount) {
                for entryIndex in 0..<entryCount {
                    guard let entry = configs[entryIndex] else { continue }
                    let key = String(cString: rd_kafka_ConfigEntry_name(entry))
                    entries[key] = TopicConfigs.Entry(
                        value: rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) },
                        isDefault: rd_kafka_ConfigEntry_is_default(entry) != 0)
                }
            }
            byTopic[name] = TopicConfigs(entries: entries)
        }
        return byTopic
    }
}

/// One topic's configuration as DescribeConfigs reported it.
public struct TopicConfigs: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// nil for sensitive values, which brokers never disclose.
        public var value: String?
        /// The broker's (or cluster's) default, not set on the topic.
        public var isDefault: Bool

        public init(value: String?, isDefault: Bool = false) {
            self.value = value
            self.isDefault = isDefault
        }
    }

    public var entries: [String: Entry]

    public init(entries: [String: Entry]) { self.entries = entries }

    public subscript(key: String) -> String? { entries[key]?.value }
}
