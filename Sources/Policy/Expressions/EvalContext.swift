/// What compiled expressions read while one event is evaluated. One per engine, reused for
/// every event (a class so closures receive it without copying).
final class EvalContext {
    var event: DecodedEvent
    var topic: String = ""
    var key: [UInt8]?
    /// Set per rule before its condition runs (when the rule declares `correlate`).
    var workOrder: WorkOrder?
    /// The rule's window for the current key (when the rule declares `window`).
    var window: KeyState?

    init(event: DecodedEvent) { self.event = event }

    @inline(__always) func payloadNode(_ path: [[UInt8]]) -> Int? {
        event.document.lookup(path, from: event.payloadNode)
    }

    func value(ofNode node: Int) -> Value {
        let document = event.document
        switch document.kind(node) {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return .number(document.number(node))
        case .string: return .string(document.string(node))
        case .array, .object: return .node(node)
        }
    }
}

extension DecodedEvent {
    /// An empty event for initialising contexts before the first evaluation.
    static let placeholder: DecodedEvent = {
        let document = try! JSONDocument(parsing: Array("{}".utf8))
        return DecodedEvent(mode: .binary, idBytes: [], sourceBytes: [], typeBytes: [], subjectBytes: nil, timeBytes: nil,
                            contentTypeBytes: nil, traceparentBytes: nil, timeMs: 0, document: document, payloadNode: 0, workOrderID: nil)
    }()
}
