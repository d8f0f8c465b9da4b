import ArgumentParser
import Edge
import Foundation
import Kafka
import Logging
import PlantSimulation
import Policy
import Routing
import Synchronization

/// `plantrouter edge demo`: the simulated plant sends over HTTP to an in-process edge whose
/// WAN (the embedded cluster's brokers) drops for a few seconds, with a line per second of
/// spool depth and counts, then what reached the cluster and what the central router made of it.
struct EdgeDemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Simulated plant → HTTP → edge spool → embedded cluster, with a WAN outage in the middle.",
        discussion: """
            Starts librdkafka's in-process cluster (3 brokers on loopback) and a real edge on a free \
            loopback port, spooling to a temporary file. A simulated gateway POSTs the plant's events \
            in cloudevents-batch+json requests; after --outage-at seconds every broker goes down for \
            --outage seconds. The telemetry quota is small on purpose so the outage sheds (and counts) \
            telemetry while business events are all kept. Afterwards the plant topics are read back and \
            every ce_id counted, and the central router routes what arrived (it starts once the WAN is \
            back: the embedded brokers are its cluster too, and their outage is the plant's WAN outage, \
            not the enterprise's); the demo ends with its routing summary.
            """
    )

    @Option(help: "Topics/ directory with catalog, schemas and policy.")
    var topics = "Topics"

    @Option(help: "Plant events the gateway sends.")
    var events = 20_000

    @Option(help: "Events per second the gateway sends.")
    var rate = 1_000

    @Option(help: "Events per HTTP request.")
    var batch = 100

    @Option(help: "Seconds after the start when the WAN drops.")
    var outageAt = 4

    @Option(help: "Seconds the WAN stays down.")
    var outage = 8

    @Option(help: "Telemetry quota of the spool, bytes (small, so the outage sheds telemetry).")
    var telemetryQuota: Int64 = 2_000_000

    @Option(help: "Drain rate after the outage, events/s.")
    var drainRate = 5_000.0

    @Option(help: "Log level for diagnostics on standard error.")
    var logLevel: Logger.Level = .critical

    func run() async throws {
        guard events > 0, rate > 0, batch > 0, outageAt >= 0, outage >= 0, telemetryQuota > 0, drainRate > 0 else {
            throw ValidationError("events, rate, batch, telemetry quota and drain rate must be positive")
        }
        LoggingSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "plantrouter.edge.demo")
        let topicsURL = URL(fileURLWithPath: topics)
        let policy: LoadedPolicy
        do { policy = try TopicsDirectory.load(at: topicsURL) } catch {
            throw ValidationError("the policy in \(topics) does not load (run `plantrouter policy check --topics \(topics)`):\n\(error)")
        }
        let plantTopics = policy.catalog.topics.filter { $0.role == .source || $0.role == .deadLetter }

        print("Starting an embedded Kafka cluster (3 brokers) as the enterprise cluster …")
        let cluster = try EmbeddedCluster(brokers: 3, logger: logger)
        try cluster.createTopics(policy.catalog.topics.map { TopicSpec($0) })

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-edge-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = EdgeConfiguration(bootstrapServers: cluster.bootstrapServers, topics: topicsURL, spool: folder.appendingPathComponent("spool.sqlite"))
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.drainRate = drainRate
        configuration.quota[.telemetry] = telemetryQuota
        // A broker brought back up is reconnected to within a second, not ten.
        configuration.producerProperties = ["reconnect.backoff.max.ms": "1000"]
        // The default window (5,000): telemetry in flight is held to a quarter of its quota, so a
        // full quota sheds the oldest spooled telemetry instead of answering 503.
        let token = "demo-gateway-token"
        let node = try EdgeNode(configuration: configuration, tokens: GatewayTokens([token: "line-1"]), logger: logger)
        let bound = Mutex<Int?>(nil)
        let server = Task { try await node.run(signals: false) { port in bound.withLock { $0 = port } } }
        let listenDeadline = ContinuousClock.now + .seconds(30)
        while bound.withLock({ $0 }) == nil, ContinuousClock.now < listenDeadline { try await Task.sleep(for: .milliseconds(20)) }
        guard let port = bound.withLock({ $0 }), let url = URL(string: "http://127.0.0.1:\(port)/v1/events") else {
            server.cancel()
            throw ValidationError("the edge did not start listening")
        }
        print("  edge on \(url), spool \(configuration.spool.path), drain \(Int(drainRate))/s, telemetry quota \(telemetryQuota) bytes")
        print("Gateway sends \(events) plant events at \(rate)/s; the WAN drops at \(outageAt) s for \(outage) s.\n")

        let gateway = DemoGateway(port: port, token: token, events: events, batch: batch, rate: rate)
        let sending = Task { await gateway.send() }
        let started = ContinuousClock.now
        var wanDown = false, wanRestored = false
        var quietRounds = 0
        print("     t  WAN    sent  answered-503  spooled  forwarded   shed  rejected  link")
        while true {
            try await Task.sleep(for: .seconds(1))
            let elapsed = Int((ContinuousClock.now - started).components.seconds)
            if !wanDown, elapsed >= outageAt {
                for broker in 1...cluster.brokerCount { try cluster.setBrokerDown(broker) }
                wanDown = true
            }
            if wanDown, !wanRestored, elapsed >= outageAt + outage {
                for broker in 1...cluster.brokerCount { try cluster.setBrokerUp(broker) }
                wanRestored = true
            }
            let stats = try node.spool.statistics()
            let sent = gateway.progress
            let forwarded = stats.lanes.reduce(0) { $0 + $1.forwarded }
            let shed = stats.lanes.reduce(0) { $0 + $1.shed }
            let rejected = stats.lanes.reduce(0) { $0 + $1.rejected }
            let link = node.forwarder.link
            let wan = wanDown && !wanRestored ? "down" : "up  "
            print(String(format: "  %3ds  %@ %7d  %12d  %7d  %9d  %5d  %8d  %@", elapsed, wan, sent.accepted, sent.refused, stats.events, forwarded, shed, rejected,
                         link.up ? "up" : "down"))
            quietRounds = sending.isCancelled || (gateway.finished && stats.events == 0 && wanRestored) ? quietRounds + 1 : 0
            if quietRounds >= 1 || elapsed > 90 { break }
        }
        sending.cancel()
        let stats = try node.spool.statistics()
        server.cancel()
        _ = try? await server.value

        print("\nPer lane at the edge")
        var rows = [["lane", "forwarded", "shed", "rejected", "still spooled"]]
        for lane in stats.lanes.sorted(by: { $0.lane < $1.lane }) {
            rows.append([lane.lane, "\(lane.forwarded)", "\(lane.shed)", "\(lane.rejected)", "\(lane.events)"])
        }
        print(Table(header: rows[0], rows: Array(rows.dropFirst())).rendered)

        let arrived = try DemoReadBack.count(cluster: cluster, topics: plantTopics, expected: Int(stats.lanes.reduce(0) { $0 + $1.forwarded }))
        let sent = gateway.progress
        print("\nThe gateway had \(sent.accepted) events accepted (202) and \(sent.refused) answered 503 (quota reached with nothing sheddable; a real gateway keeps them and retries).")
        print("The cluster holds \(arrived.records) records with \(arrived.distinctIDs) distinct ce_id on \(plantTopics.count) plant and dead-letter topics"
            + (arrived.records == arrived.distinctIDs ? ": no duplicates" : ": \(arrived.records - arrived.distinctIDs) duplicates (same ce_id, resent after the outage)") + ".")
        print("Shed telemetry is counted above; business events are never shed.")

        let routable = Int(stats.lanes.reduce(0) { $0 + $1.forwarded - $1.rejected })
        print("\nThe central router routes the \(routable) plant events that reached the cluster (the edge's dead letters aside) …")
        let router = try await CentralRouter.start(cluster: cluster, policy: policy, topics: topics, events: events, folder: folder, logger: logger)
        await CentralRouter.finish(router, expected: routable)
        print("(Latency is from arrival at the edge to the router's output: here it includes the outage and the drain.)")
        RoutingSummary.print(router: router, catalog: policy.catalog)
    }
}
