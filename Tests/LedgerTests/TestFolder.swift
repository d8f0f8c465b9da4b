import Foundation
@testable import Ledger

/// A fresh folder under the temporary directory, removed when the test lets go of it.
final class TestFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("ledger-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    var ledgerPath: String { url.appendingPathComponent("plantrouter.sqlite").path }

    func openLedger() throws -> Ledger { try Ledger(path: ledgerPath) }
}

/// Fixed instants, so stored dates (millisecond precision) compare exactly.
func instant(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_790_000_000 + seconds) }

func record(
    _ eventID: String, offset: Int64, at seconds: Double, correlation: String? = nil,
    outcome: AuditOutcome = .workflow, outputs: [AuditOutput] = []
) -> AuditRecord {
    AuditRecord(
        eventID: eventID, lane: "production", sourceTopic: "plant.production.counts", sourcePartition: 1,
        sourceOffset: offset, eventType: "plant.throughput.sample", eventSource: "gateway/line-2",
        correlationID: correlation, ruleID: outcome == .workflow ? "packaging-slowdown" : nil,
        policyVersion: "2026.11.1", outcome: outcome, reason: outcome == .deadLetter ? "schema" : nil,
        recordedAt: instant(seconds), outputs: outputs
    )
}
