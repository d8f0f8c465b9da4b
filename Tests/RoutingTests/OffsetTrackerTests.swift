import Kafka
@testable import Routing
import Testing

@Suite("Offset tracker")
struct OffsetTrackerTests {
    private let a = TopicPartition(topic: "plant.a", partition: 0)
    private let b = TopicPartition(topic: "plant.b", partition: 3)

    private func committed(_ tracker: OffsetTracker) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: tracker.committable.map { ("\($0.topic)/\($0.partition)", $0.offset) })
    }

    @Test func commitsUpToTheFirstUnfinishedRecordPerPartition() {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<5 { tracker.consumed(a, offset: offset, outputs: 2) }
        tracker.consumed(b, offset: 10, outputs: 0)
        #expect(committed(tracker) == ["plant.a/0": 0, "plant.b/3": 11], "nothing of a is finished; b had no outputs")

        // Acknowledgements arrive out of order: offset 0 finishes last.
        for offset in Int64(1)..<5 { tracker.outputFinished(a, offset: offset); tracker.outputFinished(a, offset: offset) }
        tracker.outputFinished(a, offset: 0)
        #expect(committed(tracker)["plant.a/0"] == 0, "one output of offset 0 is still out")
        tracker.outputFinished(a, offset: 0)
        #expect(committed(tracker)["plant.a/0"] == 5)

        // Unknown offsets and partitions, and extra acknowledgements, change nothing.
        tracker.outputFinished(a, offset: 99)
        tracker.outputFinished(TopicPartition(topic: "other", partition: 0), offset: 1)
        tracker.outputFinished(a, offset: 3)
        #expect(committed(tracker) == ["plant.a/0": 5, "plant.b/3": 11])
    }

    @Test func longRunsStayCorrectAcrossCompaction() {
        var tracker = OffsetTracker()
        for offset in Int64(0)..<20_000 { tracker.consumed(a, offset: offset, outputs: 1) }
        for offset in Int64(1)..<20_000 { tracker.outputFinished(a, offset: offset) }
        #expect(committed(tracker)["plant.a/0"] == 0)
        tracker.outputFinished(a, offset: 0)
        #expect(committed(tracker)["plant.a/0"] == 20_000)
        for offset in Int64(20_000)..<30_000 { tracker.consumed(a, offset: offset, outputs: 1) }
        for offset in Int64(20_000)..<29_999 { tracker.outputFinished(a, offset: offset) }
        #expect(committed(tracker)["plant.a/0"] == 29_999)
    }

    @Test func forgettingARevokedPartitionKeepsTheOthers() {
        var tracker = OffsetTracker()
        tracker.consumed(a, offset: 7, outputs: 1)
        tracker.consumed(b, offset: 3, outputs: 1)
        tracker.forget([a])
        #expect(committed(tracker) == ["plant.b/3": 3])
        tracker.outputFinished(b, offset: 3)
        #expect(tracker.committable(for: [b]).map(\.offset) == [4])
        tracker.outputFinished(a, offset: 7)
        #expect(committed(tracker) == ["plant.b/3": 4])
    }
}
