import Admin
import Foundation
import Hummingbird
import HummingbirdTesting
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
            try cluster.createTopics(policy.current.catalog.topics.map {
                TopicSpec(name: $0.name, partitions: Int32($0.partitions), replicationFactor: 1)
            })
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
                tokens: AdminTokens([AdminAPITests.viewer: .viewer, AdminAPITests.operatorToken: .operator]))
        }

        deinit { try? FileManager.default.removeItem(at: topics) }

        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            let app = Application(router: AdminServer.makeRouter(dependencies, logger: Logger(label: "admin-tests")))
            try await app.test(.router, body)
        }
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
    static func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func probesMetricsAndOpenAPINeedNoToken() async throws {
        let fixture = try Fixture()
        try await fixture.test { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            // Lanes have not joined their groups: not ready, and it says which.
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("no partitions assigned"))
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(MetricNames.ready))
            }
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("openapi: 3"))
            }
        }
    }

    @Test func tokensAndRoles() async throws {
        let fixture = try Fixture()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/lanes", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/lanes", method: .get, headers: Self.bearer("nope")) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/lanes", method: .get, headers: [.authorization: "Basic dXNlcjpwdw=="]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/lanes", method: .get, headers: Self.bearer(Self.viewer)) { response in
                #expect(response.status == .ok)
                let lanes = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
                #expect(lanes?.map { $0["lane"] as? String } == fixture.router.lanes.map(\.name))
                #expect(lanes?.first?["status"] as? String == "joining")
            }
            for uri in ["/v1/policy", "/v1/replays", "/v1/replays/x/cancel"] {
                try await client.execute(uri: uri, method: .post, headers: Self.bearer(Self.viewer), body: Self.json("{}")) {
                    #expect($0.status == .forbidden)
                }
            }
        }
    }

    @Test func policyReloadKeepsTheOldPolicyOnFailure() async throws {
        let fixture = try Fixture()
        let version = fixture.policy.current.version
        try await fixture.test { client in
            try await client.execute(uri: "/v1/policy", method: .get, headers: Self.bearer(Self.viewer)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(version))
            }
            try await client.execute(uri: "/v1/policy", method: .post, headers: Self.bearer(Self.operatorToken)) {
                #expect($0.status == .ok)
            }
            try "version: [unclosed\n".write(to: fixture.topics.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
            try await client.execute(uri: "/v1/policy", method: .post, headers: Self.bearer(Self.operatorToken)) { response in
                #expect(response.status == .unprocessableContent)
                let body = String(buffer: response.body)
                #expect(body.contains("policy.yaml") && body.contains("diagnostics"))
            }
            #expect(fixture.policy.current.version == version)
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"plantrouter_policy_reloads_total{result="failure"}"#))
            }
        }
    }

    @Test func replayEndpoints() async throws {
        let fixture = try Fixture()
        try await fixture.test { client in
            let operatorHeaders = Self.bearer(Self.operatorToken)
            try await client.execute(uri: "/v1/replays", method: .post, headers: operatorHeaders, body: Self.json("{not json")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("invalid JSON body"))
            }
            try await client.execute(uri: "/v1/replays", method: .post, headers: operatorHeaders, body: Self.json(#"{"rate": "fast"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("rate"))
            }
            try await client.execute(uri: "/v1/replays", method: .post, headers: operatorHeaders, body: Self.json("{}")) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("fromDLQ"))
            }
            try await client.execute(uri: "/v1/replays", method: .post, headers: operatorHeaders, body: Self.json(#"{"fromDLQ": "nope"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("unknown lane"))
            }
            try await client.execute(uri: "/v1/replays", method: .post, headers: operatorHeaders, body: Self.json(#"{"fromDLQ": "quality", "dryRun": true}"#)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""state":"completed""#))
            }
            try await client.execute(uri: "/v1/replays", method: .get, headers: Self.bearer(Self.viewer)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("dlq.quality"))
            }
            let job = try await fixture.dependencies.replays.create(ReplayRequest(fromDLQ: "quality"), requestedBy: "test")
            try await client.execute(uri: "/v1/replays/\(job.id)", method: .get, headers: Self.bearer(Self.viewer)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/replays/\(job.id)/cancel", method: .post, headers: operatorHeaders) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""state":"cancelled""#))
            }
            try await client.execute(uri: "/v1/replays/\(job.id)/cancel", method: .post, headers: operatorHeaders) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/v1/replays/no-such-job", method: .get, headers: Self.bearer(Self.viewer)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/replays/no-such-job/cancel", method: .post, headers: operatorHeaders) { #expect($0.status == .notFound) }
        }
    }

    @Test func traceEndpoint() async throws {
        let fixture = try Fixture()
        try fixture.ledger.append([AuditRecord(
            eventID: "evt-1", lane: "quality", sourceTopic: "plant.quality.results", sourcePartition: 0, sourceOffset: 0,
            eventType: "quality.inspection.completed", eventSource: "plant/p1/lab", correlationID: "WO-1", ruleID: "r",
            policyVersion: "v", outcome: .workflow, reason: nil, outputs: [])])
        try await fixture.test { client in
            try await client.execute(uri: "/v1/trace/evt-1", method: .get, headers: Self.bearer(Self.viewer)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("WO-1"))
            }
            try await client.execute(uri: "/v1/trace/unknown", method: .get, headers: Self.bearer(Self.viewer)) { #expect($0.status == .notFound) }
        }
    }
}
