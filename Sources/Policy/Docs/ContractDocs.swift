import Foundation
import Yams

/// Documentation for downstream teams, generated from the catalog: an AsyncAPI 3.0 document and
/// a Markdown contract table. Built with Yams' Node API so key order is kept as written.
public enum ContractDocs {
    public static func asyncAPI(_ policy: LoadedPolicy) throws -> String {
        let catalog = policy.catalog
        func s(_ text: String) -> Node { Node(text) }
        func map(_ pairs: [(String, Node)]) -> Node { Node(pairs.map { (Node($0.0), $0.1) }) }
        func messageName(_ type: String) -> String { type.replacingOccurrences(of: ".", with: "_") }
        var channels: [(String, Node)] = []
        var operations: [(String, Node)] = []
        var messages: [(String, Node)] = []
        var seenMessages: Set<String> = []
        for topic in catalog.topics where topic.role != .deadLetter {
            let channelID = topic.name.replacingOccurrences(of: ".", with: "_")
            var channelMessages: [(String, Node)] = []
            for event in topic.events {
                let name = messageName(event.type)
                channelMessages.append((name, map([("$ref", s("#/components/messages/\(name)"))])))
                if seenMessages.insert(name).inserted {
                    messages.append((name, map([
                        ("name", s(event.type)),
                        ("contentType", s("application/json")),
                        ("summary", s(event.description ?? "CloudEvents type \(event.type)")),
                        ("headers", map([("type", s("object")), ("properties", map([
                            ("ce_id", map([("type", s("string"))])), ("ce_source", map([("type", s("string"))])),
                            ("ce_type", map([("type", s("string")), ("const", s(event.type))])), ("ce_time", map([("type", s("string")), ("format", s("date-time"))])),
                            ("correlation-id", map([("type", s("string")), ("description", s("work order id, when known"))])),
                            ("idempotency-key", map([("type", s("string")), ("description", s("deterministic per (source event, rule, target)"))])),
                        ]))])),
                        ("payload", yamlNode(event.schema.source)),
                    ])))
                }
            }
            channels.append((channelID, map([
                ("address", s(topic.name)),
                ("description", s(topic.description ?? "")),
                ("messages", map(channelMessages)),
                ("bindings", map([("kafka", map([("partitions", Node(String(topic.partitions), Tag(.int))), ("replicas", Node(String(topic.replicationFactor), Tag(.int))),
                                                 ("topicConfiguration", map([("cleanup.policy", Node([s(topic.cleanup.rawValue)]))] + (topic.retentionMs.map { [("retention.ms", Node(String($0), Tag(.int)))] } ?? []))),
                                                 ("bindingVersion", s("0.5.0"))]))])),
                ("x-plantrouter", map([("lane", s(topic.lane)), ("role", s(topic.role.rawValue)), ("owner", s(topic.owner)), ("key", s(topic.key)), ("contractVersion", s(topic.contractVersion))])),
            ])))
            let action = topic.role == .source || topic.role == .correlation ? "receive" : "send"
            operations.append(("\(action)_\(channelID)", map([
                ("action", s(action)),
                ("channel", map([("$ref", s("#/channels/\(channelID)"))])),
                ("summary", s(action == "receive" ? "PlantRouter consumes \(topic.name)" : "PlantRouter produces \(topic.name) for \(topic.owner)")),
            ])))
        }
        let document = map([
            ("asyncapi", s("3.0.0")),
            ("info", map([("title", s("PlantRouter event contracts")), ("version", s(policy.version)),
                          ("description", s("Generated from Topics/catalog.yaml by `plantrouter topics docs`. Policy: \(policy.description ?? policy.version)"))])),
            ("defaultContentType", s("application/json")),
            ("channels", map(channels)),
            ("operations", map(operations)),
            ("components", map([("messages", map(messages))])),
        ])
        return try Yams.serialize(node: document, sortKeys: false)
    }

    static func yamlNode(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? Node(String(Int64(n)), Tag(.int)) : Node(String(n), Tag(.float))
        case .string(let s): return Node(s, Tag(.str), .doubleQuoted)
        case .array(let items): return Node(items.map(yamlNode))
        case .object(let fields): return Node(fields.map { (Node($0.name), yamlNode($0.value)) })
        }
    }

    /// One row per topic, then one row per rule, for humans reviewing the contract.
    public static func markdown(_ policy: LoadedPolicy) -> String {
        var out = "# PlantRouter topic contracts\n\nPolicy version `\(policy.version)`. Generated by `plantrouter topics docs` from `Topics/`; do not edit by hand.\n\n"
        out += "| Topic | Role | Lane | Owner | Key | Partitions × RF | Cleanup / retention | Contract | Event types (schema) |\n|---|---|---|---|---|---|---|---|---|\n"
        for t in policy.catalog.topics {
            let events = t.events.map { "`\($0.type)` (\($0.schemaFile))" }.joined(separator: "<br>")
            out += "| `\(t.name)` | \(t.role.rawValue) | \(t.lane) | \(t.owner) | \(t.key) | \(t.partitions) × \(t.replicationFactor) | \(t.cleanup.rawValue)\(t.retention.map { " / \($0)" } ?? "") | \(t.contractVersion) | \(events.isEmpty ? "original bytes + context headers" : events) |\n"
        }
        out += "\n## Lanes\n\n| Lane | Transactional | Dead-letter topic | p99 objective | Max lag | Authority (sources → types) |\n|---|---|---|---|---|---|\n"
        for l in policy.catalog.lanes {
            let grants = l.authority.map { "\($0.sources.map(\.pattern).joined(separator: ", ")) → \($0.types.map(\.pattern).joined(separator: ", "))" }.joined(separator: "<br>")
            out += "| \(l.name) | \(l.transactional ? "yes" : "no") | `\(l.deadLetterTopic)` | \(l.objectives.p99LatencyMs) ms | \(l.objectives.maxLag) | \(grants) |\n"
        }
        out += "\n## Rules (first match wins, in this order)\n\n| Rule | Source topic | Types | Outcome | Targets |\n|---|---|---|---|---|\n"
        for r in policy.ruleSummaries {
            out += "| `\(r.id)` | `\(r.topic)` | \(r.types.joined(separator: ", ")) | \(r.outcome) | \(r.targets.map { "`\($0)`" }.joined(separator: ", ")) |\n"
        }
        return out
    }
}
