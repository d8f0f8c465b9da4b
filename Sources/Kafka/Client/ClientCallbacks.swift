import CRdKafka
import Logging
import Synchronization

/// What librdkafka calls back into, shared by every client kind. librdkafka gets
/// it as the configuration opaque; the owning `KafkaHandle` keeps it alive.
///
/// Everything here is immutable after creation, so librdkafka may call from any
/// of its threads.
final class ClientCallbacks: Sendable {
    let logger: Logger
    let onDelivery: (@Sendable (DeliveryReport) -> Void)?
    let onRebalance: (@Sendable (RebalanceEvent) -> Void)?
    /// Group consumers only: what decides whether destroying the handle is safe.
    let stickyAssignorDefect: StickyAssignorDefect?
    /// Connection errors of every client of this cluster, logged once per outage and then
    /// as a periodic count.
    let connectionErrors: ConnectionErrorLog
    /// Delivery reports' topic names, copied out of C once per topic.
    let topicNames = TopicNames()

    init(
        logger: Logger,
        cluster: String,
        onDelivery: (@Sendable (DeliveryReport) -> Void)? = nil,
        onRebalance: (@Sendable (RebalanceEvent) -> Void)? = nil,
        stickyAssignorDefect: StickyAssignorDefect? = nil
    ) {
        self.logger = logger
        self.connectionErrors = ConnectionErrorLog.forCluster(cluster)
        self.onDelivery = onDelivery
        self.onRebalance = onRebalance
        self.stickyAssignorDefect = stickyAssignorDefect
    }

    /// librdkafka always passes the opaque `install(on:)` set; a missing one is a broken invariant.
    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientCallbacks {
        guard let opaque else { preconditionFailure("librdkafka called back without the client's opaque") }
        return Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
    }

    /// Installs log and error forwarding on `conf`, with `self` as the opaque.
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, message in
            let callbacks = ClientCallbacks.from(rd_kafka_opaque(rk))
            let facility = facility.map { String(cString: $0) } ?? "?"
            let text = "\(facility): \(message.map { String(cString: $0) } ?? "")"
            // A failed connection arrives twice: as this FAIL log line and through the error
            // callback below, which summarises repeats. The log line stays for debugging. So
            // does each idempotent producer's "Failed to acquire idempotence PID …: Broker
            // transport failure: retrying", the same outage once more per producer.
            let sameOutage = facility == "FAIL" || (facility == "GETPID" && text.contains("transport failure"))
            let level = sameOutage ? Logger.Level.debug : Logger.Level(syslog: level)
            callbacks.logger.log(level: level, "\(text)", metadata: ["component": "librdkafka"])
        }
        rd_kafka_conf_set_error_cb(conf) { rk, code, reason, opaque in
            let callbacks = ClientCallbacks.from(opaque)
            let code = KafkaErrorCode(rawValue: code)
            let reason = reason.map { String(cString: $0) } ?? ""
            if ConnectionErrorLog.isConnectionError(code) {
                if let line = callbacks.connectionErrors.record(code: code, reason: reason, at: .now) {
                    callbacks.logger.warning("\(line)", metadata: ["component": "librdkafka"])
                }
                return
            }
            callbacks.logger.log(
                level: code == .fatal ? .critical : .warning, "\(code.name): \(reason)", metadata: ["component": "librdkafka"])
        }
    }
}

extension Logger.Level {
    /// Maps librdkafka's syslog levels (0 emergency … 7 debug).
    init(syslog: Int32) {
        switch syslog {
        case ...2: self = .critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}
