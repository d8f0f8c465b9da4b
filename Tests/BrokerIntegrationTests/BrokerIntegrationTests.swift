import Testing

/// Integration tests on tansu, a real Kafka-protocol broker that writes transaction markers,
/// with the built `plantrouter` binary as child processes. Run by Tests/broker/run.sh; skipped
/// without its environment. One test at a time: each starts its own broker, and they share two cores.
@Suite("On a real broker (tansu)", .serialized, .enabled(if: BrokerEnvironment.isAvailable, BrokerEnvironment.skipReason))
struct BrokerIntegrationTests {}
