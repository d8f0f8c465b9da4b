import Foundation
import Kafka
import Routing
import Testing

@Suite("Crash recovery, end to end")
struct CrashRecoveryTests {
    static let confirmations = 2000
    static let rate = 400.0

    @Test(
        "a router killed with SIGKILL mid-transaction and restarted: every confirmation output arrives, exactly once",
        .enabled(if: RouterProcess.binary != nil, "the plantrouter binary is not built: run `swift build` before `swift test`, or set PLANTROUTER_BINARY")
    )
    func killedRouterRecovers() async throws {
        let testbed = try Testbed()
        let support = try ExactlyOnceSupport.probe(testbed.cluster)
        try testbed.publishWorkOrders()
        let topics = ["erp.production.confirmations", "erp.inventory.movements"]
        let collector = try OutputCollector(testbed: testbed, topics: topics)
        defer { collector.stop() }
        let configuration = try writeConfiguration(testbed)
        let log = testbed.folder.appendingPathComponent("plantrouter.log")

        // The first process: wait until its production lane routes, then feed it a steady stream.
        let first = try RouterProcess(configuration: configuration, log: log)
        defer { first.terminate() }
        try testbed.publish([testbed.confirmation(id: "warm-up", workOrder: "WO-1001")])
        let running = await collector.wait(timeout: .seconds(60)) { $0.contains { $0.header("source-event-id") == "warm-up" } }
        try #require(running, "the router process did not route within 60 s:\n\(first.logTail())")

        let ids = (0..<Self.confirmations).map { "crash-confirmation-\($0)" }
        let stream = ids.enumerated().map { index, id in testbed.confirmation(id: id, workOrder: "WO-\(3000 + index % 50)") }
        let publishing = Task { try await testbed.publishPaced(stream, rate: Self.rate) }

        // Kill it while transactions are running: a fifth of the stream is routed, more is arriving.
        let midway = await collector.wait(timeout: .seconds(60)) { records in
            records.filter { $0.topic == topics[0] }.count >= Self.confirmations / 5
        }
        try #require(midway, "the router did not reach a fifth of the stream:\n\(first.logTail())")
        first.kill()
        let killedAt = nowMs()
        let routedBeforeKill = Set(collector.records(in: topics[0]).compactMap { $0.header("source-event-id") }).count
        #expect(first.process.terminationReason == .uncaughtSignal && first.process.terminationStatus == SIGKILL)

        // The same instance restarts (same instanceID, so it fences the killed one's transactions).
        let second = try RouterProcess(configuration: configuration, log: log)
        defer { second.terminate() }
        try await publishing.value
        let everything = Set(ids + ["warm-up"])
        let complete = await collector.wait(timeout: .seconds(90)) { records in
            topics.allSatisfy { topic in
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

    /// The configuration file both processes run with.
    private func writeConfiguration(_ testbed: Testbed) throws -> URL {
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
            instanceID: crash-test
            groupPrefix: plantrouter-crash

            """
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
