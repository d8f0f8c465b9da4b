import Kafka
import ArgumentParser
import Foundation
import Replay

struct DLQShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print dead letters in full: context, headers and a payload preview.")

    @OptionGroup var cluster: ClusterOptions
    @OptionGroup var filters: FilterOptions

    @Option(help: "The lane whose dead-letter topic to read.")
    var lane: String

    @Option(help: "Show the record at this partition (with --offset) instead of filtering.")
    var partition: Int32?

    @Option(help: "Offset of the record to show (with --partition).")
    var offset: Int64?

    @Option(help: "At most this many records.")
    var limit = 20

    @Flag(help: "Print JSON Lines: one dead letter per line.")
    var json = false

    func validate() throws {
        if (partition == nil) != (offset == nil) { throw ValidationError("--partition and --offset go together") }
    }

    func run() async throws {
        LoggingSetup.bootstrap(level: .warning)
        let inspector = try makeInspector(cluster, filters)
        let lane = lane, filter = filters.filter, limit = limit, partition = partition, offset = offset
        let records = try await BlockingThread.run(name: "dlq-show") { () throws -> [InspectedRecord] in
            if let partition, let offset {
                return try inspector.show(lane: lane, partition: partition, offset: offset).map { [$0] } ?? []
            }
            return try inspector.list(lane: lane, filter: filter, limit: limit)
        }
        if json {
            try JSONLines.emit(each: records)
            return
        }
        if records.isEmpty { print("no matching dead letters in \(try inspector.topic(of: lane))") }
        for record in records {
            print("── \(record.topic)[\(record.partition)]@\(record.offset)  \(record.timestamp.formatted(.iso8601))")
            if let context = record.deadLetter {
                print("reason:    \(context.reason)")
                print("error:     \(context.error ?? "")")
                print("original:  \(context.originalTopic ?? "?")[\(context.originalPartition.map(String.init) ?? "?")]@\(context.originalOffset.map(String.init) ?? "?")")
                print("rule:      \(context.ruleID ?? "-")   policy: \(context.policyVersion ?? "-")   attempts: \(context.attempts.map(String.init) ?? "-")   replay generation: \(record.replayCount)")
            }
            if inspector.ledger != nil {
                print("replays:   \(record.replays)\(record.resolvedBy.map { ", resolved by replay job \($0)" } ?? ", unresolved")")
            }
            print("key:       \(record.key ?? "<none>")")
            print("headers:")
            for (name, value) in record.headers.sorted(by: { $0.key < $1.key }) { print("  \(name): \(value)") }
            let more = record.valueBytes > InspectedRecord.previewBytes ? " (first \(InspectedRecord.previewBytes) of \(record.valueBytes) bytes)" : ""
            print("payload\(more):")
            print("  \(record.payloadPreview)")
        }
    }
}
