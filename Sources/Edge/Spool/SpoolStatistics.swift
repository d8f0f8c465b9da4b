/// What the spool holds and has done, per lane: `/metrics`, `/readyz` and `edge status`.
public struct SpoolStatistics: Sendable, Codable, Equatable {
    public struct Lane: Sendable, Codable, Equatable {
        public var lane: String
        /// Events waiting (including those handed to the producer and not yet acknowledged).
        public var events: Int64 = 0
        public var bytes: Int64 = 0
        /// Arrival time of the oldest waiting event, milliseconds since 1970.
        public var oldestArrivedMs: Int64?
        public var forwarded: Int64 = 0
        public var shed: Int64 = 0
        /// Events the edge policy rejected (spooled for the lane's dead-letter topic).
        public var rejected: Int64 = 0
        /// Events dropped by downsampling (one per key and interval left the plant).
        public var downsampled: Int64 = 0
    }

    public var lanes: [Lane]
    /// Spooled bytes per priority class, as counted against the quota.
    public var classBytes: [String: Int64]
    public var quota: [String: Int64]

    public var events: Int64 { lanes.reduce(0) { $0 + $1.events } }
    public var oldestArrivedMs: Int64? { lanes.compactMap(\.oldestArrivedMs).min() }
    public func lane(_ name: String) -> Lane? { lanes.first { $0.lane == name } }
}
