import Admin
import Foundation
import Hummingbird
import Kafka
import Ledger
import Logging
import Policy
import Replay
import Routing
import Testing

/// Every endpoint of the admin API through Hummingbird's router test client, on real parts:
/// an embedded cluster, a temporary SQLite ledger and a writable copy of Topics/.
@Suite(.serialized)
struct AdminAPITests {
    static let viewer = "viewer-token"
    static let operatorToken = "operator-token"

    final class Fixture {
        let cluster: EmbeddedCluster
        let topics: URL
        let ledger: Ledger
        let policy: PolicyHolder
        let router: Routing.Router
        let dependencies: AdminServer.Dependencies

        init() throws {
            let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Topics")
            topics = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-admin-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: shipped, to: topics)
            policy = try PolicyHolder(loadingFrom: topics)
            cluster = try EmbeddedCluster(brokers: 1)
            try cluster.createTopics(policy.current.catalog.topics.map { TopicSpec($0, replicationFactor: 1) })
            ledger = try Ledger.temporary()
            _ = AdminMetrics.registry
            let logger = Logger(label: "admin-tests")
            router = try Routing.Router(
                configuration: RouterConfiguration(bootstrapServers: cluster.bootstrapServers), policy: policy, ledger: ledger,
                logger: logger)
            var kafka = cluster.configuration
            kafka.properties["fetch.wait.max.ms"] = "10"
            dependencies = .init(
                router: router, policy: policy, ledger: ledger,
                replays: ReplayJobs(ledger: ledger, cluster: kafka, policy: policy, logger: logger),
                tokens: AdminTokens(identities: [
                    AdminAPITests.viewer: AdminIdentity(role: .viewer),
                    AdminAPITests.operatorToken: AdminIdentity(role: .operator, name: "alice"),
                ]))
        }

        deinit { try? FileManager.default.removeItem(at: topics) }

        func test(_ body: @Sendable (LiveAdmin) async throws -> Void) async throws {
            try await LiveAdmin.serve(dependencies, body)
        }
    }


    @Test func probesMetricsAndOpenAPINeedNoToken() async throws {
        let fixture = try Fixture()
        try await fixture.test { client in
            #expect(try await client.execute("GET", "/healthz").status == 200)
            // Lanes have not joined their groups: not ready, and it says which.
            let ready = try await client.execute("GET", "/readyz")
            #expect(ready.status == 503 && ready.body.contains("no partitions assigned"))
            let metrics = try await client.execute("GET", "/metrics")
            #expect(metrics.status == 200 && metrics.body.contains(MetricNames.ready))
            let openAPI = try await client.execute("GET", "/openapi.yaml")
            #expect(openAPI.status == 200 && openAPI.body.contains("openapi: 3"))
        }
    }

    /// Every family has a HELP line; build info, per-lane windowed latency and the standard
    /// process metrics are there.
    @Test func metricsDescribeThemselves() async throws {
        let fixture = try Fixture()
        AdminMetrics.recordBuildInfo(version: "9.9.9-test")
        try await fixture.test { client in
            let body = try await client.execute("GET", "/metrics").body
            let lines: [String] = body.split(separator: "\n").map(String.init)
            func names(_ prefix: String) -> [String] {
                lines.filter { $0.hasPrefix(prefix) }.map { String($0.split(separator: " ")[2]) }
            }
            let helped = Set(names("# HELP "))
            let withoutHelp = names("# TYPE ").filter { !helped.contains($0) }
            #expect(!helped.isEmpty && withoutHelp.isEmpty, "without HELP: \(withoutHelp)")
            #expect(body.contains(#"plantrouter_build_info{version="9.9.9-test",librdkafka=""#))
            #expect(body.contains("# HELP plantrouter_lane_latency_window_seconds End-to-end latency percentiles over the last 60 s"))
            for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
                let line: String? = lines.first { $0.hasPrefix(name + " ") }
                let value: Double = line.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
                #expect(value > 0, "\(name): \(line ?? "absent")")
            }
        }
    }

    @Test func tokensAndRoles() async throws {
        let fixture = try Fixture()
        let laneNames = fixture.router.lanes.map(\.name)
        try await fixture.test { client in
            #expect(try await client.execute("GET", "/v1/lanes").status == 401)
            #expect(try await client.execute("GET", "/v1/lanes", token: "nope").status == 401)
            #expect(try await client.execute("GET", "/v1/lanes", authorization: "Basic dXNlcjpwdw==").status == 401)
            let lanes = try await client.execute("GET", "/v1/lanes", token: Self.viewer)
            #expect(lanes.status == 200)
            let list = lanes.json as? [[String: Any]]
            #expect(list?.map { $0["lane"] as? String } == laneNames)
            #expect(list?.first?["status"] as? String == "joining")
            for path in ["/v1/policy", "/v1/replays", "/v1/replays/x/cancel"] {
                let refused = try await client.execute("POST", path, token: Self.viewer, body: "{}")
                #expect(refused.status == 403 && refused.body.contains("operator"))
            }
        }
    }

    @Test func policyReloadKeepsTheOldPolicyOnFailure() async throws {
        let fixture = try Fixture()
        let version = fixture.policy.current.version
        let policyFile = fixture.topics.appendingPathComponent("policy.yaml")
        try await fixture.test { client in
            let current = try await client.execute("GET", "/v1/policy", token: Self.viewer)
            #expect(current.status == 200 && current.body.contains(version))
            #expect(try await client.execute("POST", "/v1/policy", token: Self.operatorToken).status == 200)
            try "version: [unclosed\n".write(to: policyFile, atomically: true, encoding: .utf8)
            let rejected = try await client.execute("POST", "/v1/policy", token: Self.operatorToken)
            #expect(rejected.status == 422)
            #expect(rejected.body.contains("policy.yaml") && rejected.body.contains("diagnostics"))
            let metrics = try await client.execute("GET", "/metrics")
            #expect(metrics.body.contains(#"plantrouter_policy_reloads_total{result="failure"}"#))
        }
        #expect(fixture.policy.current.version == version)
    }

    @Test func replayEndpoints() async throws {
        let fixture = try Fixture()
        let replays = fixture.dependencies.replays
        try await fixture.test { client in
            let op = Self.operatorToken
            let notJSON = try await client.execute("POST", "/v1/replays", token: op, body: "{not json")
            #expect(notJSON.status == 400 && notJSON.body.contains("invalid JSON body"))
            let wrongType = try await client.execute("POST", "/v1/replays", token: op, body: #"{"rate": "fast"}"#)
            #expect(wrongType.status == 400 && wrongType.body.contains("rate"))
            let empty = try await client.execute("POST", "/v1/replays", token: op)
            #expect(empty.status == 400 && empty.body.contains("JSON body"))
            let nothing = try await client.execute("POST", "/v1/replays", token: op, body: "{}")
            #expect(nothing.status == 400 && nothing.body.contains("fromDLQ"))
            let unknownLane = try await client.execute("POST", "/v1/replays", token: op, body: #"{"fromDLQ": "nope"}"#)
            #expect(unknownLane.status == 400 && unknownLane.body.contains("unknown lane"))
            let dryRun = try await client.execute("POST", "/v1/replays", token: op, body: #"{"fromDLQ": "quality", "dryRun": true}"#)
            #expect(dryRun.status == 200 && dryRun.body.contains(#""state":"completed""#))
            let list = try await client.execute("GET", "/v1/replays", token: Self.viewer)
            #expect(list.status == 200 && list.body.contains("dlq.quality"))

            let job = try await replays.create(ReplayRequest(fromDLQ: "quality"), requestedBy: "test")
            #expect(try await client.execute("GET", "/v1/replays/\(job.id)", token: Self.viewer).status == 200)
            let cancelled = try await client.execute("POST", "/v1/replays/\(job.id)/cancel", token: op)
            #expect(cancelled.status == 200 && cancelled.body.contains(#""state":"cancelled""#))
            #expect(try await client.execute("POST", "/v1/replays/\(job.id)/cancel", token: op).status == 409)
            #expect(try await client.execute("GET", "/v1/replays/no-such-job", token: Self.viewer).status == 404)
            #expect(try await client.execute("POST", "/v1/replays/no-such-job/cancel", token: op).status == 404)

            let started = try await client.execute("POST", "/v1/replays", token: op, body: #"{"topic": "plant.quality.results"}"#)
            #expect(started.status == 202)
        }
    }

    @Test func traceEndpoint() async throws {
        let fixture = try Fixture()
        try await fixture.ledger.append([AuditRecord(
            eventID: "evt-1", lane: "quality", sourceTopic: "plant.quality.results", sourcePartition: 0, sourceOffset: 0,
            eventType: "quality.inspection.completed", eventSource: "plant/p1/lab", correlationID: "WO-1", ruleID: "r",
            policyVersion: "v", outcome: .workflow, reason: nil, outputs: [])])
        try await fixture.test { client in
            let trail = try await client.execute("GET", "/v1/trace/evt-1", token: Self.viewer)
            #expect(trail.status == 200 && trail.body.contains("WO-1"))
            #expect(try await client.execute("GET", "/v1/trace/unknown", token: Self.viewer).status == 404)
            #expect(try await client.execute("GET", "/v1/trace/evt-1").status == 401)
        }
    }
}
