import W3CTraceContext

/// W3C trace context for outputs: continue the plant event's trace with a new
/// span, or start a trace when the event carried none (or an invalid one).
enum TraceParent {
    static func child(of incoming: String?) -> String {
        if let incoming, let parent = try? TraceContext(traceParentHeaderValue: incoming) {
            return TraceContext(traceID: parent.traceID, spanID: .random(), flags: parent.flags, state: parent.state)
                .traceParentHeaderValue
        }
        return TraceContext(traceID: .random(), spanID: .random(), flags: .sampled, state: TraceState()).traceParentHeaderValue
    }
}
