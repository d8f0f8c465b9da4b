import Foundation
import PlantSimulation
import Policy

/// The simulated plant's events as the line gateways send them to the edge: structured-mode
/// CloudEvents (key in the `partitionkey` extension) in `cloudevents-batch+json` arrays,
/// built once before timing so the clients only send.
enum EdgeTraffic {
    static func batches(events: Int, batch: Int, seed: UInt64 = 7) -> [[UInt8]] {
        var configuration = PlantSimulator.Configuration()
        configuration.count = events
        configuration.seed = seed
        configuration.includeSlowdown = false
        let all = Array(PlantSimulator(configuration).events().prefix(events))
        return stride(from: 0, to: all.count, by: batch).map { start in
            let slice = all[start..<min(start + batch, all.count)]
            return Array(("[" + slice.map(structured).joined(separator: ",") + "]").utf8)
        }
    }

    static func header(_ event: RawEvent, _ name: String) -> String {
        event.header(name).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// JSON string literal of `text`.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    static func structured(_ event: RawEvent) -> String {
        let key = event.key.map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "{\"specversion\":\"1.0\",\"id\":\(quoted(header(event, "ce_id"))),\"source\":\(quoted(header(event, "ce_source"))),"
            + "\"type\":\(quoted(header(event, "ce_type"))),\"time\":\(quoted(header(event, "ce_time"))),\"partitionkey\":\(quoted(key)),"
            + "\"datacontenttype\":\"application/json\",\"data\":\(String(decoding: event.value, as: UTF8.self))}"
    }
}
