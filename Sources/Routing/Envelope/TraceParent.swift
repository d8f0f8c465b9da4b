/// W3C trace context for outputs: continue the plant event's trace with a new
/// span, or start a trace when the event carried none (or an invalid one).
///
/// Works on the header's bytes by hand: `traceparent` (version 00) is a fixed
/// 55-byte layout, and going through `String` and swift-w3c-trace-context's
/// formatter cost ~5% of the router's CPU per event (Benchmarks/NOTES.md).
enum TraceParent {
    /// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`
    static let length = 55
    private static let traceIDRange = 3..<35
    private static let spanIDRange = 36..<52
    private static let flagsRange = 53..<55
    private static let sampled: UInt8 = 0x01

    /// The router's span for one source event, as header bytes.
    static func child(of incoming: [UInt8]?, using random: inout some RandomNumberGenerator) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: length) { header, count in
            header.initialize(repeating: UInt8(ascii: "-"))
            header[0] = UInt8(ascii: "0")
            header[1] = UInt8(ascii: "0")
            if let incoming, isValid(incoming) {
                // Same trace and flags; only the parent id (our span) is new.
                for index in traceIDRange { header[index] = incoming[index] }
                for index in flagsRange { header[index] = incoming[index] }
            } else {
                writeHex(nonZero(&random), into: header, at: traceIDRange.lowerBound)
                writeHex(nonZero(&random), into: header, at: traceIDRange.lowerBound + 16)
                writeHex(UInt64(sampled), digits: 2, into: header, at: flagsRange.lowerBound)
            }
            writeHex(nonZero(&random), into: header, at: spanIDRange.lowerBound)
            count = length
        }
    }

    /// A version-00 header as the W3C Trace Context spec defines it: lowercase hex fields,
    /// trace and parent ids not all zero. Other versions and any deviation start a new trace.
    static func isValid(_ header: [UInt8]) -> Bool {
        guard header.count == length, header[0] == UInt8(ascii: "0"), header[1] == UInt8(ascii: "0"),
              header[2] == UInt8(ascii: "-"), header[35] == UInt8(ascii: "-"), header[52] == UInt8(ascii: "-")
        else { return false }
        func hexField(_ range: Range<Int>) -> (valid: Bool, allZero: Bool) {
            var allZero = true
            for index in range {
                let byte = header[index]
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                else { return (false, false) }
                allZero = allZero && byte == UInt8(ascii: "0")
            }
            return (true, allZero)
        }
        let trace = hexField(traceIDRange), span = hexField(spanIDRange), flags = hexField(flagsRange)
        return trace.valid && !trace.allZero && span.valid && !span.allZero && flags.valid
    }

    private static func nonZero(_ random: inout some RandomNumberGenerator) -> UInt64 {
        var value: UInt64 = 0
        while value == 0 { value = random.next() }
        return value
    }

    private static func writeHex(_ value: UInt64, digits: Int = 16, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        let hexDigits: StaticString = "0123456789abcdef"
        var remaining = value
        for index in stride(from: start + digits - 1, through: start, by: -1) {
            buffer[index] = hexDigits.utf8Start[Int(remaining & 0xF)]
            remaining >>= 4
        }
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
