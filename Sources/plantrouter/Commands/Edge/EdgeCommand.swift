import ArgumentParser
import Edge
import Foundation
import Logging

struct EdgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge",
        abstract: "Store-and-forward at the plant edge: CloudEvents over HTTP into a durable spool, forwarded to the enterprise cluster.",
        discussion: """
            `plantrouter edge --config edge.yaml` runs the edge (see Deploy/edge.yaml); \
            `plantrouter edge status --config edge.yaml` reads its spool read-only.
            """,
        subcommands: [EdgeRunCommand.self, EdgeStatusCommand.self, EdgeDemoCommand.self],
        defaultSubcommand: EdgeRunCommand.self
    )
}

struct EdgeRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Serve POST /v1/events, spool every event durably before answering 202, forward at the configured rate.",
        discussion: "SIGTERM or SIGINT stops ingest, waits up to 5 s for in-flight deliveries and exits; what is unacknowledged stays spooled and is sent again (same ce_id) on the next start."
    )

    @Option(name: .shortAndLong, help: "Edge configuration (YAML), e.g. Deploy/edge.yaml.")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        LoggingSetup.bootstrap(level: logLevel)
        let logger = Logger(label: "plantrouter.edge")
        let configuration: EdgeConfiguration
        let tokens: GatewayTokens
        do {
            configuration = try EdgeConfiguration.load(path: config)
            tokens = try GatewayTokens.load(file: configuration.tokensFile)
        } catch {
            throw ValidationError("\(error)")
        }
        let node = try EdgeNode(configuration: configuration, tokens: tokens, logger: logger)
        logger.info("plantrouter edge \(PlantRouterVersion.current): ingest on http://\(configuration.host):\(configuration.port)/v1/events, spool \(configuration.spool.path), forwarding to \(configuration.bootstrapServers) at \(Int(configuration.drainRate)) events/s")
        try await node.run()
    }
}

struct EdgeStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Spool depth, bytes, oldest unsent age and forwarded/shed/rejected counts per lane (opens the spool read-only)."
    )

    @Option(name: .shortAndLong, help: "Edge configuration (YAML).")
    var config: String

    @Flag(help: "One JSON object on standard output.")
    var json = false

    func run() throws {
        let configuration: EdgeConfiguration
        do { configuration = try EdgeConfiguration.load(path: config) } catch { throw ValidationError("\(error)") }
        guard FileManager.default.fileExists(atPath: configuration.spool.path) else {
            throw ValidationError("\(configuration.spool.path): no spool yet (plantrouter edge has not run with this configuration)")
        }
        let stats = try Spool.readStatistics(path: configuration.spool.path, quota: configuration.quota)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(stats), as: UTF8.self))
            return
        }
        let nowMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        var rows = [["lane", "spooled", "bytes", "oldest", "forwarded", "shed", "rejected", "downsampled"]]
        for lane in stats.lanes {
            let age = lane.oldestArrivedMs.map { "\(max(0, nowMs - $0) / 1000)s" } ?? "-"
            rows.append([lane.lane, "\(lane.events)", "\(lane.bytes)", age, "\(lane.forwarded)", "\(lane.shed)", "\(lane.rejected)", "\(lane.downsampled)"])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $0.offset == 0 ? $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
                                                         : String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element }
                .joined(separator: "  "))
        }
        for (name, bytes) in stats.classBytes.sorted(by: { $0.key < $1.key }) {
            let quota = stats.quota[name] ?? 0
            let percent = quota > 0 ? Double(bytes) * 100 / Double(quota) : 0
            print("\(name): \(bytes) of \(quota) bytes (\(String(format: "%.1f", percent)) %)")
        }
    }
}
