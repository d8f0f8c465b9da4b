@testable import Edge
import Foundation
import Kafka
import Testing

@Suite("Edge pieces")
struct EdgeUnitTests {
    @Test func batchElementsAreCutByteForByte() throws {
        let body = Array(#" [ {"id":"a","data":{"s":"x,]}\"y"}} ,{"id":"b","data":[1,{"k":[]}]}] "#.utf8)
        let elements = try CloudEventsHTTP.splitArray(body, maxElements: 10)
        #expect(elements.map { String(decoding: $0, as: UTF8.self) } == [#"{"id":"a","data":{"s":"x,]}\"y"}}"#, #"{"id":"b","data":[1,{"k":[]}]}"#])
        #expect(try CloudEventsHTTP.splitArray(Array("[]".utf8), maxElements: 1).isEmpty)
        for bad in ["{}", "[1]", "[{}", "[{},]", "[{}] x", ""] {
            #expect(throws: CloudEventsHTTP.Refusal.self, "\(bad)") { try CloudEventsHTTP.splitArray(Array(bad.utf8), maxElements: 10) }
        }
        #expect(throws: CloudEventsHTTP.Refusal.self) { try CloudEventsHTTP.splitArray(Array("[{},{},{}]".utf8), maxElements: 2) }
    }

    @Test func headersRoundTripAndMalformedBlobsAreRefused() {
        let headers = [KafkaHeader(name: "ce_id", string: "1"), KafkaHeader(name: "empty", value: []), KafkaHeader(name: "null", value: nil)]
        let blob = HeaderCoding.encode(headers)
        #expect(HeaderCoding.decode(blob) == headers)
        #expect(HeaderCoding.decode(blob.dropLast()) == nil)
        #expect(HeaderCoding.decode(Data([0xFF, 0xFF, 0xFF, 0x7F])) == nil)
    }

    @Test func binaryModeBecomesTheKafkaBinding() {
        let event = CloudEventsHTTP.binary(headers: [("CE-ID", "1"), ("ce-type", "t"), ("ce-source", "s"), ("ce-partitionkey", "asset-1"),
                                                     ("Content-Type", "application/json"), ("Authorization", "Bearer x")], body: [0x7B, 0x7D])
        #expect(event.id == "1" && event.type == "t")
        #expect(event.key == Array("asset-1".utf8))
        #expect(event.headers.map(\.name) == ["ce_id", "ce_type", "ce_source", "ce_partitionkey", "content-type"], "no Authorization in the record")
    }

    @Test func configurationRefusesUnknownKeysAndSheddingBusiness() throws {
        let folder = URL(fileURLWithPath: "/etc/plantrouter")
        let parsed = try EdgeConfiguration.parse("""
            cluster: { bootstrapServers: "kafka:9092" }
            quota: { business: 2GiB, telemetry: 512MiB }
            drain: { rate: 2000 }
            """, folder: folder)
        #expect(parsed.quota[.telemetry] == 512 << 20)
        #expect(parsed.drainRate == 2000)
        #expect(parsed.spool.path == "/etc/plantrouter/edge-spool.sqlite")
        #expect(throws: EdgeConfigurationError.self) { try EdgeConfiguration.parse("cluster: { bootstrapServers: k }\nquotas: {}", folder: folder) }
        #expect(throws: EdgeConfigurationError.self) { try EdgeConfiguration.parse("cluster: { bootstrapServers: k }\nshed: [orders]", folder: folder) }
        #expect(EdgeConfiguration.parseSize("99999999999GiB") == nil)
    }
}
