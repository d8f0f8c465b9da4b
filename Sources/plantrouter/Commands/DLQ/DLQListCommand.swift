import Kafka
import ArgumentParser
import Foundation
import Ledger
import Replay

struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List a lane's dead letters, one line each.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var filters: FilterOptions

    @Option(help: "The lane whose dead-letter topic to read (see Topics/catalog.yaml).")
    var lane: String

    @Option(help: "At most this many records.")
    var limit = 1000

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let inspector = try makeInspector(cluster, filters)
        let lane = lane, filter = filters.filter, limit = limit
        let records = try await BlockingThread.run(name: "dlq-list") { try inspector.list(lane: lane, filter: filter, limit: limit) }
        if json {
            print(try jsonText(records))
            return
        }
        print(Table(
            header: ["partition", "offset", "time", "reason", "type", "source", "key", "event id", "error"],
            rows: records.map { record in
                [String(record.partition), String(record.offset), record.timestamp.formatted(.iso8601),
                 record.deadLetter?.reason ?? "", record.eventType ?? "", record.eventSource ?? "", record.key ?? "",
                 record.eventID ?? "", String((record.deadLetter?.error ?? "").prefix(60))]
            }).rendered)
        print("\(records.count) dead letter\(records.count == 1 ? "" : "s") in \(try inspector.topic(of: lane))")
    }
}

/// `--correlation-id` reads the work order's trail from the ledger (read-only), so `dlq`
/// selects what `trace` shows.
func makeInspector(_ options: ClusterOptions, _ filters: FilterOptions) throws -> DeadLetterInspector {
    let resolved = try options.resolve()
    let policy = try loadPolicyHolder(resolved.topics)
    let ledger = filters.correlationId == nil ? nil : try Ledger(path: resolved.database, access: .readOnly)
    return DeadLetterInspector(cluster: resolved.cluster.forTools, catalog: policy.current.catalog, ledger: ledger)
}

func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
