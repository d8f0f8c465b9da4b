import Foundation
import Policy
import Yams

/// `edge.yaml`: what `plantrouter edge` listens on, where it spools, how much disk each
/// priority class may use and where (and how fast) it forwards. Every key is optional except
/// `cluster.bootstrapServers`; unknown keys are refused with a hint. Relative paths are
/// resolved against the file's folder. `Deploy/edge.yaml` is the commented template.
public struct EdgeConfiguration: Sendable {
    /// The enterprise cluster the spool drains to.
    public var bootstrapServers: String
    /// librdkafka properties for the forwarding producer (`security.protocol`, `sasl.*`, …).
    public var producerProperties: [String: String] = [:]
    /// Topics/ folder (catalog, schemas, policy): the same contract the central router runs.
    public var topics: URL
    /// The spool's SQLite file. Default `edge-spool.sqlite`.
    public var spool: URL
    /// Ingest listener. Default 0.0.0.0:8090 (gateways are on the plant network).
    public var host = "0.0.0.0"
    public var port = 8090
    /// Gateway bearer tokens: a YAML map `token: gateway-name`, mode 600 (refused otherwise).
    /// `PLANTROUTER_EDGE_TOKENS` (`token=name,token=name`) adds to it.
    public var tokensFile: String?
    /// Drain rate to the enterprise cluster, events per second, live and backlog together.
    /// Default 5,000.
    public var drainRate: Double = 5000
    /// Records handed to librdkafka and not yet acknowledged, at most. Default 5,000.
    public var inFlight = 5000
    /// Disk quota per priority class, bytes of spooled events (key + value + headers + 64
    /// bytes of row overhead each). Defaults: business 2 GiB, telemetry 1 GiB.
    public var quota: [PriorityClass: Int64] = [.business: 2 << 30, .telemetry: 1 << 30]
    /// Lanes whose events may be shed (oldest first) when their class is full. Default
    /// `[telemetry]`; every other lane is business and is never shed.
    public var sheddableLanes: Set<String> = ["telemetry"]
    /// Telemetry downsampling before the WAN: lane → interval in ms (`downsample: {telemetry: 10s}`).
    /// Of one key's events on such a lane, one per interval is spooled and forwarded; the rest are
    /// counted (`downsampled`). Only sheddable lanes; none by default.
    public var downsampleMs: [String: Int64] = [:]
    /// `Retry-After` seconds on a 503 for a full business quota. Default 5.
    public var retryAfterSeconds = 5
    /// SQLite `synchronous` for the spool: `full` (default; every acknowledged event survives
    /// a power cut) or `normal` (survives a process crash; a power cut may lose the last commits).
    public var synchronousFull = true

    public init(bootstrapServers: String, topics: URL, spool: URL) {
        self.bootstrapServers = bootstrapServers
        self.topics = topics
        self.spool = spool
    }

    public func priorityClass(ofLane lane: String) -> PriorityClass {
        sheddableLanes.contains(lane) ? .telemetry : .business
    }

    /// Largest quota per class: 1 PiB, so that spool accounting (bytes in Int64) never overflows.
    static let maxQuotaBytes: Int64 = 1 << 50

    static let knownKeys = ["cluster", "topics", "spool", "listen", "tokensFile", "drain", "quota", "shed", "downsample", "retryAfterSeconds", "synchronous"]

    /// Reads and checks `path`.
    public static func load(path: String) throws -> EdgeConfiguration {
        let url = URL(fileURLWithPath: path)
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw EdgeConfigurationError("\(path): cannot read the edge configuration: \(error.localizedDescription)")
        }
        guard text.utf8.count <= InputLimits.maxTopicsFileBytes else {
            throw EdgeConfigurationError("\(path): larger than \(InputLimits.maxTopicsFileBytes) bytes")
        }
        return try parse(text, folder: url.deletingLastPathComponent(), origin: path)
    }

    /// Parses YAML `text`; relative paths are resolved against `folder`.
    public static func parse(_ text: String, folder: URL, origin: String = "edge.yaml") throws -> EdgeConfiguration {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw EdgeConfigurationError("\(origin): not valid YAML: \(error)") }
        guard let root = loaded as? [String: Any] else { throw EdgeConfigurationError("\(origin): expected a mapping at the top") }
        try refuseUnknown(root, allowed: knownKeys, at: origin)

        guard let cluster = root["cluster"] as? [String: Any] else {
            throw EdgeConfigurationError("\(origin): cluster.bootstrapServers is required (the enterprise cluster, host:port[,host:port])")
        }
        try refuseUnknown(cluster, allowed: ["bootstrapServers", "producer"], at: "\(origin): cluster")
        guard let bootstrap = cluster["bootstrapServers"] as? String, !bootstrap.isEmpty else {
            throw EdgeConfigurationError("\(origin): cluster.bootstrapServers must be a non-empty host:port list")
        }
        func path(_ key: String, default fallback: String) throws -> URL {
            let value = root[key].map { "\($0)" } ?? fallback
            return value.hasPrefix("/") ? URL(fileURLWithPath: value) : folder.appendingPathComponent(value)
        }
        var configuration = EdgeConfiguration(
            bootstrapServers: bootstrap, topics: try path("topics", default: "Topics"), spool: try path("spool", default: "edge-spool.sqlite"))
        if let producer = cluster["producer"] {
            guard let map = producer as? [String: Any] else { throw EdgeConfigurationError("\(origin): cluster.producer must map librdkafka keys to values") }
            configuration.producerProperties = map.mapValues { "\($0)" }
        }
        if let listen = root["listen"] {
            guard let map = listen as? [String: Any] else { throw EdgeConfigurationError("\(origin): listen must be {host, port}") }
            try refuseUnknown(map, allowed: ["host", "port"], at: "\(origin): listen")
            if let host = map["host"] { configuration.host = "\(host)" }
            if let port = map["port"] { configuration.port = try int(port, "listen.port", in: 0...65_535, origin) }
        }
        if let file = root["tokensFile"] {
            let value = "\(file)"
            configuration.tokensFile = value.hasPrefix("/") ? value : folder.appendingPathComponent(value).path
        }
        if let drain = root["drain"] {
            guard let map = drain as? [String: Any] else { throw EdgeConfigurationError("\(origin): drain must be {rate, inFlight}") }
            try refuseUnknown(map, allowed: ["rate", "inFlight"], at: "\(origin): drain")
            if let rate = map["rate"] {
                guard let value = Double("\(rate)"), (1...1_000_000).contains(value) else {
                    throw EdgeConfigurationError("\(origin): drain.rate must be 1…1000000 events per second, got \(rate)")
                }
                configuration.drainRate = value
            }
            if let inFlight = map["inFlight"] { configuration.inFlight = try int(inFlight, "drain.inFlight", in: 1...100_000, origin) }
        }
        if let quota = root["quota"] {
            guard let map = quota as? [String: Any] else { throw EdgeConfigurationError("\(origin): quota must be {business: SIZE, telemetry: SIZE}") }
            try refuseUnknown(map, allowed: PriorityClass.allCases.map(\.rawValue), at: "\(origin): quota")
            for priority in PriorityClass.allCases {
                if let value = map[priority.rawValue] {
                    guard let bytes = parseSize("\(value)"), bytes <= maxQuotaBytes else {
                        throw EdgeConfigurationError("\(origin): quota.\(priority.rawValue) '\(value)' is not a size up to 1024TiB (e.g. 512MiB, 2GiB, 1048576)")
                    }
                    configuration.quota[priority] = bytes
                }
            }
        }
        if let shed = root["shed"] {
            guard let lanes = shed as? [Any] else { throw EdgeConfigurationError("\(origin): shed must be a list of lane names, e.g. [telemetry]") }
            configuration.sheddableLanes = Set(lanes.map { "\($0)" })
            let business = ["production", "orders", "quality"].filter(configuration.sheddableLanes.contains)
            guard business.isEmpty else {
                throw EdgeConfigurationError("\(origin): shed lists business lane(s) \(business.joined(separator: ", ")); business events are never shed")
            }
        }
        if let downsample = root["downsample"] {
            guard let map = downsample as? [String: Any] else {
                throw EdgeConfigurationError("\(origin): downsample must map sheddable lanes to an interval, e.g. {telemetry: 10s}")
            }
            for (lane, value) in map.sorted(by: { $0.key < $1.key }) {
                guard configuration.sheddableLanes.contains(lane) else {
                    throw EdgeConfigurationError("\(origin): downsample.\(lane): only sheddable lanes (shed: \(configuration.sheddableLanes.sorted())) may be downsampled; business events always leave the plant")
                }
                guard let ms = DurationSyntax.milliseconds("\(value)", limit: InputLimits.maxEdgeDownsampleIntervalMs), ms > 0 else {
                    throw EdgeConfigurationError("\(origin): downsample.\(lane) '\(value)' is not an interval of 1ms…24h (maxEdgeDownsampleIntervalMs), e.g. 10s or 1m")
                }
                configuration.downsampleMs[lane] = ms
            }
        }
        if let retry = root["retryAfterSeconds"] { configuration.retryAfterSeconds = try int(retry, "retryAfterSeconds", in: 1...3600, origin) }
        if let sync = root["synchronous"] {
            switch "\(sync)" {
            case "full": configuration.synchronousFull = true
            case "normal": configuration.synchronousFull = false
            default: throw EdgeConfigurationError("\(origin): synchronous must be full or normal, got \(sync)")
            }
        }
        return configuration
    }

    private static func int(_ value: Any, _ name: String, in range: ClosedRange<Int>, _ origin: String) throws -> Int {
        guard let number = Int("\(value)"), range.contains(number) else {
            throw EdgeConfigurationError("\(origin): \(name) must be a whole number within \(range.lowerBound)…\(range.upperBound), got \(value)")
        }
        return number
    }

    private static func refuseUnknown(_ map: [String: Any], allowed: [String], at origin: String) throws {
        for key in map.keys.sorted() where !allowed.contains(key) {
            let close = allowed.first { $0.lowercased().hasPrefix(String(key.lowercased().prefix(3))) }
            throw EdgeConfigurationError("\(origin): unknown key '\(key)'; " + (close.map { "did you mean '\($0)'?" } ?? "known keys: \(allowed.joined(separator: ", "))"))
        }
    }

    /// `1048576`, `512KiB`, `512MiB`, `2GiB` (also KB/MB/GB, read as powers of 1024).
    static func parseSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let number = Int64(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), number >= 0 else { return nil }
            let (bytes, overflow) = number.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        guard let bytes = Int64(trimmed), bytes >= 0 else { return nil }
        return bytes
    }
}

public struct EdgeConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
