import ArgumentParser
import Foundation
import Kafka
import Policy
import Replay
import Routing

/// Where a tool finds the cluster, the Topics/ directory and the ledger: a router
/// configuration file, or each given directly.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Router configuration (YAML); gives the cluster, Topics/ and the ledger.")
    var config: String?

    @Option(help: "Kafka bootstrap servers (HOST:PORT) when there is no --config.")
    var bootstrap: String?

    @Option(help: "Topics/ directory (default: the configuration's, else ./Topics).")
    var topics: String?

    @Option(help: "SQLite ledger (default: the configuration's, else ./plantrouter.sqlite).")
    var database: String?

    /// These options as they were given (` --config FILE`…), for a command to suggest next.
    var commandLine: String {
        let given = [("--config", config), ("--bootstrap", bootstrap), ("--topics", topics), ("--database", database)]
        return given.compactMap { name, value in value.map { " \(name) \(Self.quoted($0))" } }.joined()
    }

    private static func quoted(_ value: String) -> String {
        value.allSatisfy { $0.isLetter || $0.isNumber || "/._-:,=@".contains($0) } ? value : "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    struct Resolved {
        var cluster: KafkaConfiguration
        var topics: String
        var database: String
    }

    /// Commands that only read the ledger (`replay list/status/cancel`) pass `needsCluster: false`.
    func resolve(needsCluster: Bool = true) throws -> Resolved {
        if let config {
            let configuration = try RouterConfiguration.load(path: config)
            var cluster = configuration.kafka
            if let bootstrap { cluster.bootstrapServers = bootstrap }
            return Resolved(cluster: cluster, topics: topics ?? configuration.topics, database: database ?? configuration.database)
        }
        guard let bootstrap = bootstrap ?? (needsCluster ? nil : "localhost:9092") else {
            throw ValidationError("say which cluster to read: --config FILE (a router configuration) or --bootstrap HOST:PORT")
        }
        return Resolved(
            cluster: KafkaConfiguration(bootstrapServers: bootstrap, clientID: "plantrouter-tools"),
            topics: topics ?? "Topics", database: database ?? "plantrouter.sqlite")
    }
}

/// The selection filters shared by `dlq` and `replay`.
struct FilterOptions: ParsableArguments {
    @Option(help: "Only records at or after this time (RFC 3339, e.g. 2026-03-01T08:00:00Z).")
    var from: Date?

    @Option(help: "Only records before this time (RFC 3339).")
    var to: Date?

    @Option(help: "Dead-letter reason: parse, schema, authority, policy, target, quarantine.")
    var reason: String?

    @Option(help: "CloudEvents type (a trailing * matches a prefix).")
    var type: String?

    @Option(help: "CloudEvents source (a trailing * matches a prefix).")
    var source: String?

    @Option(help: "Record key.")
    var key: String?

    @Option(help: "Work order (or event id): the records of its audit trail in the ledger, as `plantrouter trace` shows it.")
    var correlationId: String?

    var filter: ReplayFilter {
        ReplayFilter(from: from, until: to, reason: reason, type: type, source: source, key: key, correlationID: correlationId)
    }
}

extension Date: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let date = try? Date(argument, strategy: .iso8601) else { return nil }
        self = date
    }
}

extension KafkaConfiguration {
    /// Tools read fixed ranges and leave: fetch waits stay short so they finish promptly.
    /// A consumer setting, so it goes to consumers only (producers would print CONFWARN).
    var forTools: KafkaConfiguration {
        var copy = self
        if copy.properties["fetch.wait.max.ms"] == nil && copy.consumerProperties["fetch.wait.max.ms"] == nil {
            copy.consumerProperties["fetch.wait.max.ms"] = "50"
        }
        return copy
    }
}

func loadPolicyHolder(_ path: String) throws -> PolicyHolder {
    do {
        return try PolicyHolder(loadingFrom: URL(fileURLWithPath: path))
    } catch {
        throw ValidationError("the policy in \(path) does not load (pass --topics DIR or fix it; `plantrouter policy check` lists the errors):\n\(error)")
    }
}
