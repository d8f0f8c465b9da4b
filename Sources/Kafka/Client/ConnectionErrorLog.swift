import Synchronization

/// Turns librdkafka's connection errors into a few log lines per outage. Every client (a
/// router runs a consumer and a producer per lane, plus readers and an admin client) reports
/// each failed attempt through its error callback; librdkafka only folds identical
/// consecutive ones. Shared by every client of one cluster (`forCluster`), this logs the
/// first failure of an outage at once, "all brokers down" once when it happens, and then
/// one line per `summaryInterval` counting the failures since. An outage ends after
/// `2 × summaryInterval` without an error. Fed the time, so tests drive it with any clock.
final class ConnectionErrorLog: Sendable {
    static let summaryInterval: Duration = .seconds(60)

    private struct State {
        var inOutage = false
        var saidAllDown = false
        var lastError = ContinuousClock.Instant.now
        var lastLogged = ContinuousClock.Instant.now
        var counted = 0
    }

    private let state = Mutex(State())
    private static let byCluster = Mutex<[String: ConnectionErrorLog]>([:])

    /// The log shared by every client of the cluster at `bootstrapServers`.
    static func forCluster(_ bootstrapServers: String) -> ConnectionErrorLog {
        byCluster.withLock { logs in
            if let log = logs[bootstrapServers] { return log }
            let log = ConnectionErrorLog()
            logs[bootstrapServers] = log
            return log
        }
    }

    static func isConnectionError(_ code: KafkaErrorCode) -> Bool {
        code == .transport || code == .allBrokersDown || code == .resolve || code == .authentication || code == .timedOut
    }

    /// The line to log for this error, or nil when it is counted for the next summary.
    func record(code: KafkaErrorCode, reason: String, at now: ContinuousClock.Instant) -> String? {
        let every = Int(Self.summaryInterval.components.seconds)
        return state.withLock { state in
            defer { state.lastError = now }
            if !state.inOutage || now - state.lastError >= Self.summaryInterval * 2 {
                state = State(inOutage: true, saidAllDown: code == .allBrokersDown, lastError: now, lastLogged: now, counted: 0)
                return "\(code.name): \(reason) (further connection errors are counted and summarised every \(every) s)"
            }
            if code == .allBrokersDown && !state.saidAllDown {
                state.saidAllDown = true
                return "\(code.name): \(reason)"
            }
            state.counted += 1
            guard now - state.lastLogged >= Self.summaryInterval else { return nil }
            let line = "cluster still unreachable: \(state.counted) connection errors in the last \(every) s; latest \(code.name): \(reason)"
            state.counted = 0
            state.lastLogged = now
            return line
        }
    }
}
