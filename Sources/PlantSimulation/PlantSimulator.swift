import Policy

/// Generates a small plant's traffic as CloudEvents (Kafka binary mode) `RawEvent`s, deterministic
/// for a seed: telemetry readings, machine state/downtime/heartbeats, production counts and
/// confirmations, inspections and defects, MES work orders, the packaging-line slowdown, and
/// optional poison events.
public struct PlantSimulator: Sendable {
    public struct Configuration: Sendable {
        public var seed: UInt64 = 42
        /// Number of plant events (work order records come on top, see `workOrderEvents`).
        public var count: Int = 10_000
        /// Share of telemetry readings; the rest are business events.
        public var telemetryShare: Double = 0.95
        public var lines: Int = 3
        public var assetsPerLine: Int = 4
        /// Event time of the first event and spacing between events.
        public var startMs: Int64 = 1_772_352_000_000 // 2026-03-01T08:00:00Z
        public var spacingMs: Int64 = 20
        /// Drop the packaging wrapper's throughput to 70% of plan between 40% and 60% of the run.
        public var includeSlowdown: Bool = true
        /// One poison event every N events (nil: none). Kinds rotate through `PoisonKind.allCases`.
        public var poisonEvery: Int? = nil
        /// Body size of the `oversizedBody` poison: just over the router's body limit (catalog
        /// `limits.maxEventBytes`, default 256 KiB), and far under a broker's default
        /// `message.max.bytes` (1,048,588), so the event reaches the router, and its dead letter
        /// (the same bytes plus context headers) the dead-letter topic, on any broker's defaults.
        public var oversizedBodyBytes: Int = Self.defaultOversizedBodyBytes
        public init() {}

        public static let defaultOversizedBodyBytes = InputLimits().maxEventBytes + 1024
        /// What a poison body may weigh at most: a broker's default `message.max.bytes` is
        /// 1,048,588 bytes for the whole batch, headers and dead-letter context included.
        public static let largestPoisonBodyBytes = 1_000_000
    }

    public enum PoisonKind: String, CaseIterable, Sendable {
        case invalidJSON = "invalid-json"
        case schemaViolation = "schema-violation"
        case unknownType = "unknown-type"
        case authorityViolation = "authority-violation"
        case oversizedBody = "oversized-body"
        case invalidUTF8 = "invalid-utf8"

        /// The dead-letter reason the default policy gives this poison.
        public var expectedReason: DeadLetterReason {
            switch self {
            case .invalidJSON, .oversizedBody, .invalidUTF8: .parse
            case .schemaViolation, .unknownType: .schema
            case .authorityViolation: .authority
            }
        }
    }

    public static let telemetryTopic = "plant.telemetry.readings"
    public static let machineTopic = "plant.machine.state"
    public static let countsTopic = "plant.production.counts"
    public static let confirmationsTopic = "plant.production.confirmations"
    public static let qualityTopic = "plant.quality.results"
    public static let workOrderTopic = "mes.workorders"

    public let configuration: Configuration
    public let plant: PlantModel

    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.plant = PlantModel(lines: configuration.lines, assetsPerLine: configuration.assetsPerLine, seed: configuration.seed)
    }

    /// The compacted MES topic's records (key = work order id).
    public func workOrderEvents() -> [RawEvent] {
        plant.workOrders.enumerated().map { i, order in
            event(topic: Self.workOrderTopic, offset: Int64(i), timeMs: configuration.startMs - 60_000, key: order.id, type: "mes.workorder.updated",
                  source: plant.workOrderSource, id: "wo-\(order.id)-1", body: order.payload.jsonBytes)
        }
    }

    /// A lookup holding the simulated work orders.
    public func correlation() -> WorkOrderTable { WorkOrderTable(plant.workOrders) }

    /// The plant events, in event-time order.
    public func events() -> [RawEvent] {
        var rng = SplitMix64(seed: configuration.seed)
        var out: [RawEvent] = []
        out.reserveCapacity(configuration.count)
        let count = configuration.count
        let slowdown = (count * 2 / 5)..<(count * 3 / 5)
        var offsets: [String: Int64] = [:]
        var poisonIndex = 0
        for n in 0..<count {
            let timeMs = configuration.startMs + Int64(n) * configuration.spacingMs
            let id = "e\(configuration.seed)-\(n)"
            if let every = configuration.poisonEvery, every > 0, n % every == every - 1 {
                let kind = PoisonKind.allCases[poisonIndex % PoisonKind.allCases.count]
                poisonIndex += 1
                out.append(poison(kind, id: id, timeMs: timeMs, offsets: &offsets))
                continue
            }
            let roll = Double(rng.next() % 1_000_000) / 1_000_000
            if roll < configuration.telemetryShare {
                // Every 8th telemetry slot belongs to the slowdown asset during the scenario, so its
                // throughput window fills quickly; otherwise a random asset and metric.
                let asset: PlantModel.Asset
                let metric: String
                if configuration.includeSlowdown, slowdown.contains(n), n % 8 == 0 {
                    asset = plant.slowdownAsset
                    metric = "throughput"
                } else {
                    asset = plant.assets[Int(rng.next() % UInt64(plant.assets.count))]
                    metric = ["throughput", "temperature", "vibration", "pressure", "speed"][Int(rng.next() % 5)]
                }
                let value = reading(metric, asset: asset, inSlowdown: configuration.includeSlowdown && slowdown.contains(n), rng: &rng)
                let unit = ["throughput": "1/min", "temperature": "Cel", "vibration": "mm/s", "pressure": "bar", "speed": "m/min"][metric]!
                let body = #"{"asset":"\#(asset.id)","line":"\#(asset.line)","metric":"\#(metric)","value":\#(value),"unit":"\#(unit)","quality":"good"}"#
                out.append(event(topic: Self.telemetryTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "plant.telemetry.reading",
                                 source: asset.gatewaySource, id: id, body: Array(body.utf8)))
            } else {
                out.append(business(n: n, id: id, timeMs: timeMs, rng: &rng, offsets: &offsets))
            }
        }
        return out
    }

    private func reading(_ metric: String, asset: PlantModel.Asset, inSlowdown: Bool, rng: inout SplitMix64) -> String {
        let noise = Double(rng.next() % 1000) / 1000 - 0.5 // -0.5 ..< 0.5
        switch metric {
        case "throughput":
            let plan = plant.workOrder(for: asset.id)?.requiredRatePerMinute ?? 100
            let factor = inSlowdown && asset.id == plant.slowdownAsset.id ? 0.7 : 1.05
            return fixed(plan * factor + noise * 4, 1)
        case "temperature": return fixed(62 + noise * 6, 2)
        case "vibration": return fixed(2.8 + noise * 2, 2)
        case "pressure": return fixed(6 + noise, 3)
        default: return fixed(180 + noise * 10, 1)
        }
    }

    private func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    private func business(n: Int, id: String, timeMs: Int64, rng: inout SplitMix64, offsets: inout [String: Int64]) -> RawEvent {
        let asset = plant.assets[Int(rng.next() % UInt64(plant.assets.count))]
        let order = plant.workOrder(for: asset.id)!
        let pick = rng.next() % 100
        switch pick {
        case 0..<20:
            let states = ["running", "idle", "setup", "down"]
            let state = states[Int(rng.next() % 4)]
            return event(topic: Self.machineTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "machine.state.changed", source: asset.gatewaySource, id: id,
                         body: Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","state":"\#(state)"}"#.utf8))
        case 20..<30:
            let unplanned = rng.next() % 2 == 0
            return event(topic: Self.machineTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "machine.downtime.started", source: asset.gatewaySource, id: id,
                         body: Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","category":"\#(unplanned ? "unplanned" : "planned")","reasonCode":"\#(unplanned ? "JAM-17" : "CIP")"}"#.utf8))
        case 30..<40:
            return event(topic: Self.machineTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "machine.heartbeat", source: asset.gatewaySource, id: id,
                         body: Array(#"{"asset":"\#(asset.id)","uptimeSeconds":\#(n)}"#.utf8))
        case 40..<70:
            return event(topic: Self.countsTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "production.count.reported", source: asset.gatewaySource, id: id,
                         body: Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","workOrderId":"\#(order.id)","good":\#(50 + rng.next() % 20),"scrap":\#(rng.next() % 3),"intervalSeconds":30}"#.utf8))
        case 70..<80:
            return event(topic: Self.confirmationsTopic, offsets: &offsets, timeMs: timeMs, key: order.id, type: "production.confirmation.posted", source: plant.mesSource, id: id,
                         body: Array(#"{"workOrderId":"\#(order.id)","line":"\#(asset.line)","product":"\#(order.product)","quantity":\#(100 + rng.next() % 400),"unit":"EA","final":false}"#.utf8))
        case 80..<90:
            let severity = ["minor", "minor", "major", "critical"][Int(rng.next() % 4)]
            return event(topic: Self.qualityTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "quality.defect.detected", source: asset.visionSource, id: id,
                         body: Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","defectCode":"D-\#(100 + rng.next() % 20)","severity":"\#(severity)","count":1}"#.utf8))
        default:
            let measured = 499.0 + Double(rng.next() % 40) / 10
            let result = measured > 502.5 ? "fail" : "pass"
            return event(topic: Self.qualityTopic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: "quality.inspection.completed", source: plant.labSource, id: id,
                         body: Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","workOrderId":"\#(order.id)","characteristic":"fill-volume-ml","measured":\#(measured),"lowerLimit":497.5,"upperLimit":502.5,"result":"\#(result)"}"#.utf8))
        }
    }

    /// One poison event of `kind` (as the plant might really send it).
    public func poison(_ kind: PoisonKind, id: String, timeMs: Int64, offsets: inout [String: Int64]) -> RawEvent {
        let asset = plant.assets[0]
        let topic = kind == .authorityViolation ? Self.confirmationsTopic : Self.telemetryTopic
        let body: [UInt8]
        var type = "plant.telemetry.reading"
        var source = asset.gatewaySource
        switch kind {
        case .invalidJSON: body = Array(#"{"asset":"\#(asset.id)","value": 12.5,,}"#.utf8)
        case .schemaViolation: body = Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","metric":"throughput","value":"fast","unit":"1/min"}"#.utf8)
        case .unknownType:
            type = "plant.telemetry.calibration"
            body = Array(#"{"asset":"\#(asset.id)"}"#.utf8)
        case .authorityViolation:
            // A line gateway claiming to post a (financially relevant) production confirmation.
            type = "production.confirmation.posted"
            source = asset.gatewaySource
            body = Array(#"{"workOrderId":"WO-1001","line":"\#(asset.line)","product":"SKU-4711-500ML","quantity":99999,"unit":"EA"}"#.utf8)
        case .oversizedBody:
            let frame = #"{"asset":"\#(asset.id)","line":"\#(asset.line)","metric":"speed","value":1,"unit":""}"#
            let padding = String(repeating: "x", count: max(0, configuration.oversizedBodyBytes - frame.utf8.count))
            body = Array(#"{"asset":"\#(asset.id)","line":"\#(asset.line)","metric":"speed","value":1,"unit":"\#(padding)"}"#.utf8)
        case .invalidUTF8:
            body = Array(#"{"asset":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#"","line":"L1","metric":"speed","value":1,"unit":"m"}"#.utf8)
        }
        return event(topic: topic, offsets: &offsets, timeMs: timeMs, key: asset.id, type: type, source: source, id: id, body: body)
    }

    /// The packaging-line slowdown on its own: `normal` readings at plan, then `slow` readings at
    /// 70% of plan, then `recovered` at plan again, 10 s apart, for the wrapper on line PK2.
    public func slowdownScenario(normal: Int = 12, slow: Int = 30, recovered: Int = 12, slowFactor: Double = 0.7) -> [RawEvent] {
        let asset = plant.slowdownAsset
        let plan = plant.workOrder(for: asset.id)!.requiredRatePerMinute
        var offsets: [String: Int64] = [:]
        var out: [RawEvent] = []
        for i in 0..<(normal + slow + recovered) {
            let factor = i >= normal && i < normal + slow ? slowFactor : 1.02
            let body = #"{"asset":"\#(asset.id)","line":"\#(asset.line)","metric":"throughput","value":\#(fixed(plan * factor, 1)),"unit":"1/min"}"#
            out.append(event(topic: Self.telemetryTopic, offsets: &offsets, timeMs: configuration.startMs + Int64(i) * 10_000, key: asset.id,
                             type: "plant.telemetry.reading", source: asset.gatewaySource, id: "slow-\(i)", body: Array(body.utf8)))
        }
        return out
    }

    private func event(topic: String, offsets: inout [String: Int64], timeMs: Int64, key: String, type: String, source: String, id: String, body: [UInt8]) -> RawEvent {
        let offset = offsets[topic, default: 0]
        offsets[topic] = offset + 1
        return event(topic: topic, offset: offset, timeMs: timeMs, key: key, type: type, source: source, id: id, body: body)
    }

    private func event(topic: String, offset: Int64, timeMs: Int64, key: String, type: String, source: String, id: String, body: [UInt8]) -> RawEvent {
        RawEvent(topic: topic, partition: 0, offset: offset, timestampMs: timeMs, key: Array(key.utf8), value: body, headers: [
            EventHeader("ce_specversion", "1.0"),
            EventHeader("ce_id", id),
            EventHeader("ce_source", source),
            EventHeader("ce_type", type),
            EventHeader("ce_time", RFC3339.format(timeMs)),
            EventHeader("content-type", "application/json"),
        ])
    }
}
