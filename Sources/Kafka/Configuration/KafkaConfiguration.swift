/// Settings every PlantRouter Kafka client shares: where the cluster is, who
/// we are, and any librdkafka property the user's cluster needs.
///
/// `properties` is passed to librdkafka unchanged and applied after the typed
/// settings, so `security.protocol`, `sasl.*`, `ssl.*` (or any other property
/// from librdkafka's CONFIGURATION.md) from an existing cluster work as they are.
public struct KafkaConfiguration: Sendable {
    /// `bootstrap.servers`: comma-separated `host:port` list.
    public var bootstrapServers: String
    /// `client.id`, shown in broker logs and quotas. Default `plantrouter`.
    public var clientID: String = "plantrouter"
    /// Raw librdkafka properties; these win over the typed settings.
    public var properties: [String: String] = [:]

    public init(bootstrapServers: String, clientID: String = "plantrouter", properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.properties = properties
    }

    var nativeProperties: [(String, String)] {
        [("bootstrap.servers", bootstrapServers), ("client.id", clientID)]
    }
}
