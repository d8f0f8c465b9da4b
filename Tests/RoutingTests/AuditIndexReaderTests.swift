import Foundation
import GRDB
import Kafka
import Ledger
import Testing
@testable import Routing

/// The audit index on an embedded cluster: entries written as the lanes write them, read into a
/// real SQLite ledger.
@Suite struct AuditIndexReaderTests {
    /// A batch the ledger refused (another process held its write lock) is read again, not
    /// skipped: a later batch would move the index past it, and replays would miss its keys.
    @Test func aBatchTheLedgerRefusedIsReadAgain() async throws {
        let testbed = try Testbed()
        let topic = try #require(testbed.catalog.auditTopic)
        let entries = (1...120).map { AuditEntryCodingTests.entry($0) }
        let producer = try Producer(configuration: ProducerConfiguration(client: testbed.cluster.configuration), logger: testLogger)
        for entry in entries { try producer.produceWaitingForRoom(AuditTopic(name: topic.name).record(entry)) }
        try producer.flush()
        try producer.close()

        let path = testbed.folder.appendingPathComponent("index.sqlite").path
        let ledger = try Ledger(path: path)
        let reader = try AuditIndexReader(
            topic: topic.name, partitions: topic.partitions, cluster: testbed.cluster.configuration, ledger: ledger, logger: testLogger)
        defer { reader.close() }

        var holderConfiguration = Configuration()
        holderConfiguration.allowsUnsafeTransactions = true  // the lock outlives one database access on purpose
        let holder = try DatabaseQueue(path: path, configuration: holderConfiguration)
        try holder.inDatabase { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        var refused = false
        for _ in 0..<20 where !refused {
            do { try reader.readOnce(timeout: .seconds(1)) } catch { refused = true }
        }
        try holder.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        #expect(refused, "a batch should have reached the locked ledger")

        #expect(try reader.catchUp(timeout: .seconds(30), untilIdle: true))
        let keys = entries.flatMap { $0.produced.map(\.idempotencyKey) }
        let found = try await ledger.producedOutputs(among: keys)
        #expect(found.count == keys.count, "every produced key is in the index")
        #expect(reader.skipped == 0)
    }

    /// With a gathering window, entries that arrive while the window is open go into the same
    /// ledger transaction as the first poll's: one `readOnce` applies both waves.
    @Test func entriesArrivingWithinTheWindowAreAppliedTogether() async throws {
        let testbed = try Testbed()
        let topic = try #require(testbed.catalog.auditTopic)
        let entries = (1...80).map { AuditEntryCodingTests.entry($0) }
        let producer = try Producer(configuration: ProducerConfiguration(client: testbed.cluster.configuration), logger: testLogger)
        defer { try? producer.close() }
        for entry in entries[..<40] { try producer.produceWaitingForRoom(AuditTopic(name: topic.name).record(entry)) }
        try producer.flush()

        let ledger = try Ledger(path: testbed.folder.appendingPathComponent("index.sqlite").path)
        let reader = try AuditIndexReader(
            topic: topic.name, partitions: topic.partitions, cluster: testbed.cluster.configuration, ledger: ledger, logger: testLogger)
        defer { reader.close() }
        let secondWave = Array(entries[40...]).map { AuditTopic(name: topic.name).record($0) }
        let late = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            for record in secondWave { try? producer.produceWaitingForRoom(record) }
            try? producer.flush()
        }
        late.start()

        let applied = try reader.readOnce(timeout: .seconds(5), gatheringFor: .seconds(3))
        #expect(applied == entries.count, "both waves in one call, not \(applied) entries")
        let keys = entries.flatMap { $0.produced.map(\.idempotencyKey) }
        #expect(try await ledger.producedOutputs(among: keys).count == keys.count)
    }
}
