import Foundation
import Testing
@testable import Policy

@Suite struct DecodingTests {
    let body = #"{"asset":"A1","value":12.5}"#

    func decode(_ event: RawEvent, limit: Int = 1024) -> Result<DecodedEvent, DecodeFailure> {
        var limits = InputLimits()
        limits.maxEventBytes = limit
        var decoder = EnvelopeDecoder(limits: limits)
        do { return .success(try decoder.decode(event)) } catch { return .failure(error) }
    }

    func failure(_ event: RawEvent, limit: Int = 1024) -> DecodeFailure? {
        if case .failure(let f) = decode(event, limit: limit) { f } else { nil }
    }

    @Test func binaryModeAttributesAndPayload() throws {
        let event = cloudEvent(id: "id-1", time: "2026-03-01T08:00:01.250Z", body: body,
                               extraHeaders: [EventHeader("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), EventHeader("ce_subject", "A1")])
        let decoded = try decode(event).get()
        #expect(decoded.mode == .binary)
        #expect(decoded.id == "id-1" && decoded.type == "plant.telemetry.reading" && decoded.source == "plant/hamburg/gateway/l1")
        #expect(decoded.subject == "A1" && decoded.contentType == "application/json")
        #expect(decoded.traceparent?.hasPrefix("00-4bf9") == true)
        #expect(decoded.timeMs == 1_772_352_001_250)
        #expect(decoded.payload == .object([.init(name: "asset", value: .string("A1")), .init(name: "value", value: .number(12.5))]))
    }

    @Test func structuredMode() throws {
        let json = #"{"specversion":"1.0","id":"s-1","source":"plant/x/gateway/l1","type":"plant.telemetry.reading","time":"2026-03-01T09:00:00+01:00","datacontenttype":"application/json","data":{"asset":"A\u00e9","value":3}}"#
        let event = RawEvent(topic: "t", key: nil, value: Array(json.utf8), headers: [EventHeader("content-type", "application/cloudevents+json")])
        let decoded = try decode(event).get()
        #expect(decoded.mode == .structured && decoded.id == "s-1" && decoded.source == "plant/x/gateway/l1")
        #expect(decoded.timeMs == 1_772_352_000_000)
        #expect(decoded.payloadField("asset") == .string("Aé"))
        #expect(String(decoding: decoded.payloadBytes, as: UTF8.self) == #"{"asset":"A\u00e9","value":3}"#)
    }

    @Test(arguments: ["ce_id", "ce_source", "ce_type", "ce_specversion"])
    func missingRequiredHeader(name: String) {
        let f = failure(cloudEvent(body: body, omit: [name]))
        #expect(f?.reason == .parse && f?.field == name)
    }

    @Test func failuresNameTheOffendingField() {
        #expect(failure(cloudEvent(time: "yesterday", body: body))?.field == "ce_time")
        let badJSON = failure(cloudEvent(body: #"{"asset":"A1",}"#))
        #expect(badJSON?.field == "value" && badJSON?.message.contains("invalid JSON at byte 14") == true)
        let utf8 = failure(RawEvent(topic: "t", key: nil, value: Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8), headers: cloudEvent(body: "").headers))
        #expect(utf8?.message.contains("invalid UTF-8") == true)
        let big = failure(cloudEvent(body: #"{"x":""# + String(repeating: "y", count: 2000) + #""}"#))
        #expect(big?.field == "value" && big?.message.contains("over the limit") == true)
        let sourceUTF8 = failure(RawEvent(topic: "t", key: nil, value: Array(body.utf8), headers: [EventHeader("ce_specversion", "1.0"), EventHeader("ce_id", "1"),
                                                                                                   EventHeader(name: "ce_source", value: [0xC3, 0x28]), EventHeader("ce_type", "x")]))
        #expect(sourceUTF8?.field == "ce_source")
        #expect(failure(cloudEvent(body: body, extraHeaders: [EventHeader("ce_specversion", "0.3")], omit: ["ce_specversion"]))?.field == "ce_specversion")
        #expect(failure(cloudEvent(body: body, extraHeaders: [EventHeader("content-type", "text/plain")], omit: ["content-type"]))?.field == "content-type")
        let noData = RawEvent(topic: "t", key: nil, value: Array(#"{"specversion":"1.0","id":"1","source":"s","type":"t"}"#.utf8), headers: [EventHeader("content-type", "application/cloudevents+json")])
        #expect(failure(noData)?.field == "data")
    }

    @Test func schemaViolationsArePointedAt() throws {
        let engine = PolicyEngine(policy: defaultPolicy)
        func message(_ body: String) -> String? { engine.evaluate(cloudEvent(body: body), correlation: NoCorrelation()).outcome.deadLetterMessage }
        #expect(message(#"{"asset":"A","line":"L","metric":"throughput","value":"x","unit":"u"}"#)?.contains("at /value: expected number, found string") == true)
        #expect(message(#"{"asset":"A","line":"L","metric":"noise","value":1,"unit":"u"}"#)?.contains("/metric") == true)
        #expect(message(#"{"asset":"A","line":"L","metric":"speed","value":1}"#)?.contains("required property 'unit'") == true)
        #expect(message(#"{"asset":"A","line":"L","metric":"speed","value":1,"unit":"u","extra":1}"#)?.contains("'extra' is not allowed") == true)
        #expect(message(#"[1,2]"#)?.contains("expected object") == true)
    }

    @Test func jsonParserRejectsInvalidText() {
        for bad in ["", "{", "[1,]", "01", "1.", "\"\\x\"", "tru", "{\"a\" 1}", "1 2", "\"\u{01}\""] {
            #expect(throws: JSONParseError.self, "\(bad)") { try JSONDocument(parsing: Array(bad.utf8)) }
        }
        #expect((try? JSONDocument(parsing: Array(#"  {"a":[1,-2.5e3,true,null,"\ud83d\ude00"]} "#.utf8)).value(0)) ==
                .object([.init(name: "a", value: .array([.number(1), .number(-2500), .bool(true), .null, .string("😀")]))]))
    }

    /// The string scanner skips eight plain bytes at a time: every special byte must still be found
    /// wherever it falls within a word, and the text around it must come back intact.
    @Test func shortByteComparisonSeesADifferenceAtEveryPosition() {
        for count in 1...40 {
            let a = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            a.withUnsafeBytes { x in
                var same = a
                same.withUnsafeBytes { y in #expect(ShortBytes.equal(x.baseAddress!, y.baseAddress!, count: count)) }
                for position in 0..<count {
                    same = a
                    same[position] ^= 0x20
                    same.withUnsafeBytes { y in
                        #expect(!ShortBytes.equal(x.baseAddress!, y.baseAddress!, count: count), "length \(count), byte \(position)")
                    }
                }
            }
        }
    }

    @Test func byteArrayComparisonAgreesWithArrayEquality() {
        let samples: [[UInt8]] = [[], [0], [1], Array("application/json".utf8), Array("application/jsoN".utf8), Array("application/json ".utf8), Array("1.0".utf8)]
        for a in samples {
            for b in samples { #expect(ShortBytes.equal(a, b) == (a == b), "\(a) \(b)") }
        }
    }

    @Test func asciiCheckSeesAHighByteAtEveryPosition() {
        for count in 0...40 {
            var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: count)
            #expect(bytes.withUnsafeBytes(ShortBytes.isASCII))
            for position in 0..<count {
                bytes[position] = 0xC3
                #expect(!bytes.withUnsafeBytes(ShortBytes.isASCII), "length \(count), byte \(position)")
                bytes[position] = UInt8(ascii: "a")
            }
        }
    }

    @Test func stringScanFindsSpecialBytesAtEveryOffset() throws {
        for offset in 0..<20 {
            let before = String(repeating: "a", count: offset), after = String(repeating: "b", count: 19 - offset)
            for (special, expected) in [(#"\""#, "\""), (#"\\"#, "\\"), (#"\n"#, "\n"), ("é", "é"), ("😀", "😀")] {
                let document = try JSONDocument(parsing: Array(#"{"k":"\#(before)\#(special)\#(after)"}"#.utf8))
                #expect(document.value(0) == .object([.init(name: "k", value: .string(before + expected + after))]), "offset \(offset) \(special)")
            }
            for bad: [UInt8] in [[0x01], [0x1F], [0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80]] {
                let text = Array(#"{"k":"\#(before)"#.utf8) + bad + Array(#"\#(after)"}"#.utf8)
                #expect(throws: JSONParseError.self, "offset \(offset) \(bad)") { try JSONDocument(parsing: text) }
            }
            #expect(throws: JSONParseError.self) { try JSONDocument(parsing: Array(#"{"k":"\#(before)"#.utf8)) }
        }
    }

    @Test func recordedEventsRoundTrip() throws {
        let text = RawEvent(topic: "plant.telemetry.readings", partition: 3, offset: 42, timestampMs: 1_772_352_000_000, key: Array("L1-FILL1".utf8),
                            value: Array(#"{"note":"a \"quoted\"\nline","value":1}"#.utf8),
                            headers: [EventHeader("ce_type", "plant.telemetry.reading"), EventHeader("ce_id", "e-1"), EventHeader("x-tab", "a\tb")])
        let binary = RawEvent(topic: "t", key: [0xFF, 0x00], value: [0xC3, 0x28], headers: [])
        for event in [text, binary] {
            let line = RecordedEvent.encode(event)
            #expect(!line.contains("\n"))
            let back = try RecordedEvent.decode(line)
            #expect(back.topic == event.topic && back.partition == event.partition && back.offset == event.offset)
            #expect(back.timestampMs == event.timestampMs && back.key == event.key && back.value == event.value)
            #expect(back.headers == event.headers.sorted { $0.name < $1.name })
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("recorded-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try RecordedEvent.writeLines([text, binary, text], to: file)
        #expect(try RecordedEvent.readLines(at: file).map(\.topic) == [text.topic, binary.topic, text.topic])
    }

    @Test func idempotencyKeysAreStableAndDistinct() {
        let a = IdempotencyKey.make(sourceEventID: "e-1", ruleID: "r", targetTopic: "t")
        #expect(a == IdempotencyKey.make(sourceEventID: "e-1", ruleID: "r", targetTopic: "t"))
        #expect(a.count == 32)
        #expect(a != IdempotencyKey.make(sourceEventID: "e-1", ruleID: "r", targetTopic: "u"))
        #expect(IdempotencyKey.make(sourceEventID: "ab", ruleID: "c", targetTopic: "t") != IdempotencyKey.make(sourceEventID: "a", ruleID: "bc", targetTopic: "t"))
    }
}
