/// How a rule finds the work order of an event (`correlate:` in policy.yaml).
///
/// - `correlate: payload.asset` (or `{ asset: payload.asset }`): the active work order on
///   that asset, from the work-order table. For events that do not know their order
///   (telemetry, machine state).
/// - `correlate: { workOrder: payload.workOrderId }` or `{ workOrder: header.correlation-id }`:
///   the event names its order itself (confirmations, inspections, counts). The id is taken
///   as is, even when the table does not know the order; `workorder.*` fields other than `id`
///   come from the table when it does.
/// - Both keys: the named order when the event carries one, else the asset's active order.
struct CorrelationSpec: Sendable {
    /// Where an event names its work order.
    enum Named: Sendable {
        /// A plain payload field, read from the parsed document without building a `Value`.
        case payloadField(FieldPath)
        /// Any other string expression (`event.subject`).
        case expression(ValueFn)
        /// A Kafka header of the record (`header.correlation-id`), as UTF-8.
        case header(String)
    }

    let named: Named?
    let asset: ValueFn?
    /// True when the rule reads `workorder.*` fields beyond `id`: only then does a named
    /// order cost a table lookup (confirmations need just the id).
    let needsOrderDetails: Bool

    /// The work order id the event names, if it names one.
    func namedID(_ ctx: EvalContext) -> String? {
        switch named {
        case nil: return nil
        case .payloadField(let path)?:
            let tape = ctx.tape
            guard let node = tape.lookup(path, from: ctx.payload), tape.kind(node) == .string else { return nil }
            let id = tape.string(node)
            return id.isEmpty ? nil : id
        case .expression(let f)?:
            if case .string(let id) = f(ctx), !id.isEmpty { return id }
            return nil
        case .header(let name)?:
            guard let bytes = ctx.rawPointer?.pointee.header(name), !bytes.isEmpty else { return nil }
            return String(validating: bytes, as: UTF8.self)
        }
    }

    /// Sets `ctx.workOrderID` (and `ctx.workOrder` when the table knows the order).
    func resolve(_ ctx: EvalContext, _ lookup: some CorrelationLookup) {
        if let id = namedID(ctx) {
            ctx.workOrderID = id
            ctx.workOrder = needsOrderDetails ? lookup.workOrder(id: id) : nil
            return
        }
        if let asset, case .string(let name) = asset(ctx), let order = lookup.activeWorkOrder(forAsset: name) {
            ctx.workOrder = order
            ctx.workOrderID = order.id
        }
    }
}
