import Foundation
import Policy

/// `fuzz-recorded`: the input as a recorded-event file (`--events FILE.jsonl`), read through
/// `RecordedEvent.readLines`. Every event it accepts must survive `encode` and `decode` with
/// its topic, key, value, partition, offset, timestamp and header names intact.
public enum RecordedHarness {
    /// One file per process, rewritten for every input.
    static let file = FileManager.default.temporaryDirectory.appendingPathComponent("plantrouter-fuzz-recorded-\(getpid()).jsonl")

    @discardableResult
    public static func run(_ bytes: some Collection<UInt8>) -> Result<[RawEvent], any Error> {
        do {
            try Data(bytes).write(to: file)
        } catch {
            fatalError("cannot write \(file.path): \(error)")
        }
        let result = Result { try RecordedEvent.readLines(at: file) }
        if case .success(let events) = result {
            for event in events { checkRoundTrip(event) }
        }
        return result
    }

    static func checkRoundTrip(_ event: RawEvent) {
        let line = RecordedEvent.encode(event)
        let again: RawEvent
        do { again = try RecordedEvent.decode(line) } catch {
            preconditionFailure("an accepted event does not decode after encode: \(error)\n\(line)")
        }
        precondition(again.topic == event.topic && again.key == event.key && again.value == event.value, "topic, key or value changed: \(line)")
        precondition(again.partition == event.partition && again.offset == event.offset && again.timestampMs == event.timestampMs,
                     "partition, offset or timestamp changed: \(line)")
        precondition(Set(again.headers.map(\.name)) == Set(event.headers.map(\.name)), "header names changed: \(line)")
    }
}
