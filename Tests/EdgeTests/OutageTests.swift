import Edge
import Foundation
import Kafka
import Policy
import Testing

/// `plantrouter edge` end to end: HTTP on loopback into the spool while every broker of the
/// embedded cluster is down, then forwarding once they are back.
@Suite("Edge store-and-forward", .serialized)
struct OutageTests {
    /// The issue's scenario at its size: every broker down for 30 s while 50,000 events arrive.
    @Test func everyEventArrivesOncePerIdInKeyOrderAfterAnOutage() async throws {
        let total = 50_000
        let binaryCount = 100
        let outage: Duration = .seconds(30)
        let bed = try await EdgeTestbed(rate: 50_000)
        defer { Task { await bed.shutdown() } }
        let events = GatewayTraffic.events(total)
        #expect(events.count == total)

        try bed.allBrokers(up: false)
        let ingestStart = ContinuousClock.now
        // Most events batched (200 per request) by four gateways at once, each with its own keys
        // (a key's events come from one gateway, in order); some in binary mode one per request.
        let batched = events.dropLast(binaryCount)
        let refused = try await bed.postFromGateways(batched).filter { $0.status != 202 }
        #expect(refused.isEmpty, "batches refused: \(refused.prefix(3).map { "\($0.status) \($0.body)" })")
        let batchedSeconds = (ContinuousClock.now - ingestStart) / .seconds(1)
        print("edge ingest, batched: \(batched.count) events in requests of 200 from 4 gateways in \(String(format: "%.2f", batchedSeconds)) s = \(Int(Double(batched.count) / batchedSeconds)) events/s to the durable spool (debug build)")
        let binaryStart = ContinuousClock.now
        for event in events.suffix(binaryCount) {
            let reply = try await bed.post(event.value, contentType: "application/json", headers: GatewayTraffic.binaryHeaders(event))
            #expect(reply.status == 202, "binary \(GatewayTraffic.header(event, "ce_id")): \(reply.status) \(reply.body)")
        }
        let binarySeconds = (ContinuousClock.now - binaryStart) / .seconds(1)
        print("edge ingest, binary mode: \(binaryCount) single-event requests in \(String(format: "%.2f", binarySeconds)) s = \(Int(Double(binaryCount) / binarySeconds)) events/s (one client, one fsync each)")
        // Rejected by the edge policy: a spoofed source (authority) and a body that is not JSON (parse).
        let spoofed = events[0..<10].map { GatewayTraffic.structured($0, source: "plant/x/rogue/1") }
        let spoofedReply = try await bed.post(GatewayTraffic.batch(spoofed.map { $0.replacingOccurrences(of: "\"id\":\"", with: "\"id\":\"spoof-") }),
                                              contentType: "application/cloudevents-batch+json")
        #expect(spoofedReply.status == 202, "\(spoofedReply.body)")
        var broken = GatewayTraffic.binaryHeaders(events[1])
        broken["ce-id"] = "broken-1"
        let brokenReply = try await bed.post(Array("{not json".utf8), contentType: "application/json", headers: broken)
        #expect(brokenReply.status == 202)
        let ingestSeconds = (ContinuousClock.now - ingestStart) / .seconds(1)
        print("edge ingest: \(total + 11) events to the spool in \(String(format: "%.2f", ingestSeconds)) s = \(Int(Double(total + 11) / ingestSeconds)) events/s (debug build, \(binaryCount) single binary-mode requests)")

        // Nothing left while every broker is down; the link is reported down.
        let spooled = try bed.node.spool.statistics()
        let spoolPath = bed.node.configuration.spool.path
        func fileBytes(_ suffix: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: spoolPath + suffix)[.size] as? Int) ?? 0 }
        let perEvent = { (bytes: Int) in bytes / max(1, Int(spooled.events)) }
        print("edge spool: \(spooled.events) events, \(spooled.classBytes.values.reduce(0, +) / max(1, spooled.events)) bytes per event counted against the quota; on disk \(perEvent(fileBytes(""))) bytes per event in the database file plus a \(fileBytes("-wal") / 1024) KiB WAL")
        #expect(spooled.events == Int64(total + 11), "everything acknowledged is spooled")
        #expect(spooled.lanes.allSatisfy { $0.forwarded == 0 })
        #expect(try await eventually(timeout: .seconds(20)) { !bed.node.forwarder.link.up }, "link reported down during the outage")
        let metricsDown = try await bed.get("/metrics")
        #expect(metricsDown.body.contains("plantrouter_edge_link_up 0"))
        #expect(metricsDown.body.contains("plantrouter_edge_spool_events{lane=\"telemetry\"}"))
        let readyDown = try await bed.get("/readyz")
        #expect(readyDown.status == 200 && readyDown.body.contains("\"link\":\"down\""), "\(readyDown.body)")

        // The rest of the outage: the brokers stay down for 30 s in all.
        try await Task.sleep(until: ingestStart + outage)
        #expect(try bed.node.spool.statistics().events == Int64(total + 11), "nothing left the edge during the outage")

        let drainStart = ContinuousClock.now
        try bed.allBrokers(up: true)
        #expect(try await eventually(timeout: .seconds(120)) { (try bed.node.spool.statistics()).events == 0 }, "the spool drains")
        let drainSeconds = (ContinuousClock.now - drainStart) / .seconds(1)
        print("edge drain: \(total + 11) events in \(String(format: "%.2f", drainSeconds)) s after a \(outage) outage = \(Int(Double(total + 11) / drainSeconds)) events/s (debug build, rate cap 50,000/s)")

        let sourceTopics = EdgeTestbed.sourceAndDeadLetterTopics.filter { !$0.hasPrefix("dlq.") }
        let records = try await bed.consumeAll(sourceTopics, timeout: .seconds(120)) { $0.count >= total }
        let ids = records.compactMap(\.eventID)
        #expect(ids.count == records.count, "every record carries its ce_id")
        #expect(records.count == total, "exactly once: \(records.count) records for \(total) events")
        #expect(Set(ids) == Set(events.map { GatewayTraffic.header($0, "ce_id") }), "the original ce_ids, none missing")

        // Per topic and key (what a partition orders): the order the gateway sent them in. Across
        // topics there is no order to keep: business lanes go out before the telemetry backlog.
        var sentOrder: [String: [String]] = [:]
        for event in events {
            sentOrder[event.topic + "/" + String(decoding: event.key ?? [], as: UTF8.self), default: []].append(GatewayTraffic.header(event, "ce_id"))
        }
        var arrivedOrder: [String: [String]] = [:]
        for record in records.sorted(by: { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }) {
            arrivedOrder[record.topic + "/" + record.keyText, default: []].append(record.eventID ?? "")
        }
        #expect(sentOrder.count > 20, "many keys")
        let outOfOrder = sentOrder.filter { arrivedOrder[$0.key] != $0.value }.map(\.key).sorted()
        #expect(outOfOrder.isEmpty, "keys out of send order: \(outOfOrder.prefix(5))")
        // The exact bytes: a binary-mode event's body and ce_* headers.
        if let last = events.last, let record = records.first(where: { $0.eventID == GatewayTraffic.header(last, "ce_id") }) {
            #expect(record.value == last.value)
            #expect(record.header("ce_type") == GatewayTraffic.header(last, "ce_type"))
            #expect(record.keyText == String(decoding: last.key ?? [], as: UTF8.self))
        }

        let deadLetters = try await bed.consumeAll(EdgeTestbed.sourceAndDeadLetterTopics.filter { $0.hasPrefix("dlq.") }) { $0.count >= 11 }
        #expect(deadLetters.count == 11)
        #expect(deadLetters.filter { $0.header("dlq-reason") == "authority" }.count == 10)
        #expect(deadLetters.filter { $0.header("dlq-reason") == "parse" }.count == 1)
        #expect(deadLetters.allSatisfy { $0.header("dlq-lane") != nil && $0.header("dlq-policy-version") != nil && $0.header("dlq-error") != nil })

        let stats = try bed.node.spool.statistics()
        #expect(stats.lanes.reduce(0) { $0 + $1.forwarded } == Int64(total + 11), "forwarded counts match")
        #expect(stats.lanes.reduce(0) { $0 + $1.rejected } == 11)
        #expect(stats.lanes.reduce(0) { $0 + $1.shed } == 0)
        #expect(bed.node.forwarder.link.up)
        await bed.shutdown()
    }

    @Test func fullQuotaShedsOldestTelemetryAndRefusesBusinessWith503() async throws {
        let quota: Int64 = 96 * 1024
        // The default window of 5,000: telemetry in flight is held to a quarter of its quota, so
        // the outage backlog is mostly still spooled and sheddable (with every event in flight,
        // a full quota could shed nothing and would answer 503).
        let bed = try await EdgeTestbed(quota: [.business: quota, .telemetry: quota], rate: 50_000)
        defer { Task { await bed.shutdown() } }
        let events = GatewayTraffic.events(4000, seed: 11, telemetryShare: 0.5)
        let telemetry = events.filter { $0.topic == "plant.telemetry.readings" }
        let business = events.filter { ["plant.production.counts", "plant.production.confirmations", "plant.quality.results"].contains($0.topic) }
        #expect(telemetry.count > 1000 && business.count > 600)
        try bed.allBrokers(up: false)

        // Telemetry: always accepted; the oldest unsent go when the class is full.
        for chunk in stride(from: 0, to: 1000, by: 100) {
            let reply = try await bed.post(GatewayTraffic.batch(telemetry[chunk..<(chunk + 100)].map { GatewayTraffic.structured($0) }),
                                           contentType: "application/cloudevents-batch+json")
            #expect(reply.status == 202, "\(reply.body)")
        }
        var stats = try bed.node.spool.statistics()
        let shed = stats.lane("telemetry")?.shed ?? 0
        #expect(shed > 0, "telemetry shed when its quota is reached")
        #expect((stats.classBytes["telemetry"] ?? .max) <= quota)
        #expect((stats.lane("telemetry")?.events ?? 0) + shed == 1000, "every telemetry event is spooled or counted as shed")

        // Business: never shed; past the quota the gateway gets 503 + Retry-After and keeps it.
        var accepted: [RawEvent] = []
        var refused: TestbedReplyRecord?
        for chunk in stride(from: 0, to: business.count - 20, by: 20) {
            let slice = business[chunk..<(chunk + 20)]
            let reply = try await bed.post(GatewayTraffic.batch(slice.map { GatewayTraffic.structured($0) }), contentType: "application/cloudevents-batch+json")
            if reply.status == 202 { accepted += slice } else { refused = TestbedReplyRecord(status: reply.status, retryAfter: reply.retryAfter); break }
        }
        #expect(refused?.status == 503)
        #expect(refused?.retryAfter == "5")
        stats = try bed.node.spool.statistics()
        #expect((stats.classBytes["business"] ?? .max) <= quota)
        let businessSpooled = stats.lanes.filter { $0.lane != "telemetry" }.reduce(0) { $0 + $1.events }
        #expect(businessSpooled == Int64(accepted.count), "no business event shed")
        #expect(stats.lanes.filter { $0.lane != "telemetry" }.allSatisfy { $0.shed == 0 })
        let metrics = try await bed.get("/metrics")
        #expect(metrics.body.contains("plantrouter_edge_shed_total{lane=\"telemetry\"} \(shed)"), "shed counted in /metrics")

        try bed.allBrokers(up: true)
        #expect(try await eventually(timeout: .seconds(60)) { (try bed.node.spool.statistics()).events == 0 })
        let expected = accepted.count + 1000 - Int(shed)
        let records = try await bed.consumeAll(EdgeTestbed.sourceAndDeadLetterTopics.filter { !$0.hasPrefix("dlq.") }) { $0.count >= expected }
        #expect(records.count == expected)
        let arrived = Set(records.compactMap(\.eventID))
        #expect(arrived.count == records.count, "no duplicates")
        #expect(Set(accepted.map { GatewayTraffic.header($0, "ce_id") }).isSubset(of: arrived), "every accepted business event arrived")
        await bed.shutdown()
    }

    @Test func refusesWithoutAValidTokenAndOversizedBatches() async throws {
        let bed = try await EdgeTestbed()
        defer { Task { await bed.shutdown() } }
        let events = GatewayTraffic.events(3)
        let noToken = try await bed.post(GatewayTraffic.batch(events.map { GatewayTraffic.structured($0) }),
                                         contentType: "application/cloudevents-batch+json", token: "wrong")
        #expect(noToken.status == 401)
        let element = GatewayTraffic.structured(events[0])
        let tooMany = try await bed.post(GatewayTraffic.batch(Array(repeating: element, count: InputLimits.maxEdgeBatchEvents + 1)),
                                         contentType: "application/cloudevents-batch+json")
        #expect(tooMany.status == 413)
        let unknown = try await bed.post(Array("{}".utf8), contentType: "application/json", headers: ["ce-id": "x", "ce-type": "nobody.knows", "ce-source": "nowhere"])
        #expect(unknown.status == 400)
        #expect(try bed.node.spool.statistics().events == 0, "nothing of a refused request is spooled")
        await bed.shutdown()
    }
}

struct TestbedReplyRecord: Sendable {
    var status: Int
    var retryAfter: String?
}

@Suite("Edge drain rate", .serialized)
struct DrainRateTests {
    @Test func drainRateCapsForwarding() async throws {
        let total = 2000
        let rate = 1000.0
        let bed = try await EdgeTestbed(rate: rate)
        defer { Task { await bed.shutdown() } }
        let events = GatewayTraffic.events(total, seed: 5)
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: total, by: 500) {
            let reply = try await bed.post(GatewayTraffic.batch(events[chunk..<(chunk + 500)].map { GatewayTraffic.structured($0) }),
                                           contentType: "application/cloudevents-batch+json")
            #expect(reply.status == 202)
        }
        #expect(try await eventually(timeout: .seconds(30)) { (try bed.node.spool.statistics()).events == 0 })
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        print("edge drain at drain.rate \(Int(rate))/s: \(total) events forwarded in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) events/s")
        // The bucket holds 1/20 s of tokens: 2,000 events at 1,000/s take at least 1.9 s.
        #expect(seconds >= 1.9, "forwarding respects drain.rate")
        let stats = try bed.node.spool.statistics()
        #expect(stats.lanes.reduce(0) { $0 + $1.forwarded } == Int64(total))
        await bed.shutdown()
    }
}

@Suite("Edge downsampling", .serialized)
struct DownsamplingTests {
    @Test func oneReadingPerAssetAndIntervalLeavesThePlantAndTheRestAreCounted() async throws {
        let bed = try await EdgeTestbed(downsampleMs: ["telemetry": 3_600_000])
        defer { Task { await bed.shutdown() } }
        let events = GatewayTraffic.events(2000, seed: 41)
        let telemetry = events.filter { $0.topic == "plant.telemetry.readings" }
        let business = events.filter { $0.topic != "plant.telemetry.readings" }
        let assets = Set(telemetry.compactMap(\.key))
        #expect(telemetry.count > 10 * assets.count, "many readings per asset")
        var downsampledReplies = 0
        for chunk in stride(from: 0, to: events.count, by: 250) {
            let reply = try await bed.post(GatewayTraffic.batch(events[chunk..<min(chunk + 250, events.count)].map { GatewayTraffic.structured($0) }),
                                           contentType: "application/cloudevents-batch+json")
            #expect(reply.status == 202, "\(reply.body)")
            let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
            downsampledReplies += object?["downsampled"] as? Int ?? 0
        }
        let expected = business.count + assets.count
        let records = try await bed.consumeAll(EdgeTestbed.sourceAndDeadLetterTopics.filter { !$0.hasPrefix("dlq.") }) { $0.count >= expected }
        #expect(records.count == expected, "every business event and one reading per asset: \(records.count) records, \(expected) expected")
        let forwardedReadings = records.filter { $0.topic == "plant.telemetry.readings" }
        #expect(Set(forwardedReadings.map(\.keyText)) == Set(assets.map { String(decoding: $0, as: UTF8.self) }))
        let firstPerAsset = Dictionary(telemetry.map { ($0.key ?? [], GatewayTraffic.header($0, "ce_id")) }, uniquingKeysWith: { first, _ in first })
        #expect(Set(forwardedReadings.compactMap(\.eventID)) == Set(firstPerAsset.values), "the first reading of each asset, unchanged")
        let dropped = telemetry.count - assets.count
        #expect(downsampledReplies == dropped)
        #expect(try bed.node.spool.statistics().lane("telemetry")?.downsampled == Int64(dropped))
        let metrics = try await bed.get("/metrics")
        #expect(metrics.body.contains("plantrouter_edge_downsampled_total{lane=\"telemetry\"} \(dropped)"))
        await bed.shutdown()
    }
}

@Suite("Edge concurrent gateways", .serialized)
struct ConcurrentGatewayTests {
    @Test func fourGatewaysAtOnceWhileForwardingEveryEventOnce() async throws {
        let total = 8000
        let bed = try await EdgeTestbed(rate: 50_000)
        defer { Task { await bed.shutdown() } }
        let events = GatewayTraffic.events(total, seed: 31)
        let start = ContinuousClock.now
        let replies = try await bed.postFromGateways(events)
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        print("edge ingest, 4 concurrent gateways: \(total) events in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) events/s to the durable spool while forwarding (debug build)")
        #expect(replies.allSatisfy { $0.status == 202 })
        #expect(try await eventually(timeout: .seconds(60)) { (try bed.node.spool.statistics()).events == 0 })
        let records = try await bed.consumeAll(EdgeTestbed.sourceAndDeadLetterTopics.filter { !$0.hasPrefix("dlq.") }) { $0.count >= total }
        let ids = records.compactMap(\.eventID)
        #expect(records.count == total && Set(ids).count == total, "exactly once with concurrent appends and claims: \(records.count) records, \(Set(ids).count) ids")
        await bed.shutdown()
    }
}
