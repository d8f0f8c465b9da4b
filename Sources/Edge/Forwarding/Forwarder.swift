import Foundation
import Kafka
import Logging
import Synchronization

/// Drains the spool to the enterprise cluster with the idempotent producer.
///
/// Confinement: the forwarder owns its `Producer`; only the forwarder's own thread (named
/// `edge-forwarder`, never the cooperative pool) claims and produces, and librdkafka's delivery
/// reports arrive on the producer's poll thread, which only appends them to `inbox`. An event
/// leaves the spool only when its delivery report says the cluster has it; the `Acknowledger`'s
/// thread writes that down.
///
/// Order: events are handed to librdkafka in spool order per class (so per key), with
/// `message.timeout.ms = 0` (librdkafka retries for as long as the link is down) and
/// idempotence, so an outage neither reorders nor duplicates. Should a delivery fail anyway
/// (a permanent error), the forwarder stops handing out, waits until nothing is in flight and
/// starts again from the oldest event still spooled, after a back-off.
///
/// Rate: a token bucket of `rate` events/s for everything it sends, backlog and live alike,
/// with at most `inFlight` records waiting for a delivery report.
public final class Forwarder: Sendable {
    public struct Link: Sendable, Equatable {
        /// False while records wait longer than `linkTimeout` for any delivery, or after a failure.
        public var up: Bool
        public var inFlight: Int
        public var lastError: String?
    }

    private let spool: Spool
    private let acknowledger: Acknowledger
    private let producer: Producer
    /// Delivery reports reach `self` through it; `stop` empties it, so the producer (whose
    /// callbacks hold the sink) no longer keeps the forwarder alive.
    private let sink: ReportSink
    private let rate: Double
    private let window: Int
    private let logger: Logger
    private let inbox = Mutex<[DeliveryReport]>([])
    private let shared = Mutex(Shared())
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    /// How long a stop waits for deliveries in flight (the rest stays spooled). 5 s, so that a
    /// stop during an outage stays well inside systemd's TimeoutStopSec=30s.
    public static let stopWait: Duration = .seconds(5)
    /// No delivery for this long while records are in flight: the link is down.
    static let linkTimeoutMs: Int64 = 5000

    struct Shared: Sendable {
        var inFlight = 0
        var progressMs: Int64 = 0
        var failed = false
        var lastError: String?
        var forwardedThisRun = 0
    }

    public init(spool: Spool, configuration: ProducerConfiguration, rate: Double, inFlight: Int, logger: Logger) throws {
        self.spool = spool
        acknowledger = Acknowledger(spool: spool, logger: logger)
        self.rate = rate
        self.window = inFlight
        self.logger = logger
        var configuration = configuration
        configuration.enableIdempotence = true
        configuration.deliveryTimeoutMs = 0
        configuration.maxQueuedMessages = max(configuration.maxQueuedMessages, inFlight * 2)
        let sink = ReportSink()
        self.sink = sink
        producer = try Producer(configuration: configuration, logger: logger) { report in sink.deliver(report) }
        sink.target.withLock { $0 = self }
    }

    /// Forwards delivery reports from the poll thread to the forwarder once it exists.
    private final class ReportSink: Sendable {
        let target = Mutex<Forwarder?>(nil)
        func deliver(_ report: DeliveryReport) {
            if let forwarder = target.withLock({ $0 }) { forwarder.inbox.withLock { $0.append(report) } }
        }
    }

    public var link: Link {
        let now = Self.nowMs()
        return shared.withLock { s in
            let stalled = s.inFlight > 0 && now - s.progressMs > Self.linkTimeoutMs
            return Link(up: !stalled && !s.failed, inFlight: s.inFlight, lastError: s.lastError)
        }
    }

    /// Starts the forwarding thread.
    public func start() {
        acknowledger.start()
        let thread = Thread { [self] in
            self.loop()
            self.finished.withLock { $0 = true }
        }
        thread.name = "edge-forwarder"
        thread.start()
    }

    /// Stops handing out, waits up to `timeout` for what is in flight, closes the producer.
    /// Whatever is still unacknowledged stays spooled and is sent again (same `ce_id`) on the
    /// next start.
    public func stop(timeout: Duration = Forwarder.stopWait) {
        stopping.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + timeout + .seconds(2)
        while !finished.withLock({ $0 }), ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        try? producer.close(timeout: .seconds(2))
        sink.target.withLock { $0 = nil }
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Telemetry handed to librdkafka is at most this share of the telemetry quota (bytes as the
    /// quota counts them), so during an outage at least the rest of the quota is telemetry still
    /// in the spool, which can be shed oldest first; a full quota then sheds instead of
    /// answering 503. (librdkafka's own queue is bounded by count and bytes in the same way,
    /// `queue.buffering.max.messages` / `.kbytes`.)
    static let telemetryInFlightShare: Int64 = 4

    private func loop() {
        var tokens = 0.0
        let burst = max(1.0, rate / 20)
        var last = ContinuousClock.now
        var backoffUntil = ContinuousClock.now
        var drainDeadline: ContinuousClock.Instant?
        var flight = FlightTable()
        var names = SpoolNames()
        var lastClaim = ContinuousClock.now - .seconds(1)
        var lastClaimEmpty = false
        // Claim in chunks of a quarter window (or the burst, when the rate caps it): fewer, larger
        // reads, while librdkafka still holds the other three quarters.
        let chunk = max(1, min(window / 4, Int(burst), 2000))
        let telemetryCap = max(1, spool.quotaBytes(.telemetry) / Self.telemetryInFlightShare)

        /// Claims up to `count` and produces them from the claimed rows, after the claim's read.
        /// How many were handed to librdkafka.
        func round(claim count: Int) -> Int {
            let rows: [ClaimedRow]
            // Telemetry delivered but not yet marked gone is as unsheddable as telemetry in flight.
            let held = flight.telemetryBytes + acknowledger.unwrittenTelemetryBytes
            do {
                rows = try spool.claimRows(limit: count, telemetryBytes: max(0, telemetryCap - held), telemetryIdle: held == 0)
            } catch {
                logger.error("edge spool: cannot claim events: \(error)")
                Thread.sleep(forTimeInterval: 0.1)
                return 0
            }
            var produced = 0
            var refused = false
            for row in rows where !refused {
                row.forEach { event in
                    let slot = flight.insert(event.delivered)
                    do {
                        let taken = try producer.produce(
                            topic: names.name(event.topic), key: event.key, value: event.value, timestampMs: event.arrivedMs, token: UInt64(slot)
                        ) { list in
                            HeaderCoding.forEach(event.headers) { name, value in list.add(name: name, value: value) }
                        }
                        guard taken else {
                            // Headers the claim found well-formed and this walk did not: hand
                            // everything out again from the oldest, as after a failure.
                            _ = flight.remove(slot)
                            refused = true
                            shared.withLock { s in
                                s.failed = true
                                s.lastError = "spool: damaged headers in row \(event.position.row)"
                            }
                            return false
                        }
                        produced += 1
                        return true
                    } catch {
                        _ = flight.remove(slot)
                        refused = true
                        shared.withLock { s in
                            s.failed = true
                            s.lastError = "\(error)"
                        }
                        logger.warning("edge forwarder: produce refused: \(error); starting again from the oldest spooled event")
                        return false
                    }
                }
            }
            if produced > 0 {
                shared.withLock { s in
                    if s.inFlight == 0 { s.progressMs = Self.nowMs() }
                    s.inFlight += produced
                }
            }
            return produced
        }

        while true {
            let now = ContinuousClock.now
            let elapsed = now - last
            last = now
            tokens = min(burst, tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            var worked = settle(&flight)

            if stopping.load(ordering: .relaxed) {
                if drainDeadline == nil { drainDeadline = now + Self.stopWait }
                let left = shared.withLock { $0.inFlight }
                if left == 0 || (drainDeadline.map { now > $0 } ?? false) {
                    acknowledger.stop()
                    if left > 0 {
                        logger.notice("edge forwarder stopping with \(left) events unacknowledged; they stay spooled and are sent again (same ce_id) on the next start")
                    }
                    return
                }
                Thread.sleep(forTimeInterval: 0.01)
                continue
            }

            let (failed, inFlight) = shared.withLock { ($0.failed, $0.inFlight) }
            if failed {
                if inFlight == 0 {
                    // Every delivery written down first: the claims start again from the oldest
                    // event not yet gone.
                    acknowledger.flush()
                    spool.resetClaims()
                    shared.withLock { $0.failed = false }
                    backoffUntil = now + .seconds(1)
                }
            } else {
                let count = now >= backoffUntil && tokens >= 1 ? min(Int(tokens), window - inFlight, 2000) : 0
                // A claim that found nothing (or only telemetry past its budget) is tried again
                // after a delivery, an append, or 20 ms.
                let wantClaim = count > 0 && spool.mayHaveUnclaimed
                    && (count >= chunk || now - lastClaim >= .milliseconds(2))
                    && (!lastClaimEmpty || worked || now - lastClaim >= .milliseconds(20))
                if wantClaim {
                    let produced = round(claim: count)
                    tokens -= Double(produced)
                    lastClaim = now
                    lastClaimEmpty = produced == 0
                    worked = true
                }
            }
            if !worked { Thread.sleep(forTimeInterval: inFlight > 0 ? 0.001 : 0.005) }
        }
    }

    /// Applies the delivery reports received so far: the delivered go to the acknowledger, a
    /// failure stops the handing out. True when there were any.
    private func settle(_ flight: inout FlightTable) -> Bool {
        let reports = inbox.withLock { reports -> [DeliveryReport] in
            let taken = reports
            reports.removeAll(keepingCapacity: true)
            return taken
        }
        guard !reports.isEmpty else { return false }
        var firstError: KafkaError?
        var delivered: [DeliveredEvent] = []
        delivered.reserveCapacity(reports.count)
        for report in reports {
            guard let event = flight.remove(Int(truncatingIfNeeded: report.token)) else { continue }
            if report.succeeded {
                delivered.append(event)
            } else if firstError == nil {
                firstError = report.error
            }
        }
        let succeeded = delivered.count
        let idle = shared.withLock { s in
            s.inFlight -= reports.count
            if succeeded > 0 { s.progressMs = Self.nowMs() }
            if let firstError {
                s.failed = true
                s.lastError = "\(firstError)"
            } else if succeeded > 0 {
                s.lastError = nil
            }
            return s.inFlight == 0
        }
        acknowledger.submit(delivered, idle: idle)
        if let firstError { logger.warning("edge forwarder: delivery failed: \(firstError); starting again from the oldest spooled event") }
        return true
    }
}

/// The events handed to librdkafka and not yet reported, by slot; a record's token is its slot,
/// so a delivery report finds the event's position, class, lane and bytes without a lookup.
/// The forwarder's thread only.
struct FlightTable {
    private var slots: [DeliveredEvent?] = []
    private var free: [Int] = []
    /// Telemetry in flight, bytes as the quota counts them.
    private(set) var telemetryBytes: Int64 = 0

    mutating func insert(_ event: DeliveredEvent) -> Int {
        if event.priority == .telemetry { telemetryBytes += event.bytes }
        if let slot = free.popLast() {
            slots[slot] = event
            return slot
        }
        slots.append(event)
        return slots.count - 1
    }

    mutating func remove(_ slot: Int) -> DeliveredEvent? {
        guard slot >= 0, slot < slots.count, let event = slots[slot] else { return nil }
        slots[slot] = nil
        free.append(slot)
        if event.priority == .telemetry { telemetryBytes -= event.bytes }
        return event
    }
}
