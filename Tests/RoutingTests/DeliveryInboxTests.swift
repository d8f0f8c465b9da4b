@testable import Kafka
@testable import Routing
import Testing

@Suite("Delivery inbox")
struct DeliveryInboxTests {
    private func report(_ token: UInt64) -> DeliveryReport {
        DeliveryReport(token: token, topic: "analytics.telemetry", partition: 0, offset: Int64(token), error: nil, failedRecord: nil)
    }

    @Test func drainingIntoAnArrayHandsOverEachReportOnceInArrivalOrder() {
        let inbox = DeliveryInbox()
        var arrivals: [DeliveryInbox.Arrival] = []
        for token in UInt64(1)...3 { inbox.add(report(token)) }
        inbox.drain(into: &arrivals)
        #expect(arrivals.map(\.report.token) == [1, 2, 3])

        // What the array held before is replaced, not handed back to the inbox.
        for token in UInt64(4)...5 { inbox.add(report(token)) }
        inbox.drain(into: &arrivals)
        #expect(arrivals.map(\.report.token) == [4, 5])
        inbox.drain(into: &arrivals)
        #expect(arrivals.isEmpty)

        // Both ways of draining share the queue.
        inbox.add(report(6))
        #expect(inbox.drain().map(\.report.token) == [6])
        #expect(inbox.drain().isEmpty)
    }
}
