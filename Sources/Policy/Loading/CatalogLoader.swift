import Foundation
import Yams

/// Reads Topics/catalog.yaml and the schema files it names. Reports every problem found.
struct CatalogLoader {
    let directory: URL
    let displayPrefix: String
    let sink: DiagnosticSink

    static let topLevelKeys = ["version", "limits", "lanes", "topics"]
    static let laneKeys = ["name", "description", "transactional", "deadLetter", "objectives", "authority"]
    static let objectiveKeys = ["p99LatencyMs", "maxLag"]
    static let grantKeys = ["name", "sources", "types"]
    static let topicKeys = ["name", "description", "lane", "role", "owner", "key", "partitions", "replicationFactor", "cleanup", "retention", "compression", "contractVersion", "events"]
    static let eventKeys = ["type", "schema", "description"]
    /// Objectives feed alert thresholds: a p99 above an hour or a lag above a billion records
    /// is a typo, and the bounds keep derived arithmetic far from overflow.
    static let p99LatencyRange = 1...3_600_000
    static let maxLagRange = 1...1_000_000_000

    func load() -> Catalog? {
        let file = displayPrefix + "catalog.yaml"
        let text: String
        switch TopicsFile.text(directory.appendingPathComponent("catalog.yaml")) {
        case .success(let t): text = t
        case .failure(.missing):
            sink.error(file, 1, 1, "catalog.yaml not found", hint: "create it (see Topics/README.md) or pass --topics DIR pointing at a Topics directory")
            return nil
        case .failure(let error):
            TopicsFile.report(error, file: file, sink: sink)
            return nil
        }
        let yaml = YAMLDocument(file: file, text: text, sink: sink)
        guard let root = yaml.mapping(yaml.root, allowed: Self.topLevelKeys, what: "the catalog") else { return nil }
        let limits = LimitsLoader.load(yaml, root["limits"])
        var lanes: [Lane] = []
        var laneLocations: [String: SourceLocation] = [:]
        for node in yaml.sequence(root["lanes"], what: "lanes") {
            guard let m = yaml.mapping(node, allowed: Self.laneKeys, what: "a lane"), let name = m.string("name") else { continue }
            if laneLocations[name] != nil { sink.error(m.location(of: "name"), "duplicate lane '\(name)'", hint: "lane names must be unique") }
            laneLocations[name] = m.location(of: "name")
            var objectives = Lane.Objectives(p99LatencyMs: 1000, maxLag: 100_000)
            if let o = yaml.mapping(m["objectives"], allowed: Self.objectiveKeys, what: "objectives") {
                objectives = .init(p99LatencyMs: o.int("p99LatencyMs", range: Self.p99LatencyRange) ?? 1000, maxLag: o.int("maxLag", range: Self.maxLagRange) ?? 100_000)
            } else if !m.has("objectives") {
                sink.error(m.location, "lane '\(name)' is missing 'objectives'", hint: "add objectives: { p99LatencyMs: 250, maxLag: 100000 } (alert rules use them)")
            }
            var grants: [AuthorityGrant] = []
            for g in yaml.sequence(m["authority"], what: "authority") {
                guard let gm = yaml.mapping(g, allowed: Self.grantKeys, what: "an authority grant") else { continue }
                let sources = gm.strings("sources", required: true).map { Glob($0.0) }
                let types = gm.strings("types", required: true).map { Glob($0.0) }
                grants.append(AuthorityGrant(name: gm.string("name", required: false) ?? "grant-\(grants.count + 1)", sources: sources, types: types))
            }
            if !m.has("authority") {
                sink.error(m.location, "lane '\(name)' has no 'authority' list", hint: "list which sources may emit which event types; events outside it are dead-lettered with reason 'authority'")
            }
            lanes.append(Lane(name: name, transactional: m.bool("transactional") ?? false, deadLetterTopic: m.string("deadLetter") ?? "dlq.\(name)",
                              objectives: objectives, authority: grants, description: m.string("description", required: false)))
        }
        if lanes.isEmpty, root.has("lanes") == false { sink.error(root.location, "the catalog has no 'lanes'", hint: "declare at least one lane") }

        var topics: [Topic] = []
        var seen: Set<String> = []
        // Schemas that compiled cleanly, by file: a schema named by many events is read and
        // compiled once, not once per event. One with problems is compiled again where it is
        // named, so each naming event gets its diagnostics.
        var compiledSchemas: [URL: JSONSchema] = [:]
        for node in yaml.sequence(root["topics"], what: "topics") {
            guard let m = yaml.mapping(node, allowed: Self.topicKeys, what: "a topic"), let name = m.string("name") else { continue }
            if !seen.insert(name).inserted { sink.error(m.location(of: "name"), "duplicate topic '\(name)'", hint: "each topic appears once in the catalog") }
            let role = m.choice("role", TopicRole.self) ?? .source
            // The audit topic belongs to no lane: every lane writes it.
            let lane = m.string("lane", required: role != .audit) ?? ""
            if !lane.isEmpty, laneLocations[lane] == nil {
                sink.error(m.location(of: "lane"), "undefined lane '\(lane)'", hint: Suggest.hint(for: lane, in: lanes.map(\.name)))
            }
            let cleanup = m.choice("cleanup", CleanupPolicy.self) ?? .delete
            let retention = m.string("retention", required: cleanup == .delete, hint: "add e.g. 'retention: 7d' (delete topics need a retention)")
            let retentionMs = retention == nil ? nil
                : m.duration("retention", limit: InputLimits.maxRetentionMs, limitName: "InputLimits.maxRetentionMs", example: "7d")
            var events: [TopicEvent] = []
            for e in yaml.sequence(m["events"], what: "events") {
                guard let em = yaml.mapping(e, allowed: Self.eventKeys, what: "a topic event"), let type = em.string("type"),
                      let schemaPath = em.string("schema") else { continue }
                var schema: JSONSchema?
                switch TopicsFile.resolve(schemaPath, in: directory) {
                case .success(let url):
                    if let compiled = compiledSchemas[url] {
                        schema = compiled
                    } else {
                        let problemsBefore = sink.diagnostics.count
                        schema = JSONSchemaCompiler.load(url: url, displayPath: displayPrefix + schemaPath, sink: sink)
                        if let schema, sink.diagnostics.count == problemsBefore { compiledSchemas[url] = schema }
                    }
                case .failure(.missing):
                    sink.error(em.location(of: "schema"), "undefined schema '\(schemaPath)'", hint: "create \(displayPrefix)\(schemaPath) or fix the path (relative to the Topics directory)")
                case .failure(.outside):
                    sink.error(em.location(of: "schema"), "schema path '\(schemaPath)' leaves the Topics directory",
                               hint: "schemas live inside the Topics directory; write a relative path such as schemas/\(schemaPath.split(separator: "/").last.map(String.init) ?? "name.json")")
                case .failure(.linksOutside):
                    sink.error(em.location(of: "schema"), "schema path '\(schemaPath)' is a symbolic link that leads out of the Topics directory",
                               hint: "copy the schema into the Topics directory instead of linking to it")
                }
                events.append(TopicEvent(type: type, schemaFile: schemaPath, schema: schema ?? .anything, description: em.string("description", required: false), typeBytes: Array(type.utf8)))
            }
            if events.isEmpty, role != .deadLetter {
                sink.error(m.location, "topic '\(name)' declares no events", hint: "add 'events:' with the event types it carries and their schema files")
            }
            topics.append(Topic(name: name, lane: lane, role: role, owner: m.string("owner") ?? "", key: m.string("key") ?? "",
                                partitions: m.int("partitions", range: 1...10_000) ?? 1, replicationFactor: m.int("replicationFactor", range: 1...16) ?? 1,
                                cleanup: cleanup, retention: retention, retentionMs: retentionMs,
                                compression: m.choice("compression", Compression.self, required: false) ?? .default,
                                contractVersion: m.string("contractVersion") ?? "",
                                description: m.string("description", required: false), events: events, location: m.location))
        }
        for lane in lanes {
            guard let location = laneLocations[lane.name] else { continue }
            guard let dlq = topics.first(where: { $0.name == lane.deadLetterTopic }) else {
                sink.error(location, "lane '\(lane.name)' names dead-letter topic '\(lane.deadLetterTopic)' which is not in the catalog", hint: "add it under topics with role: dead-letter")
                continue
            }
            if dlq.role != .deadLetter { sink.error(dlq.location, "'\(dlq.name)' is lane '\(lane.name)''s dead-letter topic but has role \(dlq.role.rawValue)", hint: "set role: dead-letter") }
        }
        let auditTopics = topics.filter { $0.role == .audit }
        for extra in auditTopics.dropFirst() {
            sink.error(extra.location, "'\(extra.name)' is a second audit topic (the first is '\(auditTopics[0].name)')", hint: "the catalog has one audit topic; every instance writes and reads it")
        }
        if let audit = auditTopics.first, audit.cleanup == .compact {
            sink.error(audit.location, "audit topic '\(audit.name)' is compacted", hint: "use 'cleanup: delete' with a retention at least as long as the source and dead-letter topics': compaction would drop decisions")
        }
        return Catalog(lanes: lanes, topics: topics, limits: limits)
    }
}
