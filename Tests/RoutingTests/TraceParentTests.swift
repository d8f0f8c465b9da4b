@testable import Routing
import Testing

@Suite("traceparent of outputs")
struct TraceParentTests {
    private var random = SpanIDGenerator()
    private let incoming = Array("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".utf8)

    @Test mutating func continuesTheIncomingTraceWithANewSpan() {
        let child = String(decoding: TraceParent.child(of: incoming, using: &random), as: UTF8.self)
        #expect(child.wholeMatch(of: /00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01/) != nil, "\(child)")
        #expect(!child.contains("00f067aa0ba902b7"), "a new span, not the parent's")
        #expect(TraceParent.isValid(Array(child.utf8)))
    }

    @Test mutating func startsATraceWhenTheIncomingOneIsMissingOrInvalid() {
        let invalid = [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // uppercase
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // another version
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", // too long
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // wrong separator
            "",
        ]
        for header in invalid.map({ Array($0.utf8) }) + [nil] {
            let child = TraceParent.child(of: header, using: &random)
            let text = String(decoding: child, as: UTF8.self)
            #expect(TraceParent.isValid(child), "\(text)")
            #expect(!text.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "a new trace for \(header.map { String(decoding: $0, as: UTF8.self) } ?? "nil")")
            #expect(text.hasSuffix("-01"), "new traces are sampled")
        }
    }
}
