import Kafka
import ArgumentParser
import Foundation
import Ledger
import Replay

struct DLQListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List dead letters, one line each: every lane's, or one lane's with --lane.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var filters: FilterOptions

    @Option(help: "Only this lane's dead-letter topic (default: every lane in Topics/catalog.yaml).")
    var lane: String?

    @Flag(help: "Leave out dead letters a replay already delivered (resolved).")
    var unresolved = false

    @Option(help: "At most this many records.")
    var limit = 1000

    @Flag(help: "Print JSON Lines: one dead letter per line.")
    var json = false

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let inspector = try makeInspector(cluster, filters)
        let lane = lane, filter = filters.filter, limit = limit, unresolved = unresolved
        let records = try await ReplayTool.rethrowingForUser {
            try await BlockingThread.run(name: "dlq-list") { try inspector.list(lane: lane, filter: filter, unresolved: unresolved, limit: limit) }
        }
        if json {
            try JSONLines.emit(each: records)
            return
        }
        let known = inspector.ledger != nil
        print(Table(
            header: ["lane", "partition", "offset", "time", "reason", "type", "key", "event id", "replays", "resolved", "error"],
            rows: records.map { record in
                [record.lane ?? "", String(record.partition), String(record.offset), record.timestamp.formatted(.iso8601),
                 record.deadLetter?.reason ?? "", record.eventType ?? "", record.key ?? "", record.eventID ?? "",
                 known ? String(record.replays) : "?", known ? (record.resolved ? "yes" : "no") : "?",
                 String((record.deadLetter?.error ?? "").prefix(60))]
            }).rendered)
        let resolved = records.filter(\.resolved).count
        let place = try lane.map { try inspector.topic(of: $0) } ?? "every lane's dead-letter topic"
        print("\(records.count) dead letter\(records.count == 1 ? "" : "s") in \(place)\(known ? ", \(resolved) resolved by a replay" : " (no ledger: replays unknown; pass --database or --config)")")
        if records.count == limit { print("(stopped at --limit \(limit))") }
    }
}

/// The ledger, read-only, when there is one: `--correlation-id` reads the work order's
/// trail there (so `dlq` selects what `trace` shows), and replay counts and resolved state
/// come from it.
func makeInspector(_ options: ClusterOptions, _ filters: FilterOptions) throws -> DeadLetterInspector {
    let resolved = try options.resolve()
    let policy = try loadPolicyHolder(resolved.topics)
    // Without --correlation-id the ledger is optional: a missing or older one only hides replay counts.
    let ledger = filters.correlationId != nil
        ? try Ledger(path: resolved.database, access: .readOnly)
        : try? Ledger(path: resolved.database, access: .readOnly)
    return DeadLetterInspector(cluster: resolved.cluster.forTools, catalog: policy.current.catalog, ledger: ledger)
}
