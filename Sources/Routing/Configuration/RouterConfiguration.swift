import Foundation
import Kafka
import Policy
import Yams

/// `plantrouter run --config FILE`: which cluster, which Topics/ directory,
/// where the SQLite ledger lives, and the admin endpoint. Relative paths are
/// resolved against the configuration file's folder.
public struct RouterConfiguration: Sendable, Decodable {
    public struct Cluster: Sendable, Decodable {
        public var bootstrapServers: String
        /// Any librdkafka property (security.protocol, sasl.*, ssl.*, …) for every client.
        /// A property librdkafka defines for one kind only (`fetch.wait.max.ms`, `linger.ms`)
        /// reaches that kind only; say so by putting it under `consumer` or `producer`.
        public var properties: [String: String] = [:]
        /// librdkafka properties for the consumers only (lanes, correlation reader, tools' readers).
        public var consumer: [String: String] = [:]
        /// librdkafka properties for the producers only (lanes, replays, simulate).
        public var producer: [String: String] = [:]

        public init(bootstrapServers: String, properties: [String: String] = [:]) {
            self.bootstrapServers = bootstrapServers
            self.properties = properties
        }

        // `properties`, `consumer` and `producer` are optional in the file.
        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: ["bootstrapServers", "properties", "consumer", "producer"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            bootstrapServers = try container.decode(String.self, forKey: .bootstrapServers)
            properties = try container.decodeIfPresent([String: String].self, forKey: .properties) ?? [:]
            consumer = try container.decodeIfPresent([String: String].self, forKey: .consumer) ?? [:]
            producer = try container.decodeIfPresent([String: String].self, forKey: .producer) ?? [:]
            for key in consumer.keys.sorted() where PropertyScope(property: key) == .producer {
                throw DecodingError.dataCorruptedError(
                    forKey: .consumer, in: container,
                    debugDescription: "cluster.consumer.\(key) is a producer property (librdkafka CONFIGURATION.md); move it under cluster.producer")
            }
            for key in producer.keys.sorted() where PropertyScope(property: key) == .consumer {
                throw DecodingError.dataCorruptedError(
                    forKey: .producer, in: container,
                    debugDescription: "cluster.producer.\(key) is a consumer property (librdkafka CONFIGURATION.md); move it under cluster.consumer")
            }
        }

        enum CodingKeys: String, CodingKey { case bootstrapServers, properties, consumer, producer }
    }

    public struct AdminEndpoint: Sendable, Decodable {
        /// Loopback by default: expose deliberately.
        public var host = "127.0.0.1"
        public var port = 8080
        /// YAML or JSON map of bearer token → role (viewer, operator); see Docs/Operations.md.
        /// PLANTROUTER_ADMIN_TOKENS adds tokens from the environment.
        public var tokensFile: String?

        public init() {}

        public init(from decoder: any Decoder) throws {
            try StrictKeys.check(decoder, allowed: ["host", "port", "tokensFile"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            host = try container.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
            port = try StrictKeys.int(container, .port, default: 8080, in: 0...65_535)  // 0: any free port
            tokensFile = try container.decodeIfPresent(String.self, forKey: .tokensFile)
        }

        enum CodingKeys: String, CodingKey { case host, port, tokensFile }
    }

    public var cluster: Cluster
    public var topics: String = "Topics"
    public var database: String = "plantrouter.sqlite"
    /// Unique per instance and stable across its restarts (transactional ids derive from it).
    public var instanceID: String = ProcessInfo.processInfo.hostName
    /// Consumer groups are `<groupPrefix>-<lane>`; instances sharing it share partitions.
    public var groupPrefix: String = "plantrouter"
    public var admin = AdminEndpoint()
    /// Per-lane tuning, by lane name.
    public var lanes: [String: LaneSettings] = [:]

    public init(bootstrapServers: String, topics: String = "Topics", database: String = "plantrouter.sqlite") {
        cluster = Cluster(bootstrapServers: bootstrapServers)
        self.topics = topics
        self.database = database
    }

    public var kafka: KafkaConfiguration {
        KafkaConfiguration(
            bootstrapServers: cluster.bootstrapServers, clientID: "plantrouter-\(instanceID)", properties: cluster.properties,
            consumerProperties: cluster.consumer, producerProperties: cluster.producer)
    }

    public func settings(for lane: String) -> LaneSettings { lanes[lane] ?? LaneSettings() }

    static let knownKeys: Set<String> = ["cluster", "topics", "database", "instanceID", "groupPrefix", "admin", "lanes"]

    /// Loads and checks a configuration file; errors say what is wrong and how to fix it.
    public static func load(path: String) throws -> RouterConfiguration {
        let url = URL(fileURLWithPath: path)
        let text: String
        switch TopicsFile.text(url) {
        case .success(let read): text = read
        case .failure(.missing), .failure(.notARegularFile):
            throw RouterConfigurationError(path: path, message: "cannot read the file; pass an existing YAML file to --config")
        case .failure(.tooLarge(let bytes)):
            throw RouterConfigurationError(path: path, message: "the file is \(bytes) bytes, over the limit of \(InputLimits.maxTopicsFileBytes) bytes (maxTopicsFileBytes)")
        case .failure(.notUTF8):
            throw RouterConfigurationError(path: path, message: "the file is not valid UTF-8; save it as UTF-8")
        }
        // Anchors, aliases and runaway nesting are refused before Yams expands anything.
        if let problem = YAMLPreflight.check(text).first {
            throw RouterConfigurationError(path: path, message: "\(problem)")
        }
        do {
            var configuration = try YAMLDecoder().decode(RouterConfiguration.self, from: text)
            let folder = url.deletingLastPathComponent()
            configuration.topics = resolve(configuration.topics, against: folder)
            configuration.database = resolve(configuration.database, against: folder)
            configuration.admin.tokensFile = configuration.admin.tokensFile.map { resolve($0, against: folder) }
            return configuration
        } catch let error as RouterConfigurationError {
            throw error
        } catch let error as DecodingError {
            throw RouterConfigurationError(path: path, message: describe(error))
        } catch {
            throw RouterConfigurationError(path: path, message: "\(error)")
        }
    }

    private static func resolve(_ path: String, against folder: URL) -> String {
        path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
    }

    private static func describe(_ error: DecodingError) -> String {
        func where_(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "at the top level" : "at '\(path.map(\.stringValue).joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)' \(where_(context.codingPath)); e.g. cluster: { bootstrapServers: localhost:9092 }"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription) \(where_(context.codingPath))"
        @unknown default:
            return "\(error)"
        }
    }
}

extension RouterConfiguration {
    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Self.knownKeys.sorted())
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cluster = try container.decode(Cluster.self, forKey: .cluster)
        topics = try container.decodeIfPresent(String.self, forKey: .topics) ?? "Topics"
        database = try container.decodeIfPresent(String.self, forKey: .database) ?? "plantrouter.sqlite"
        instanceID = try container.decodeIfPresent(String.self, forKey: .instanceID) ?? ProcessInfo.processInfo.hostName
        groupPrefix = try container.decodeIfPresent(String.self, forKey: .groupPrefix) ?? "plantrouter"
        admin = try container.decodeIfPresent(AdminEndpoint.self, forKey: .admin) ?? AdminEndpoint()
        lanes = try container.decodeIfPresent([String: LaneSettings].self, forKey: .lanes) ?? [:]
    }

    enum CodingKeys: String, CodingKey { case cluster, topics, database, instanceID, groupPrefix, admin, lanes }
}

public struct RouterConfigurationError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
