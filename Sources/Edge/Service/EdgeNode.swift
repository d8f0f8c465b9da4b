import Foundation
import HTTPServing
import Hummingbird
import Kafka
import Logging
import Policy

/// One `plantrouter edge`: spool, edge policy, forwarder and the HTTP listener, wired.
public final class EdgeNode: Sendable {
    public let configuration: EdgeConfiguration
    public let spool: Spool
    public let policy: EdgePolicy
    public let forwarder: Forwarder
    public let downsampler: Downsampler
    let tokens: GatewayTokens
    let logger: Logger

    public init(configuration: EdgeConfiguration, tokens: GatewayTokens, logger: Logger = Logger(label: "plantrouter.edge")) throws {
        self.configuration = configuration
        self.tokens = tokens
        self.logger = logger
        let loaded = try TopicsDirectory.load(at: configuration.topics)
        policy = EdgePolicy(policy: loaded) { [sheddable = configuration.sheddableLanes] lane in
            sheddable.contains(lane) ? .telemetry : .business
        }
        for lane in configuration.downsampleMs.keys.sorted() where loaded.catalog.lane(named: lane) == nil {
            throw EdgeConfigurationError("downsample.\(lane): the catalog has no lane '\(lane)' (lanes: \(loaded.catalog.lanes.map(\.name).joined(separator: ", ")))")
        }
        downsampler = Downsampler(intervals: configuration.downsampleMs)
        spool = try Spool(path: configuration.spool.path, quota: configuration.quota, synchronousFull: configuration.synchronousFull)
        var producer = ProducerConfiguration(client: KafkaConfiguration(
            bootstrapServers: configuration.bootstrapServers, clientID: "plantrouter-edge", producerProperties: configuration.producerProperties))
        producer.topicCompression = Dictionary(loaded.catalog.topics.map { ($0.name, $0.compression.rawValue) }, uniquingKeysWith: { first, _ in first })
        forwarder = try Forwarder(spool: spool, configuration: producer, rate: configuration.drainRate, inFlight: configuration.inFlight, logger: logger)
        if tokens.isEmpty { logger.warning("no gateway tokens configured: every POST /v1/events answers 401; set tokensFile or \(GatewayTokens.environmentVariable)") }
    }

    /// Every route: ingest, health, readiness and metrics.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        IngestRoutes(spool: spool, policy: policy, downsampler: downsampler, tokens: tokens, retryAfterSeconds: configuration.retryAfterSeconds, logger: logger)
            .register(on: router)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { [spool, forwarder] _, _ -> Response in
            let link = forwarder.link
            do {
                let stats = try spool.statistics()
                let body: [String: Any] = [
                    "ready": true, "spool": "ok", "link": link.up ? "up" : "down", "inFlight": link.inFlight,
                    "spooledEvents": stats.events, "lastError": link.lastError.map { $0 as Any } ?? NSNull(),
                ]
                return Self.json(.ok, body)
            } catch {
                return Self.json(.serviceUnavailable, ["ready": false, "spool": "\(error)", "link": link.up ? "up" : "down"])
            }
        }
        router.get("/metrics") { [spool, forwarder] _, _ -> Response in
            let stats = try spool.statistics()
            let text = EdgeMetrics.render(stats, link: forwarder.link, nowMs: Forwarder.nowMs())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        return router
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Serves until SIGTERM/SIGINT (or cancellation when `signals` is empty), forwarding
    /// meanwhile; then stops the forwarder, leaving anything unacknowledged in the spool.
    public func run(signals: Bool = true, onListening: (@Sendable (Int) -> Void)? = nil) async throws {
        forwarder.start()
        let app = Application(
            router: makeRouter(),
            server: .boundedHTTP1(cap: ConnectionCap(limit: InputLimits.maxEdgeConnections)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "plantrouter-edge"),
            onServerRunning: { channel in onListening?(channel.localAddress?.port ?? 0) },
            logger: logger)
        do {
            if signals { try await app.runService() } else { try await app.runService(gracefulShutdownSignals: []) }
        } catch {
            await stopForwarder()
            throw error
        }
        await stopForwarder()
    }

    /// `Forwarder.stop` blocks while it waits for deliveries: on a thread of its own, never the pool.
    private func stopForwarder() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread { [forwarder] in
                forwarder.stop()
                done.resume()
            }
            thread.name = "edge-forwarder-stop"
            thread.start()
        }
    }
}
