import W3CTraceContext

/// W3C trace context for outputs: continue the plant event's trace with a new
/// span, or start a trace when the event carried none (or an invalid one).
enum TraceParent {
    static func child(of incoming: String?, using random: inout some RandomNumberGenerator) -> String {
        if let incoming, let parent = try? TraceContext(traceParentHeaderValue: incoming) {
            return TraceContext(traceID: parent.traceID, spanID: .random(using: &random), flags: parent.flags, state: parent.state)
                .traceParentHeaderValue
        }
        return TraceContext(traceID: .random(using: &random), spanID: .random(using: &random), flags: .sampled, state: TraceState())
            .traceParentHeaderValue
    }
}

/// SplitMix64 seeded once from the system generator. Hand-written because span
/// ids need uniqueness, not secrecy, and the system generator costs a
/// `getrandom` call per id on the hot path. Confined to one lane thread.
struct SpanIDGenerator: RandomNumberGenerator {
    private var state: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        state = system.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
