import ArgumentParser
import Foundation
import Kafka
import Logging
import PlantSimulation
import Policy

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Generate a small plant's traffic (deterministic per seed) to a cluster or a file.",
        discussion: """
            With --bootstrap, produces the MES work orders then the plant events to any Kafka cluster \
            (topics must exist: see Topics/catalog.yaml). With --record, writes them as JSONL in the \
            recorded-event format (input for `policy diff` and `policy explain`).
            """
    )

    @Option(help: "Kafka bootstrap servers (HOST:PORT[,…]) to produce to.")
    var bootstrap: String?

    @Option(name: .customLong("property"), help: "librdkafka property for --bootstrap, as key=value (repeatable), e.g. security.protocol=SASL_SSL.")
    var properties: [String] = []

    @Option(help: "JSONL file to write.")
    var record: String?

    @Option(help: "Number of plant events.")
    var count = 10_000

    @Option(help: "Events per second when producing (0: as fast as possible).")
    var rate = 0

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    @Option(help: "Share of telemetry readings (0...1).")
    var telemetryShare = 0.95

    @Option(help: "Insert one poison event every N events (0: none).")
    var poisonEvery = 0

    @Option(help: "Body bytes of the oversized poison event: just over the router's default limit (256 KiB), under any broker's default message.max.bytes (1 MB).")
    var oversizedBytes = PlantSimulator.Configuration.defaultOversizedBodyBytes

    func validate() throws {
        guard bootstrap != nil || record != nil else {
            throw ValidationError("say where the traffic goes: --bootstrap HOST:PORT (a cluster) or --record FILE.jsonl (a file)")
        }
        for property in properties where !property.contains("=") {
            throw ValidationError("--property '\(property)' is not key=value, e.g. --property security.protocol=SASL_SSL")
        }
        guard (0...1).contains(telemetryShare) else { throw ValidationError("--telemetry-share must be between 0 and 1") }
        let largest = PlantSimulator.Configuration.largestPoisonBodyBytes
        guard (1...largest).contains(oversizedBytes) else {
            throw ValidationError("--oversized-bytes must be 1 to \(largest): a larger record exceeds a broker's default message.max.bytes (1,048,588) and is refused before the router sees it")
        }
    }

    func run() async throws {
        var config = PlantSimulator.Configuration()
        config.count = count
        config.seed = seed
        config.telemetryShare = telemetryShare
        config.poisonEvery = poisonEvery > 0 ? poisonEvery : nil
        config.oversizedBodyBytes = oversizedBytes
        let simulator = PlantSimulator(config)
        let events = simulator.workOrderEvents() + simulator.events()
        if let record {
            try RecordedEvent.writeLines(events, to: URL(fileURLWithPath: record))
            print("recorded \(events.count) events (\(simulator.plant.workOrders.count) work orders) to \(record)")
        }
        if let bootstrap {
            LoggingSetup.bootstrap(level: .warning)
            var client = KafkaConfiguration(bootstrapServers: bootstrap, clientID: "plantrouter-simulate")
            for property in properties {
                let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
                client.properties[parts[0]] = parts[1]
            }
            let producer = try Producer(configuration: ProducerConfiguration(client: client))
            let publisher = TrafficPublisher(producer: producer)
            let perTopic = try await BlockingThread.run(name: "simulate-publish") { try publisher.publish(events, rate: rate > 0 ? rate : nil) }
            try producer.close()
            print("produced \(events.count) events to \(bootstrap):")
            for (topic, count) in perTopic.sorted(by: { $0.key < $1.key }) { print("  \(topic): \(count)") }
        }
    }
}
