@testable import Edge
import Foundation
import GRDB
import Kafka
import Synchronization
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
        func decode(_ bytes: [UInt8]) -> [KafkaHeader]? { bytes.withUnsafeBytes { HeaderCoding.decode($0) } }
        let blob = HeaderCoding.encodeBytes(headers)
        #expect(decode(blob) == headers)
        #expect(decode(Array(blob.dropLast())) == nil)
        #expect(decode([0xFF, 0xFF, 0xFF, 0x7F]) == nil)
        #expect(decode([]) == nil && decode([0, 0, 0, 0]) == [])
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
        #expect(throws: EdgeConfigurationError.self) { try EdgeConfiguration.parse("cluster: { bootstrapServers: k }\nquota: { business: 9223372036854775807 }", folder: folder) }
    }

    @Test func downsamplingTakesSheddableLanesAndBoundedIntervalsOnly() throws {
        let folder = URL(fileURLWithPath: "/etc/plantrouter")
        let parsed = try EdgeConfiguration.parse("cluster: { bootstrapServers: k }\ndownsample: { telemetry: 10s }", folder: folder)
        #expect(parsed.downsampleMs == ["telemetry": 10_000])
        for bad in ["{ production: 1s }", "{ telemetry: 0s }", "{ telemetry: 99999999999999999d }", "{ telemetry: 25h }", "{ telemetry: soon }", "[telemetry]"] {
            #expect(throws: EdgeConfigurationError.self, "\(bad)") {
                try EdgeConfiguration.parse("cluster: { bootstrapServers: k }\ndownsample: \(bad)", folder: folder)
            }
        }
    }

    @Test func downsamplingKeepsOnePerKeyAndIntervalAndOnlyOnceDurable() {
        func reading(_ key: String?, lane: String = "telemetry", rejected: Bool = false) -> Spool.Incoming {
            Spool.Incoming(priority: .telemetry, lane: lane, topic: "t", key: key.map { Array($0.utf8) }, value: [], headers: [],
                           eventID: UUID().uuidString, rejected: rejected)
        }
        let sampler = Downsampler(intervals: ["telemetry": 1000])
        let first = sampler.plan([reading("a"), reading("a"), reading("b"), reading(nil), reading(nil), reading("a", rejected: true),
                                  reading("a", lane: "orders")], nowMs: 10_000)
        #expect(first.kept.count == 6, "a, b, both without a key, the dead letter and the other lane")
        #expect(first.dropped == ["telemetry": 1])
        // Not durable (a 503, say): the retry is judged afresh and keeps a again.
        #expect(sampler.plan([reading("a")], nowMs: 10_100).kept.count == 1)
        sampler.commit(first, nowMs: 10_000)
        #expect(sampler.plan([reading("a"), reading("b")], nowMs: 10_999).kept.isEmpty)
        #expect(sampler.plan([reading("a"), reading("b")], nowMs: 11_000).kept.count == 2, "the interval is over")
        #expect(sampler.plan([reading("a")], nowMs: 9_000).kept.count == 1, "a clock that went back opens a new interval")
    }
}

@Suite("Edge spool")
struct SpoolTests {
    static func incoming(_ priority: PriorityClass, _ lane: String, _ id: String) -> Spool.Incoming {
        Spool.Incoming(priority: priority, lane: lane, topic: "t.\(lane)", key: Array("k".utf8), value: Array("{}".utf8),
                       headers: [KafkaHeader(name: "ce_id", string: id)], eventID: id, rejected: false)
    }

    @Test func claimsOldestBusinessFirstWithAShareForTelemetryAndAcknowledgesOnce() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let spool = try Spool(path: path, quota: [.business: 1 << 20, .telemetry: 1 << 20])
        // Telemetry arrives first, business after it.
        _ = try await spool.append((0..<10).map { Self.incoming(.telemetry, "telemetry", "t\($0)") }, nowMs: 1)
        _ = try await spool.append((0..<10).map { Self.incoming(.business, "production", "b\($0)") }, nowMs: 2)
        let ids = Dictionary(uniqueKeysWithValues: try spool.peek(limit: 100).map { ($0.position, $0.eventID) })
        let first = try spool.claim(limit: 5)
        #expect(first.map { ids[$0.position] } == ["b0", "b1", "b2", "b3", "t0"], "business first, oldest first, telemetry keeps a share")
        #expect(first.allSatisfy { $0.headers == [KafkaHeader(name: "ce_id", string: ids[$0.position] ?? "")] && $0.key == Array("k".utf8) })
        let second = try spool.claim(limit: 5)
        #expect(second.map { ids[$0.position] } == ["b4", "b5", "b6", "b7", "t1"])
        #expect(try spool.acknowledge(first.map(\.delivered)) == 5)
        #expect(try spool.acknowledge(first.map(\.delivered)) == 0, "an acknowledged event is counted once")
        // After a failure the forwarder starts again from the oldest still spooled.
        spool.resetClaims()
        #expect(try spool.claim(limit: 2).map { ids[$0.position] } == ["b4", "t1"])
        let stats = try spool.statistics()
        #expect(stats.lane("production")?.forwarded == 4 && stats.lane("telemetry")?.forwarded == 1)
        #expect(stats.events == 15)
        let readOnly = try Spool.readStatistics(path: path, quota: [.business: 1 << 20, .telemetry: 1 << 20])
        #expect(readOnly.events == 15 && readOnly.lane("production")?.events == 6)
        #expect(stats == readOnly, "the in-memory depth agrees with a scan of the file")
        let reopened = try Spool(path: path, quota: [.business: 1 << 20, .telemetry: 1 << 20])
        #expect(try reopened.statistics() == readOnly, "and is rebuilt from the file on open")
        #expect(try reopened.claim(limit: 100).count == 15, "a restart hands out only what was not delivered, also from rows partly delivered")
    }

    @Test func telemetryClaimsStopAtTheirByteBudgetAndAcknowledgementsAreExact() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let quota: [PriorityClass: Int64] = [.business: 1 << 20, .telemetry: 1 << 20]
        let spool = try Spool(path: path, quota: quota)
        _ = try await spool.append((0..<10).map { Self.incoming(.telemetry, "telemetry", "t\($0)") }, nowMs: 1)
        let size = SpoolEntry.size(key: Array("k".utf8), value: Array("{}".utf8), headers: [KafkaHeader(name: "ce_id", string: "t0")])
        let ids = Dictionary(uniqueKeysWithValues: try spool.peek(limit: 100).map { ($0.position, $0.eventID) })
        let three = try spool.claim(limit: 10, telemetryBytes: size * 3 + size / 2, telemetryIdle: false)
        #expect(three.map { ids[$0.position] } == ["t0", "t1", "t2"] && three.allSatisfy { $0.bytes == size })
        #expect(try spool.claim(limit: 10, telemetryBytes: 0, telemetryIdle: false).isEmpty, "no budget left: telemetry waits")
        #expect(spool.mayHaveUnclaimed, "and is still there to claim")
        #expect(try spool.claim(limit: 10, telemetryBytes: 0, telemetryIdle: true).map { ids[$0.position] } == ["t3"],
                "with nothing in flight one event goes even past the budget")
        _ = try await spool.append((0..<2).map { Self.incoming(.business, "orders", "b\($0)") }, nowMs: 2)
        let business = try spool.claim(limit: 10, telemetryBytes: 0, telemetryIdle: false)
        #expect(business.count == 2 && business.allSatisfy { $0.priority == .business }, "business takes the whole claim while telemetry waits")
        // Delivered out of order and with gaps: t2, t0, b1 and t3 (the event after t2 in its row).
        let t3 = SpoolPosition(row: three[2].position.row, index: three[2].position.index + 1)
        let delivered = [three[2], three[0], business[1]].map(\.delivered) + [DeliveredEvent(position: t3, priority: .telemetry, lane: "telemetry", bytes: size)]
        #expect(try spool.acknowledge(delivered) == 4)
        let stats = try spool.statistics()
        #expect(stats.lane("telemetry")?.events == 7 && stats.lane("telemetry")?.forwarded == 3)
        #expect(stats.lane("orders")?.events == 1 && stats.lane("orders")?.forwarded == 1)
        #expect(stats == (try Spool.readStatistics(path: path, quota: quota)), "in-memory depth and bytes agree with the file")
        // Mixed: one already deleted, one not: only the second counts, usage stays exact.
        #expect(try spool.acknowledge([three[0].delivered, three[1].delivered]) == 1)
        #expect(try spool.statistics() == (try Spool.readStatistics(path: path, quota: quota)))
    }

    @Test func businessQuotaRefusesWholeRequestAndTelemetryShedsOldestUnclaimed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let size = SpoolEntry.size(key: Array("k".utf8), value: Array("{}".utf8), headers: [KafkaHeader(name: "ce_id", string: "t0")])
        let spool = try Spool(path: path, quota: [.business: size * 3, .telemetry: size * 3])
        #expect(try await spool.append((0..<3).map { Self.incoming(.business, "orders", "b\($0)") }, nowMs: 1) == .spooled(shed: 0))
        #expect(try await spool.append([Self.incoming(.business, "orders", "b9")], nowMs: 1) == .full(.business))
        _ = try await spool.append((0..<3).map { Self.incoming(.telemetry, "telemetry", "t\($0)") }, nowMs: 1)
        // t0 is in flight (claimed): the oldest *unclaimed* telemetry, t1, goes.
        _ = try spool.claim(limit: 4)
        #expect(try await spool.append([Self.incoming(.telemetry, "telemetry", "t3")], nowMs: 2) == .spooled(shed: 1))
        let stats = try spool.statistics()
        #expect(stats.lane("telemetry")?.shed == 1 && stats.lane("telemetry")?.events == 3)
        #expect(stats.lane("orders")?.events == 3 && stats.lane("orders")?.shed == 0)
        #expect(stats == (try Spool.readStatistics(path: path, quota: [.business: size * 3, .telemetry: size * 3])), "in-memory depth agrees with the file")
    }
}

extension SpoolTests {
    /// Claims read a snapshot beside the writer: an append that sheds must never shed what a
    /// concurrent claim hands out, and every event ends up forwarded or shed, exactly once.
    @Test func claimsBesideSheddingAppendsNeverHandOutAShedEvent() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let size = SpoolEntry.size(key: Array("k".utf8), value: Array("{}".utf8), headers: [KafkaHeader(name: "ce_id", string: "t0")])
        let quota: [PriorityClass: Int64] = [.business: 1 << 20, .telemetry: size * 40]
        let spool = try Spool(path: path, quota: quota, synchronousFull: false)
        let requests = 150, perRequest = 10
        final class Finished: Sendable { let value = Mutex(false) }
        let appendsFinished = Finished()
        let appending = Task {
            defer { appendsFinished.value.withLock { $0 = true } }
            var shed = 0
            for request in 0..<requests {
                let items = (0..<perRequest).map { Self.incoming(.telemetry, "telemetry", "t\(request)-\($0)") }
                if case .spooled(let dropped) = try await spool.append(items, nowMs: Int64(request)) { shed += dropped }
            }
            return shed
        }
        // The forwarder's part on a thread of its own: claim, hold the claim a round, acknowledge.
        let forwarded = try await withCheckedThrowingContinuation { (done: CheckedContinuation<(claimed: Int, acknowledged: Int), any Error>) in
            Thread {
                do {
                    var held: [ClaimedEvent] = []
                    var claimed = 0, acknowledged = 0, emptyAfterAppends = 0
                    while emptyAfterAppends < 3 {
                        let finished = appendsFinished.value.withLock { $0 }
                        // Claims only near a full quota, so that appends shed beside them however
                        // fast either side runs on a loaded machine.
                        if !finished, try spool.statistics().classBytes["telemetry", default: 0] < size * 36 {
                            Thread.sleep(forTimeInterval: 0.0005)
                            continue
                        }
                        let batch = try spool.claim(limit: 7)
                        claimed += batch.count
                        acknowledged += try spool.acknowledge(held.map(\.delivered))
                        held = batch
                        if batch.isEmpty {
                            if finished { emptyAfterAppends += 1 }
                            Thread.sleep(forTimeInterval: 0.002)
                        }
                    }
                    acknowledged += try spool.acknowledge(held.map(\.delivered))
                    done.resume(returning: (claimed, acknowledged))
                } catch {
                    done.resume(throwing: error)
                }
            }.start()
        }
        let shed = try await appending.value
        #expect(forwarded.acknowledged == forwarded.claimed, "every claimed event was still there to acknowledge: none of them was shed")
        #expect(shed > 0, "the quota made appends shed")
        let stats = try spool.statistics()
        #expect(stats.events == 0 && stats.lane("telemetry")?.shed == Int64(shed) && stats.lane("telemetry")?.forwarded == Int64(forwarded.claimed))
        #expect(forwarded.claimed + shed == requests * perRequest, "each event forwarded or shed, once")
        #expect(stats == (try Spool.readStatistics(path: path, quota: quota)))
    }

    @Test func aFileWithARowPerEventOpensWithItsEventsInOrder() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        // The layout edges wrote before a row held a whole request.
        let old = try DatabaseQueue(path: path)
        try await old.write { db in
            try db.execute(sql: """
                CREATE TABLE spool(seq INTEGER PRIMARY KEY AUTOINCREMENT, class INTEGER NOT NULL, lane TEXT NOT NULL, topic TEXT NOT NULL,
                  key BLOB, value BLOB NOT NULL, headers BLOB NOT NULL, event_id TEXT NOT NULL, arrived_ms INTEGER NOT NULL, bytes INTEGER NOT NULL);
                CREATE TABLE counters(kind TEXT NOT NULL, lane TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY(kind, lane));
                INSERT INTO counters VALUES ('forwarded', 'orders', 7);
                """)
            for (index, (code, lane)) in [(1, "telemetry"), (0, "orders"), (1, "telemetry"), (0, "orders")].enumerated() {
                let headers = [KafkaHeader(name: "ce_id", string: "e\(index)")]
                try db.execute(
                    sql: "INSERT INTO spool(class, lane, topic, key, value, headers, event_id, arrived_ms, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [code, lane, "t.\(lane)", index == 1 ? nil : Data("k".utf8), Data("{}".utf8), Data(HeaderCoding.encodeBytes(headers)), "e\(index)", 100 + index,
                                SpoolEntry.size(key: index == 1 ? nil : Array("k".utf8), value: Array("{}".utf8), headers: headers)])
            }
        }
        try await old.close()
        let quota: [PriorityClass: Int64] = [.business: 1 << 20, .telemetry: 1 << 20]
        let before = try Spool.readStatistics(path: path, quota: quota)
        #expect(before.events == 4 && before.lane("orders")?.forwarded == 7, "edge status reads a file of the old layout too")
        let spool = try Spool(path: path, quota: quota)
        #expect(try spool.peek(limit: 10).map(\.eventID) == ["e0", "e1", "e2", "e3"])
        let claimed = try spool.claim(limit: 10)
        #expect(claimed.map { $0.headers.first?.stringValue } == ["e1", "e3", "e0", "e2"], "business first, each class in arrival order")
        #expect(claimed.first?.key == nil && claimed.last?.key == Array("k".utf8) && claimed.first?.arrivedMs == 101)
        #expect(try spool.statistics() == before, "same depth, bytes, age and counters")
        #expect(try spool.acknowledge(claimed.map(\.delivered)) == 4)
        #expect(try spool.statistics().events == 0)
    }

    /// Another connection holding the file's lock for a moment (a reader recovering the WAL after
    /// a crash, `edge status`) delays opening the spool; it does not fail the edge's start.
    @Test func aSpoolOpensWhileAnotherConnectionBrieflyHoldsTheLock() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let quota: [PriorityClass: Int64] = [.business: 1 << 20, .telemetry: 1 << 20]
        _ = try Spool(path: path, quota: quota)  // the file and its tables
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the lock outlives one database access on purpose
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try holder.inDatabase { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        // Released from a thread of its own: opening the spool blocks this one, and on 2 cores
        // with other suites running no task of the cooperative pool may get to run meanwhile.
        let released = DispatchSemaphore(value: 0)
        Thread {
            Thread.sleep(forTimeInterval: 0.5)
            try? holder.inDatabase { db in try db.execute(sql: "ROLLBACK") }
            released.signal()
        }.start()
        let started = ContinuousClock.now
        let spool = try Spool(path: path, quota: quota)
        released.wait()
        #expect(ContinuousClock.now - started >= .milliseconds(400), "opening waited for the lock")
        #expect(try spool.statistics().events == 0)
    }
}

@Suite("Edge alert rules")
struct EdgeAlertRuleTests {
    @Test func alertRulesReferenceOnlyExportedEdgeMetrics() throws {
        let file = topicsFolder.deletingLastPathComponent().appendingPathComponent("Deploy/prometheus/edge/plantrouter-edge-alerts.rules.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        let referenced = Set(text.matches(of: /plantrouter_edge_[a-z_]+/).map { String($0.output) })
        let exported = Set(EdgeMetrics.help.map(\.name))
        #expect(referenced.isSubset(of: exported), "not exported: \(referenced.subtracting(exported).sorted())")
        for required in ["plantrouter_edge_link_up", "plantrouter_edge_class_bytes", "plantrouter_edge_quota_bytes"] {
            #expect(referenced.contains(required), "no alert uses \(required)")
        }
        let runbooks = try String(contentsOf: topicsFolder.deletingLastPathComponent().appendingPathComponent("Docs/Runbooks.md"), encoding: .utf8)
        for anchor in text.matches(of: /Runbooks\.md#([a-z]+)/).map({ String($0.output.1) }) {
            #expect(runbooks.lowercased().contains("## \(anchor)"), "runbook section for \(anchor)")
        }
    }
}
