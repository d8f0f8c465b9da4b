import Foundation
import Policy

extension RawEvent {
    /// This event (Kafka binding: `ce_*` headers, JSON body) as one structured-mode CloudEvent,
    /// its key as the `partitionkey` extension: what a line gateway posts to the edge. The
    /// demo's gateway and the edge benchmark build their batches from it.
    public var structuredCloudEvent: String {
        func attribute(_ name: String) -> String { Self.jsonString(header(name).map { String(decoding: $0, as: UTF8.self) } ?? "") }
        let key = Self.jsonString(key.map { String(decoding: $0, as: UTF8.self) } ?? "")
        return "{\"specversion\":\"1.0\",\"id\":\(attribute("ce_id")),\"source\":\(attribute("ce_source")),"
            + "\"type\":\(attribute("ce_type")),\"time\":\(attribute("ce_time")),\"partitionkey\":\(key),"
            + "\"datacontenttype\":\"application/json\",\"data\":\(String(decoding: value, as: UTF8.self))}"
    }

    /// `text` as a JSON string literal, quotes included.
    private static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
