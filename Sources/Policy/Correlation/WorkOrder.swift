/// An MES work order as carried (compacted, keyed by work order id) on the correlation topic.
///
/// Immutable and shared by reference: the engine looks one up for every correlated event, and
/// handing it on costs one reference count instead of copying seven strings.
public final class WorkOrder: Sendable, Equatable {
    public let id: String
    public let asset: String
    public let line: String
    public let product: String
    public let requiredRatePerMinute: Double
    /// `released`, `running`, `paused`, `completed`, `cancelled`.
    public let status: String
    public let shipmentID: String?
    /// Due time (RFC 3339) as sent by the MES.
    public let dueTime: String?

    public init(id: String, asset: String, line: String, product: String, requiredRatePerMinute: Double, status: String, shipmentID: String? = nil, dueTime: String? = nil) {
        self.id = id
        self.asset = asset
        self.line = line
        self.product = product
        self.requiredRatePerMinute = requiredRatePerMinute
        self.status = status
        self.shipmentID = shipmentID
        self.dueTime = dueTime
    }

    public static func == (a: WorkOrder, b: WorkOrder) -> Bool {
        a.id == b.id && a.asset == b.asset && a.line == b.line && a.product == b.product && a.requiredRatePerMinute == b.requiredRatePerMinute
            && a.status == b.status && a.shipmentID == b.shipmentID && a.dueTime == b.dueTime
    }

    /// Released or running orders are the ones plant events correlate with.
    public var isActive: Bool { status == "running" || status == "released" }

    /// Decodes a record of the compacted MES topic: nil for a tombstone (empty or missing value).
    /// The body is the work order JSON (binary-mode CloudEvent) or a structured CloudEvent.
    public static func decode(_ raw: RawEvent) throws -> WorkOrder? {
        if raw.value.isEmpty { return nil }
        var decoder = EnvelopeDecoder(limits: workOrderLimits)
        let event: DecodedEvent
        if raw.header("ce_specversion") == nil && raw.header("content-type") == nil {
            // Plain JSON (no CloudEvents headers) is accepted for MES systems that cannot set headers.
            guard raw.value.count <= workOrderLimits.maxEventBytes else {
                throw DecodeFailure(.parse, field: "value", "work order is \(raw.value.count) bytes, over the limit of \(workOrderLimits.maxEventBytes) bytes")
            }
            let document: JSONDocument
            do {
                var parser = JSONParser(maxDepth: workOrderLimits.maxJSONDepth, maxNumberMagnitude: workOrderLimits.maxNumberMagnitude)
                document = try parser.parse(raw.value)
            } catch {
                throw DecodeFailure(.parse, field: "value", "invalid JSON at byte \(error.offset): \(error.message)")
            }
            return try decode(payload: document.value(document.root))
        }
        event = try decoder.decode(raw)
        return try decode(payload: event.payload)
    }

    /// The record limits with a larger body: work orders are few and may carry long notes.
    static let workOrderLimits: InputLimits = {
        var limits = InputLimits()
        limits.maxEventBytes = 1 << 20
        return limits
    }()

    /// Builds a work order from its JSON payload.
    public static func decode(payload: JSONValue) throws -> WorkOrder {
        func text(_ name: String) throws -> String {
            guard let value = payload[name]?.stringValue else { throw DecodeFailure(.schema, field: "/\(name)", "work order is missing string '\(name)'") }
            return value
        }
        guard let rate = payload["requiredRatePerMinute"]?.numberValue else {
            throw DecodeFailure(.schema, field: "/requiredRatePerMinute", "work order is missing number 'requiredRatePerMinute'")
        }
        return WorkOrder(id: try text("workOrderId"), asset: try text("asset"), line: try text("line"), product: try text("product"),
                         requiredRatePerMinute: rate, status: try text("status"), shipmentID: payload["shipmentId"]?.stringValue,
                         dueTime: payload["dueAt"]?.stringValue)
    }

    /// The payload this type decodes (used by the simulator and tests).
    public var payload: JSONValue {
        var fields: [JSONValue.Field] = [
            .init(name: "workOrderId", value: .string(id)), .init(name: "asset", value: .string(asset)),
            .init(name: "line", value: .string(line)), .init(name: "product", value: .string(product)),
            .init(name: "requiredRatePerMinute", value: .number(requiredRatePerMinute)), .init(name: "status", value: .string(status)),
        ]
        if let shipmentID { fields.append(.init(name: "shipmentId", value: .string(shipmentID))) }
        if let dueTime { fields.append(.init(name: "dueAt", value: .string(dueTime))) }
        return .object(fields)
    }
}

/// Finds work orders: the active one on an asset, or one by id. The router backs it with
/// SQLite rebuilt from the compacted MES topic; tests use `WorkOrderTable`.
public protocol CorrelationLookup {
    func activeWorkOrder(forAsset asset: String) -> WorkOrder?
    /// The order with this id as last seen on the topic (any status), if known.
    func workOrder(id: String) -> WorkOrder?
}

/// An in-memory lookup: the latest active work order per asset, fed from MES records.
public struct WorkOrderTable: CorrelationLookup, Sendable {
    private var byAsset: [String: WorkOrder] = [:]
    private var byID: [String: WorkOrder] = [:]

    public init(_ orders: [WorkOrder] = []) {
        for order in orders { upsert(order) }
    }

    public mutating func upsert(_ order: WorkOrder) {
        if let previousAsset = byID[order.id]?.asset, byAsset[previousAsset]?.id == order.id { byAsset[previousAsset] = nil }
        byID[order.id] = order
        if order.isActive { byAsset[order.asset] = order } else if byAsset[order.asset]?.id == order.id { byAsset[order.asset] = nil }
    }

    /// Applies one record of the compacted MES topic (key = work order id; empty value = tombstone).
    public mutating func apply(_ raw: RawEvent) throws {
        if let order = try WorkOrder.decode(raw) {
            upsert(order)
        } else if let key = raw.key {
            let id = String(decoding: key, as: UTF8.self)
            if let asset = byID.removeValue(forKey: id)?.asset, byAsset[asset]?.id == id { byAsset[asset] = nil }
        }
    }

    public func activeWorkOrder(forAsset asset: String) -> WorkOrder? { byAsset[asset] }
    public func workOrder(id: String) -> WorkOrder? { byID[id] }
}

/// No correlation available (e.g. `policy explain` without work orders).
public struct NoCorrelation: CorrelationLookup, Sendable {
    public init() {}
    public func activeWorkOrder(forAsset asset: String) -> WorkOrder? { nil }
    public func workOrder(id: String) -> WorkOrder? { nil }
}
