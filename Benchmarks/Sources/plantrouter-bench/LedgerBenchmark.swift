import ArgumentParser
import Foundation
import Ledger

/// How fast the ledger takes what the router writes per batch: audit appends (1,000 records,
/// a workflow event with 4 outputs for every 10 analytics-only or dropped ones), delivery
/// reports, and the idempotency lookups a replay makes.
struct LedgerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Audit appends, delivery reports and idempotency lookups on a SQLite ledger."
    )

    @Option(help: "Ledger file to write (the disk matters); a temporary file by default.")
    var database: String?

    @Option(help: "Batches of 1,000 records to time.")
    var batches = 50

    func validate() throws {
        guard batches > 0 else { throw ValidationError("--batches must be at least 1.") }
    }

    func run() throws {
        let ledger = try database.map { try Ledger(path: $0) } ?? Ledger.temporary()
        defer {
            if database == nil {
                try? FileManager.default.removeItem(at: URL(fileURLWithPath: ledger.path).deletingLastPathComponent())
            }
        }
        let batchSize = 1_000
        let run = UUID().uuidString.prefix(8)
        var appendSeconds: [Double] = []
        var deliverySeconds: [Double] = []
        var lookupSeconds: [Double] = []

        for batch in 0..<batches {
            let records = (0..<batchSize).map { index in
                Self.record(run: run, batch: batch, index: index, batchSize: batchSize)
            }
            appendSeconds.append(try Self.time { try ledger.append(records) })

            let produced = records.flatMap(\.outputs).enumerated().map { offset, output in
                ProducedOutput(idempotencyKey: output.idempotencyKey, topic: output.topic, partition: 0,
                               offset: Int64(batch * batchSize + offset))
            }
            deliverySeconds.append(try Self.time { try ledger.recordProduced(produced) })

            // A replay batch: half the keys were produced before, half were not.
            let keys = produced.prefix(batchSize / 2).map(\.idempotencyKey)
                + (0..<batchSize / 2).map { "\(run)-never-\(batch)-\($0)" }
            lookupSeconds.append(try Self.time { _ = try ledger.producedKeys(among: keys) })
        }

        let outputsPerBatch = (0..<batchSize).filter { $0 % 11 == 0 }.count * 4
        print("ledger: \(ledger.path)")
        print("batch of \(batchSize) audit records (\(outputsPerBatch) outputs), median of \(batches) batches:")
        Self.report("append (one transaction)", appendSeconds, items: batchSize, unit: "records")
        Self.report("recordProduced", deliverySeconds, items: outputsPerBatch, unit: "outputs")
        Self.report("producedKeys lookup", lookupSeconds, items: batchSize, unit: "keys")
        if database != nil {
            print("example: plantrouter trace \(run)-0-0 --database \(ledger.path)")
        }
    }

    private static func record(run: Substring, batch: Int, index: Int, batchSize: Int) -> AuditRecord {
        let eventID = "\(run)-\(batch)-\(index)"
        let workflow = index % 11 == 0
        let targets = ["erp.production-exceptions", "qms.inspection-requests", "maintenance.work-requests",
                       "tms.shipment-replans"]
        return AuditRecord(
            eventID: eventID, lane: "production", sourceTopic: "plant.production.counts", sourcePartition: 0,
            sourceOffset: Int64(batch * batchSize + index), eventType: "plant.throughput.sample",
            eventSource: "gateway/line-\(index % 4)", correlationID: workflow ? "WO-\(run)-\(index % 7)" : nil,
            ruleID: workflow ? "packaging-slowdown" : "drop-duplicates", policyVersion: "2026.11.1",
            outcome: workflow ? .workflow : .drop,
            outputs: workflow ? targets.map { AuditOutput(topic: $0, idempotencyKey: "\(eventID)/packaging-slowdown/\($0)") } : []
        )
    }

    private static func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static func report(_ name: String, _ seconds: [Double], items: Int, unit: String) {
        let median = seconds.sorted()[seconds.count / 2]
        let perSecond = Double(items) / median
        print("  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) "
            + "\(String(format: "%8.2f", median * 1000)) ms/batch  \(String(format: "%10.0f", perSecond)) \(unit)/s")
    }
}
