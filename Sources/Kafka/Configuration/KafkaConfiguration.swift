/// Settings every PlantRouter Kafka client shares: where the cluster is, who
/// we are, and any librdkafka property the user's cluster needs.
///
/// `properties` is passed to librdkafka unchanged and applied after the typed
/// settings, so `security.protocol`, `sasl.*`, `ssl.*` (or any other property
/// from librdkafka's CONFIGURATION.md) from an existing cluster work as they are.
/// `consumerProperties` and `producerProperties` reach only consumers or only
/// producers: librdkafka warns (CONFWARN) when a client gets a property of the other kind.
public struct KafkaConfiguration: Sendable {
    /// `bootstrap.servers`: comma-separated `host:port` list.
    public var bootstrapServers: String
    /// `client.id`, shown in broker logs and quotas. Default `plantrouter`.
    public var clientID: String = "plantrouter"
    /// Raw librdkafka properties for every client; these win over the typed settings.
    public var properties: [String: String] = [:]
    /// Raw librdkafka properties for consumers only (`fetch.wait.max.ms`, `fetch.min.bytes`, …);
    /// applied after `properties`.
    public var consumerProperties: [String: String] = [:]
    /// Raw librdkafka properties for producers only (`linger.ms`, `batch.size`, `acks`, …);
    /// applied after `properties`.
    public var producerProperties: [String: String] = [:]

    public init(
        bootstrapServers: String, clientID: String = "plantrouter", properties: [String: String] = [:],
        consumerProperties: [String: String] = [:], producerProperties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.properties = properties
        self.consumerProperties = consumerProperties
        self.producerProperties = producerProperties
    }

    /// The shared properties that fit `scope` (see `PropertyScope`), then the kind's own,
    /// sorted within each so the order is stable.
    func rawProperties(for scope: PropertyScope) -> [(String, String)] {
        let shared = properties.filter { entry in
            let fits = PropertyScope(property: entry.key)
            return fits == .any || fits == scope
        }
        let own = switch scope {
        case .consumer: consumerProperties
        case .producer: producerProperties
        case .any: [String: String]()
        }
        return shared.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + own.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    var nativeProperties: [(String, String)] {
        [("bootstrap.servers", bootstrapServers), ("client.id", clientID)]
    }
}
