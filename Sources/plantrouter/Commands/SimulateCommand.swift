import ArgumentParser
import Foundation
import PlantSimulation
import Policy

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Generate a small plant's traffic (deterministic per seed).",
        discussion: "With --record, writes the MES work orders then the plant events as JSONL in the recorded-event format (input for `policy diff` and `policy explain`)."
    )

    @Option(help: "JSONL file to write.")
    var record: String

    @Option(help: "Number of plant events.")
    var count = 10_000

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    @Option(help: "Share of telemetry readings (0...1).")
    var telemetryShare = 0.95

    @Option(help: "Insert one poison event every N events (0: none).")
    var poisonEvery = 0

    func run() async throws {
        var config = PlantSimulator.Configuration()
        config.count = count
        config.seed = seed
        config.telemetryShare = telemetryShare
        config.poisonEvery = poisonEvery > 0 ? poisonEvery : nil
        let simulator = PlantSimulator(config)
        let events = simulator.workOrderEvents() + simulator.events()
        var text = ""
        for event in events { text += RecordedEvent.encode(event) + "\n" }
        try text.write(toFile: record, atomically: true, encoding: .utf8)
        print("recorded \(events.count) events (\(simulator.plant.workOrders.count) work orders) to \(record)")
    }
}
