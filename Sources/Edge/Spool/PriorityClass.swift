/// How an event is treated when the spool's disk quota is reached.
public enum PriorityClass: String, Sendable, CaseIterable, Hashable {
    /// Production, orders, quality (every lane not listed under `shed:`): never shed; when the
    /// class is full the gateway gets 503 with Retry-After and keeps the event itself.
    case business
    /// Lanes listed under `shed:` (default telemetry): the oldest unsent events are shed,
    /// and counted, to make room for new ones.
    case telemetry

    /// Stored in the spool's `class` column.
    var code: Int {
        switch self {
        case .business: 0
        case .telemetry: 1
        }
    }
}
