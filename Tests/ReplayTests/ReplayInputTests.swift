import Foundation
import Kafka
import Ledger
import Policy
@testable import Replay
import Routing
import Testing

/// Replay options and headers at and beyond their bounds: errors, never traps.
struct ReplayInputTests {
    /// Issue 13: `rate: 1e-12` trapped converting 1e21 ns to Int64 in the rate limiter.
    @Test func rateLimiterTakesAnyDouble() {
        let rates: [Double] = [
            1e-12, 0, -0.0, -1, .nan, -.nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 1e-300, 1e300, 0.1, 1, 100_000, 100_001,
        ]
        let slowest = Duration.seconds(10), fastest = Duration.microseconds(10)
        for rate in rates {
            let interval = RateLimiter.interval(perSecond: rate)
            #expect(interval >= fastest && interval <= slowest, "\(rate) → \(interval)")
        }
        #expect(RateLimiter.interval(perSecond: 1e-12) == slowest)
        #expect(RateLimiter.interval(perSecond: .nan) == slowest)
        #expect(RateLimiter.interval(perSecond: .infinity) == fastest)
        #expect(RateLimiter.interval(perSecond: 4) == .milliseconds(250))
    }

    @Test func requestOptionsOutsideTheirBoundsAreRefused() throws {
        let refused: [ReplayRequest] = [
            ReplayRequest(fromDLQ: "quality", rate: 1e-12),
            ReplayRequest(fromDLQ: "quality", rate: .nan),
            ReplayRequest(fromDLQ: "quality", rate: .infinity),
            ReplayRequest(fromDLQ: "quality", rate: 0),
            ReplayRequest(fromDLQ: "quality", maxReplays: 0),
            ReplayRequest(fromDLQ: "quality", maxReplays: .max),
            ReplayRequest(fromDLQ: "quality", fromOffset: -1),
            ReplayRequest(fromDLQ: "quality", toOffset: .max),
            ReplayRequest(fromDLQ: "quality", since: Date(timeIntervalSince1970: -1)),
            ReplayRequest(fromDLQ: "quality", until: Date(timeIntervalSince1970: 1e15)),
            ReplayRequest(fromDLQ: "quality", since: Date(timeIntervalSince1970: .nan)),
            ReplayRequest(fromDLQ: "quality", reason: "nope"),
        ]
        for request in refused {
            #expect(throws: ReplayError.self, "\(request)") { try request.validate() }
        }
        try ReplayRequest(fromDLQ: "quality", fromOffset: 0, toOffset: Int64.max - 1, reason: "quarantine", rate: 0.1, maxReplays: 100).validate()
    }

    /// A `plantrouter-replay-count` of Int.max trapped in `replayCount + 1`; a negative one
    /// read as "never replayed". Both are written by whoever produces the record.
    @Test func hostileReplayCountHeadersNeitherTrapNorEscapeTheLoopGuard() async throws {
        let fixture = try ReplayFixture()
        var records: [ProducerRecord] = []
        for (id, count) in [("max", "9223372036854775807"), ("over", "99999999999999999999"), ("negative", "-5")] {
            var record = ReplayFixture.failedInspection(id: id)
            record.headers.append(KafkaHeader(name: HeaderNames.replayCount, string: count))
            records.append(record)
        }
        try fixture.publish(records)
        let jobs = fixture.jobs()
        let job = try await jobs.run(jobID: try await jobs.create(ReplayRequest(topic: "plant.quality.results"), requestedBy: "test").id)
        // The quarantined event is still a dead letter: the job ends saying so.
        #expect(job.state == .completedWithDeadLetters)
        // Int.max is quarantined; an unparseable or negative count reads as 0 and is re-routed once.
        #expect(job.counts.quarantined == 1 && job.counts.sent == 2, "\(job.counts)")
    }
}
