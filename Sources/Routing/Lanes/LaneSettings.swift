/// Tuning for one lane; every field has a default that suits the demo and a
/// small plant. Set per lane under `lanes:` in the router configuration.
public struct LaneSettings: Sendable, Codable, Equatable {
    /// Records taken per poll (and per transaction on transactional lanes).
    public var maxBatch = 500
    /// Outputs awaiting acknowledgement before the lane pauses its partitions (backpressure).
    /// Each holds its source record and output in memory; 10 000 covers ~0.3 s of a busy lane.
    public var maxInFlight = 10_000
    /// Bytes (key, value and headers) of the outputs awaiting acknowledgement before the lane
    /// pauses; it resumes below half. Bounds what librdkafka's producer queue holds for the lane
    /// when records are large, where `maxInFlight` alone would not: 10 000 outputs of 1 MB are
    /// 10 GB. The lane itself keeps ~100 bytes of bookkeeping per output, not its bytes.
    /// Default 16 MiB: ~0.3 s of a busy telemetry lane's ~900-byte outputs.
    public var maxInFlightBytes = 16 << 20
    /// How often an at-least-once lane commits finished offsets.
    public var commitIntervalMs = 1000
    /// Deliveries (or transactions) tried before an event is dead-lettered with reason `target`.
    public var maxAttempts = 5
    /// First retry delay; doubles per attempt up to `retryBackoffMaxMs`.
    public var retryBackoffMs = 100
    public var retryBackoffMaxMs = 5000
    /// Consecutive failed deliveries that open the lane's circuit: the lane stops
    /// taking new records for `circuitOpenMs`, while retries continue.
    public var circuitFailureThreshold = 50
    public var circuitOpenMs = 2000
    /// librdkafka's own retry budget per produce (`delivery.timeout.ms`).
    public var deliveryTimeoutMs = 10_000
    /// Bound on finishing in-flight work at shutdown or partition revoke.
    public var drainTimeoutMs = 10_000

    public init() {}

    /// Exponential backoff for `attempt` (1-based), capped.
    func backoff(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        return .milliseconds(min(retryBackoffMs << exponent, retryBackoffMaxMs))
    }
}

extension LaneSettings {
    /// What each setting may be; a value outside its range is a configuration error.
    static let ranges: [String: ClosedRange<Int>] = [
        "maxBatch": 1...10_000,
        "maxInFlight": 1...1_000_000,
        "maxInFlightBytes": 65_536...(1 << 30),
        "commitIntervalMs": 10...600_000,
        "maxAttempts": 1...100,
        "retryBackoffMs": 1...600_000,
        "retryBackoffMaxMs": 1...3_600_000,
        "circuitFailureThreshold": 1...1_000_000,
        "circuitOpenMs": 1...3_600_000,
        "deliveryTimeoutMs": 1_000...86_400_000,
        "drainTimeoutMs": 0...600_000,
    ]

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: Self.ranges.keys.sorted())
        let defaults = LaneSettings()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value(_ key: CodingKeys, _ fallback: Int) throws -> Int {
            try StrictKeys.int(container, key, default: fallback, in: Self.ranges[key.stringValue] ?? Int.min...Int.max)
        }
        maxBatch = try value(.maxBatch, defaults.maxBatch)
        maxInFlight = try value(.maxInFlight, defaults.maxInFlight)
        maxInFlightBytes = try value(.maxInFlightBytes, defaults.maxInFlightBytes)
        commitIntervalMs = try value(.commitIntervalMs, defaults.commitIntervalMs)
        maxAttempts = try value(.maxAttempts, defaults.maxAttempts)
        retryBackoffMs = try value(.retryBackoffMs, defaults.retryBackoffMs)
        retryBackoffMaxMs = try value(.retryBackoffMaxMs, defaults.retryBackoffMaxMs)
        circuitFailureThreshold = try value(.circuitFailureThreshold, defaults.circuitFailureThreshold)
        circuitOpenMs = try value(.circuitOpenMs, defaults.circuitOpenMs)
        deliveryTimeoutMs = try value(.deliveryTimeoutMs, defaults.deliveryTimeoutMs)
        drainTimeoutMs = try value(.drainTimeoutMs, defaults.drainTimeoutMs)
    }
}
