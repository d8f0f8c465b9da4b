import Kafka
import ArgumentParser
import Foundation
import Replay

struct DLQStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Histogram of dead-letter reasons per lane.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var filters: FilterOptions

    @Option(help: "Only this lane (default: every lane).")
    var lane: String?

    @Flag(help: "Print JSON Lines: one lane per line.")
    var json = false

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let inspector = try makeInspector(cluster, filters)
        let lanes = lane.map { [$0] } ?? [], filter = filters.filter
        let stats = try await BlockingThread.run(name: "dlq-stats") { try inspector.stats(lanes: lanes, filter: filter) }
        if json {
            try JSONLines.emit(each: stats)
            return
        }
        let widest = max(1, stats.flatMap(\.reasons.values).max() ?? 1)
        for lane in stats {
            let replays = inspector.ledger == nil ? "" : " (replayed \(lane.replayed), resolved \(lane.resolved), unresolved \(lane.unresolved))"
            print("\(lane.lane) (\(lane.topic)): \(lane.total)\(replays)")
            for (reason, count) in lane.reasons.sorted(by: { $0.value > $1.value }) {
                let bar = String(repeating: "█", count: max(1, count * 40 / widest))
                print("  \(reason.padding(toLength: 11, withPad: " ", startingAt: 0)) \(String(count).leftPadded(7))  \(bar)")
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
