import Foundation
import Kafka
import Routing
import TestProcesses
import Testing

@Suite("Crash recovery, end to end")
struct CrashRecoveryTests {
    static let confirmations = 2000
    static let rate = 400.0

    @Test(
        "a router killed with SIGKILL mid-transaction and restarted: every confirmation output arrives, exactly once",
        .enabled(if: BuiltPrograms.plantrouter != nil, "the plantrouter binary is not built: run `swift build` before `swift test`, or set PLANTROUTER_BINARY")
    )
    func killedRouterRecovers() async throws {
        let testbed = try Testbed()
        let support = try ExactlyOnceSupport.probe(testbed.cluster)
        try await testbed.publishWorkOrders()
        let topics = ["erp.production.confirmations", "erp.inventory.movements"]
        let collector = try OutputCollector(testbed: testbed, topics: topics + ["analytics.telemetry"])
        defer { collector.stop() }
        let configuration = try writeConfiguration(testbed)
        let log = testbed.folder.appendingPathComponent("plantrouter.log")

        // The first process: wait until its production lane routes, then feed it a steady stream.
        let first = try RouterProcess(configuration: configuration, log: log)
        defer { first.terminate() }
        try await testbed.publish([testbed.confirmation(id: "warm-up", workOrder: "WO-1001")])
        let running = await collector.wait(timeout: .seconds(60)) { $0.contains { $0.header("source-event-id") == "warm-up" } }
        try #require(running, "the router process did not route within 60 s:\n\(first.logTail())")

        let ids = (0..<Self.confirmations).map { "crash-confirmation-\($0)" }
        // Readings ride along: the at-least-once telemetry lane must lose none of them either.
        let stream = ids.enumerated().flatMap { index, id in
            [testbed.confirmation(id: id, workOrder: "WO-\(3000 + index % 50)"), testbed.reading(id: "crash-reading-\(index)", asset: "A-\(index % 40)")]
        }
        let publishing = Task { try await testbed.publishPaced(stream, rate: 2 * Self.rate) }

        // Kill it while transactions are running: a fifth of the stream is routed, more is arriving.
        let midway = await collector.wait(timeout: .seconds(60)) { records in
            records.filter { $0.topic == topics[0] }.count >= Self.confirmations / 5
        }
        try #require(midway, "the router did not reach a fifth of the stream:\n\(first.logTail())")
        let killed = first.kill()
        let killedAt = nowMs()
        let routedBeforeKill = Set(collector.records(in: topics[0]).compactMap { $0.header("source-event-id") }).count
        #expect(killed == .signalled(SIGKILL))

        // The same instance restarts (same instanceID, so it fences the killed one's transactions).
        let second = try RouterProcess(configuration: configuration, log: log)
        defer { second.terminate() }
        try await publishing.value
        let everything = Set(ids + ["warm-up"])
        let complete = await collector.wait(timeout: .seconds(90)) { records in
            Self.sources(in: records, topic: "analytics.telemetry").count >= ids.count && topics.allSatisfy { topic in
                everything.isSubset(of: Set(records.lazy.filter { $0.topic == topic }.compactMap { $0.header("source-event-id") }))
            }
        }
        await collector.waitForQuiet(.seconds(1))
        second.terminate()
        print("crash test: \(routedBeforeKill) confirmations routed before SIGKILL, \(Self.confirmations) published in all")
        #expect(complete, "not every confirmation was routed after the restart:\n\(second.logTail())")

        // Whatever the brokers support: the restarted router duplicates nothing it routed itself.
        // (On EmbeddedCluster it re-reads from the start, so the killed process's outputs come twice.)
        let duplicatedLater = collector.duplicatesFirstSeen(after: killedAt + 1000)
        #expect(duplicatedLater.count == 0, "\(duplicatedLater.count) outputs first routed after the restart came more than once, e.g. \(duplicatedLater.prefix(3))")
        let mostCopies = collector.arrivalTimesByOutput().values.map(\.count).max() ?? 0
        #expect(mostCopies <= 2, "an output arrived \(mostCopies) times: at most once per process run")
        let readings = countBy("source-event-id", collector.records(in: "analytics.telemetry"))
        let lostReadings = ids.indices.filter { readings["crash-reading-\($0)"] == nil }.count
        #expect(lostReadings == 0, "\(lostReadings) readings lost by the at-least-once lane across the crash")
        print("telemetry lane across the crash: \(readings.values.filter { $0 > 1 }.count) readings routed twice (allowed: at least once)")
        for topic in topics {
            let counts = countBy("source-event-id", collector.records(in: topic))
            let missing = everything.filter { counts[$0] == nil }
            #expect(missing.count == 0, "\(topic): \(missing.count) confirmations never arrived")
            let onlyKnown = Set(counts.keys).isSubset(of: everything)
            #expect(onlyKnown, "\(topic): outputs for unknown events")
            expectExactlyOnce(counts, "\(topic) after SIGKILL and restart", support: support)
        }
        withExtendedLifetime(testbed) {}
    }

    @Test(
        "SIGTERM drains, commits and exits in bounded time; the restarted router re-routes nothing on its at-least-once lanes",
        .enabled(if: BuiltPrograms.plantrouter != nil, "the plantrouter binary is not built: run `swift build` before `swift test`, or set PLANTROUTER_BINARY")
    )
    func gracefulShutdownCommits() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        let telemetry = "plant.telemetry.readings"
        let collector = try OutputCollector(testbed: testbed, topics: ["analytics.telemetry", "erp.production.confirmations"])
        defer { collector.stop() }
        let configuration = try writeConfiguration(testbed, instanceID: "graceful-test", groupPrefix: "plantrouter-graceful")
        let log = testbed.folder.appendingPathComponent("plantrouter.log")

        let first = try RouterProcess(configuration: configuration, log: log)
        defer { first.terminate() }
        let batch1 = (0..<3000).map { testbed.reading(id: "before-\($0)", asset: "A-\($0 % 40)") }
        try await testbed.publish(batch1)
        let routed = await collector.wait(timeout: .seconds(60)) { Self.sources(in: $0, topic: "analytics.telemetry").count >= batch1.count }
        try #require(routed, "the router process did not route the readings within 60 s:\n\(first.logTail())")

        // SIGTERM: ServiceLifecycle's graceful shutdown; lanes drain, commit and close.
        let started = ContinuousClock.now
        let ended = first.terminate(timeout: 40)
        let took = ContinuousClock.now - started
        print("graceful shutdown took \(took)")
        #expect(ended == .exited(0), "\(ended):\n\(first.logTail())")
        #expect(took < .seconds(25), "shutdown is bounded by the drain timeout plus client close timeouts")

        // The telemetry lane committed everything it routed.
        let admin = try Admin(configuration: testbed.cluster.configuration, logger: testLogger)
        let committed = try admin.committedOffsets(group: "plantrouter-graceful-telemetry", topics: [telemetry])
        let ends = try (0..<Int32(testbed.partitions(of: telemetry))).map { try admin.watermarks(topic: telemetry, partition: $0).high }
        #expect(committed.map(\.offset).reduce(0, +) == ends.reduce(0, +), "committed \(committed.map(\.offset)) vs ends \(ends)")

        // A restart resumes from those offsets: only new readings are routed.
        let second = try RouterProcess(configuration: configuration, log: log)
        defer { second.terminate() }
        let batch2 = (0..<500).map { testbed.reading(id: "after-\($0)", asset: "A-\($0 % 40)") }
        try await testbed.publish(batch2)
        let routedAgain = await collector.wait(timeout: .seconds(60)) { records in
            Self.sources(in: records, topic: "analytics.telemetry").filter { $0.hasPrefix("after-") }.count >= batch2.count
        }
        #expect(routedAgain, "the restarted router routes new readings:\n\(second.logTail())")
        await collector.waitForQuiet()
        second.terminate()
        let counts = countBy("source-event-id", collector.records(in: "analytics.telemetry"))
        let repeated = counts.filter { $0.value > 1 }.count
        #expect(repeated == 0, "\(repeated) readings routed again after a graceful restart")
        #expect(counts.count == batch1.count + batch2.count)
        withExtendedLifetime(testbed) {}
    }

    private static func sources(in records: [ConsumerRecord], topic: String) -> Set<String> {
        Set(records.lazy.filter { $0.topic == topic }.compactMap { $0.header("source-event-id") })
    }

    /// The configuration file both processes run with.
    private func writeConfiguration(_ testbed: Testbed, instanceID: String = "crash-test", groupPrefix: String = "plantrouter-crash") throws -> URL {
        let url = testbed.folder.appendingPathComponent("plantrouter.yaml")
        let yaml = """
            # Written by CrashRecoveryTests: the embedded cluster of this test, the repository's Topics/.
            cluster:
              bootstrapServers: "\(testbed.cluster.bootstrapServers)"
              properties:
                fetch.wait.max.ms: "10"
                # The killed process stays a group member until its session times out.
                session.timeout.ms: "6000"
            topics: "\(RepositoryPaths.topics.path)"
            database: "\(testbed.folder.appendingPathComponent("crash.sqlite").path)"
            instanceID: \(instanceID)
            groupPrefix: \(groupPrefix)
            # Any free port: process tests run in parallel.
            admin: { port: 0 }

            """
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
