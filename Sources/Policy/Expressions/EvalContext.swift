/// What compiled expressions read while one event is evaluated. One per engine, reused for
/// every event (a class so closures receive it without copying).
///
/// The event and its tape are reached through unsafe views that the engine sets for the
/// duration of one evaluation (inside `withUnsafePointer`/`withTape`), so expression closures
/// do no reference counting on the hot path.
///
/// Confined to one lane thread: its mutable properties are `@exclusivity(unchecked)`, since the
/// runtime exclusivity checks on this per-event state cost ~4% of evaluation time.
final class EvalContext {
    @exclusivity(unchecked) var tape: TapeView = EvalContext.emptyTape
    @exclusivity(unchecked) var payload = 0
    @exclusivity(unchecked) var eventPointer: UnsafePointer<DecodedEvent>?
    /// The record the event came from (its topic and key).
    @exclusivity(unchecked) var rawPointer: UnsafePointer<RawEvent>?
    /// Set per rule before its condition runs (when the rule declares `correlate`): the
    /// order's id, and the order itself when the work-order table knows it.
    @exclusivity(unchecked) var workOrderID: String?
    @exclusivity(unchecked) var workOrder: WorkOrder?
    /// The rule's window for the current key (when the rule declares `window`).
    @exclusivity(unchecked) var window: KeyState?

    var event: DecodedEvent { eventPointer!.pointee }
    var topic: String { rawPointer!.pointee.topic }
    var key: [UInt8]? { rawPointer!.pointee.key }

    @inline(__always) func payloadNode(_ path: FieldPath) -> Int? {
        tape.lookup(path, from: payload)
    }

    func value(ofNode node: Int) -> Value {
        switch tape.kind(node) {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return .number(tape.number(node))
        case .string: return .string(tape.string(node))
        case .array, .object: return .node(node)
        }
    }

    /// A one-node tape (`null`) used between evaluations.
    nonisolated(unsafe) static let emptyTape: TapeView = {
        let nodes = UnsafeMutablePointer<JSONNode>.allocate(capacity: 1)
        nodes.initialize(to: JSONNode(kind: .null, escaped: false, start: 0, end: 0, next: 1, count: 0, number: 0))
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        bytes.initialize(to: 0)
        return TapeView(nodes: nodes, bytes: bytes)
    }()
}
