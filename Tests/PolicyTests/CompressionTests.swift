import Foundation
import Policy
import Testing

@Suite("Catalog compression per topic")
struct CompressionTests {
    private func catalog(_ compression: String?) -> Fixture {
        var text = fixtureCatalog
        if let compression {
            text = text.replacingOccurrences(of: "  - name: out\n    lane: plant\n", with: "  - name: out\n    lane: plant\n    compression: \(compression)\n")
        }
        return Fixture(["catalog.yaml": text, "schemas/reading.json": fixtureReadingSchema, "schemas/out.json": fixtureOutSchema,
                        "policy.yaml": """
            version: "1"
            rules:
              - id: readings
                match: { topic: in, type: reading }
                then: { analytics: an }
            """])
    }

    @Test func topicsDefaultToLZ4AndTakeTheCatalogsCodec() throws {
        let defaults = try catalog(nil).load().catalog
        #expect(defaults.topics.allSatisfy { $0.compression == .lz4 })
        let zstd = try catalog("zstd").load().catalog
        #expect(zstd.topics.first { $0.name == "out" }?.compression == .zstd)
        #expect(zstd.topics.first { $0.name == "in" }?.compression == .lz4)
    }

    @Test func anUnknownCodecIsRefusedWithASuggestion() {
        let diagnostics = catalog("lz5").diagnostics()
        let diagnostic = diagnostics.first { $0.message.contains("compression") }
        #expect(diagnostic?.message == "invalid compression 'lz5'", "\(diagnostics)")
        #expect(diagnostic?.hint?.contains("lz4") == true)
        #expect(diagnostic?.file.hasSuffix("catalog.yaml") == true)
    }
}
