import Foundation
import Policy
import PlantSimulation

/// The Topics/ directory shipped in the repository.
let defaultTopics = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Topics")

/// The default policy, loaded once per test process.
let defaultPolicy: LoadedPolicy = {
    do { return try TopicsDirectory.load(at: defaultTopics) } catch { fatalError("default Topics/ does not load:\n\(error)") }
}()

/// A binary-mode CloudEvent.
func cloudEvent(topic: String = "plant.telemetry.readings", type: String = "plant.telemetry.reading", source: String = "plant/hamburg/gateway/l1",
                id: String = "e-1", time: String? = "2026-03-01T08:00:00Z", key: String? = "L1-FILL1", body: String,
                extraHeaders: [EventHeader] = [], omit: Set<String> = []) -> RawEvent {
    var headers = [EventHeader("ce_specversion", "1.0"), EventHeader("ce_id", id), EventHeader("ce_source", source), EventHeader("ce_type", type),
                   EventHeader("content-type", "application/json")]
    if let time { headers.append(EventHeader("ce_time", time)) }
    headers = headers.filter { !omit.contains($0.name) } + extraHeaders
    return RawEvent(topic: topic, key: key.map { Array($0.utf8) }, value: Array(body.utf8), headers: headers)
}

func reading(asset: String = "L1-FILL1", metric: String = "throughput", value: Double, at seconds: Int, id: String? = nil) -> RawEvent {
    cloudEvent(id: id ?? "r-\(asset)-\(seconds)", time: RFC3339.format(1_772_352_000_000 + Int64(seconds) * 1000), key: asset,
               body: #"{"asset":"\#(asset)","line":"L1","metric":"\#(metric)","value":\#(value),"unit":"x"}"#)
}

/// A temporary Topics directory written from strings; files named relative to it.
struct Fixture {
    let url: URL

    init(_ files: [String: String]) {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-fixture-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url.appendingPathComponent("schemas"), withIntermediateDirectories: true)
        for (name, text) in files { write(name, text) }
    }

    func write(_ name: String, _ text: String) {
        try! text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// Diagnostics of loading this fixture (empty when it loads).
    func diagnostics() -> [Diagnostic] {
        do { _ = try TopicsDirectory.load(at: url); return [] } catch { return error.diagnostics }
    }

    func load() throws -> LoadedPolicy { try TopicsDirectory.load(at: url) }
}

/// A minimal valid catalog with one source, one workflow and one analytics topic.
let fixtureCatalog = """
lanes:
  - name: plant
    transactional: false
    deadLetter: dlq.plant
    objectives: { p99LatencyMs: 100, maxLag: 1000 }
    authority:
      - name: gateways
        sources: ["gw/*"]
        types: ["reading", "alarm"]
topics:
  - name: in
    lane: plant
    role: source
    owner: t
    key: asset
    partitions: 1
    replicationFactor: 1
    cleanup: delete
    retention: 1d
    contractVersion: 1.0.0
    events:
      - type: reading
        schema: schemas/reading.json
      - type: alarm
        schema: schemas/reading.json
  - name: mes
    lane: plant
    role: correlation
    owner: t
    key: order
    partitions: 1
    replicationFactor: 1
    cleanup: compact
    contractVersion: 1.0.0
    events:
      - type: wo
        schema: schemas/reading.json
  - name: out
    lane: plant
    role: workflow
    owner: t
    key: asset
    partitions: 1
    replicationFactor: 1
    cleanup: delete
    retention: 1d
    contractVersion: 1.0.0
    events:
      - type: out.event
        schema: schemas/out.json
  - name: an
    lane: plant
    role: analytics
    owner: t
    key: asset
    partitions: 1
    replicationFactor: 1
    cleanup: delete
    retention: 1d
    contractVersion: 1.0.0
    events:
      - type: reading
        schema: schemas/reading.json
      - type: alarm
        schema: schemas/reading.json
  - { name: dlq.plant, lane: plant, role: dead-letter, owner: t, key: k, partitions: 1, replicationFactor: 1, cleanup: delete, retention: 1d, contractVersion: 1.0.0 }
"""

let fixtureReadingSchema = """
{ "type": "object", "required": ["asset", "value"],
  "properties": { "asset": { "type": "string" }, "value": { "type": "number" }, "state": { "type": "string" }, "tags": { "type": "array" } },
  "additionalProperties": false }
"""

let fixtureOutSchema = """
{ "type": "object", "required": ["asset"], "properties": { "asset": { "type": "string" }, "avg": { "type": "number" } }, "additionalProperties": false }
"""

/// A fixture with the standard catalog and schemas and the given policy text.
func policyFixture(_ policy: String) -> Fixture {
    Fixture(["catalog.yaml": fixtureCatalog, "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema, "policy.yaml": policy])
}

extension Outcome {
    var topics: [String] { targetTopics }
    /// The emissions of a workflow outcome (empty otherwise).
    var workflowEmissions: [Emission] { if case .workflow(let e) = self { e } else { [] } }
    var deadLetterReason: DeadLetterReason? { if case .deadLetter(let r, _) = self { r } else { nil } }
    var deadLetterMessage: String? { if case .deadLetter(_, let m) = self { m } else { nil } }
}
