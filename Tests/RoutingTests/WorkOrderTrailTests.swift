import Foundation
import Kafka
import Ledger
import PlantSimulation
import Policy
import Routing
import TestProcesses
import Testing

/// A work order's trail holds every event that names it, at any size.
@Suite("Work-order trail, end to end", .serialized)
struct WorkOrderTrailTests {
    /// The MES posts it, but without a quantity: schema dead letter.
    func invalidConfirmation(_ testbed: Testbed, id: String, workOrder: String) -> RawEvent {
        var event = testbed.confirmation(id: id, workOrder: workOrder)
        event.value = Array(#"{"workOrderId":"\#(workOrder)","line":"L1","product":"SKU-4711-500ML","unit":"EA"}"#.utf8)
        return event
    }

    func inspection(_ testbed: Testbed, id: String, workOrder: String, asset: String) -> RawEvent {
        let body = #"{"asset":"\#(asset)","line":"PK2","workOrderId":"\#(workOrder)","characteristic":"seal","measured":0.4,"result":"fail"}"#
        return RawEvent(topic: PlantSimulator.qualityTopic, key: Array(asset.utf8), value: Array(body.utf8), headers: [
            EventHeader("ce_specversion", "1.0"), EventHeader("ce_id", id), EventHeader("ce_source", testbed.simulator.plant.labSource),
            EventHeader("ce_type", "quality.inspection.completed"), EventHeader("ce_time", RFC3339.format(1_772_352_000_000)),
            EventHeader("content-type", "application/json"),
        ])
    }

    /// Runs `plantrouter trace ARGS`; returns its stdout lines, the time to the first line
    /// and to the end, and its peak resident memory (VmHWM, sampled while it streams).
    static func runTrace(_ arguments: [String]) throws -> (lines: [Substring], first: Duration?, total: Duration, peakKB: Int) {
        let binary = try #require(BuiltPrograms.plantrouter, "build plantrouter first (swift build)")
        let pipe = Pipe()
        let clock = ContinuousClock()
        let start = clock.now
        let process = try ChildProcess(binary, arguments: ["trace"] + arguments, standardOutput: .pipe(pipe), standardError: .file(.standardError))
        var output: [UInt8] = []
        var first: Duration?
        var peakKB = 0
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if first == nil, chunk.contains(UInt8(ascii: "\n")) { first = clock.now - start }
            // VmHWM is the peak so far; the child blocks on the full pipe between reads.
            if let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peakKB = max(peakKB, kb)
            }
            if chunk.isEmpty { break }
            output += chunk
        }
        let ended = process.waitUntilExit()
        let total = clock.now - start
        #expect(ended == .exited(0), "plantrouter trace \(arguments): \(ended)")
        return (String(decoding: output, as: UTF8.self).split(separator: "\n"), first, total, peakKB)
    }

    @Test("slowdown, confirmations, a quality result and a dead-lettered confirmation: one trail, in order, every output")
    func trailHoldsEveryEventOfTheOrder() async throws {
        let testbed = try Testbed()
        try await testbed.publishWorkOrders()
        let order = try #require(testbed.simulator.plant.workOrder(for: PlantModel.slowdownAssetID))
        let scenario = testbed.simulator.slowdownScenario()
        let confirmations = (1...3).map { testbed.confirmation(id: "conf-\($0)", workOrder: order.id) }
        let others = [
            invalidConfirmation(testbed, id: "conf-bad", workOrder: order.id),
            inspection(testbed, id: "insp-1", workOrder: order.id, asset: order.asset),
            testbed.confirmation(id: "conf-other-order", workOrder: "WO-SOMEONE-ELSE"),
        ]
        let configuration = testbed.configuration()
        let ledger = try Ledger(path: configuration.database)
        func trail() throws -> [AuditRecord] { try ledger.trail(for: order.id) }
        try await testbed.withRouter(configuration) { _ in
            try await testbed.publish(scenario + confirmations + others)
            let complete = await eventually(timeout: .seconds(60)) {
                guard let records = try? trail() else { return false }
                return records.count == 6 && records.allSatisfy { $0.outputs.allSatisfy(\.isDelivered) }
            }
            #expect(complete, "trail of \(order.id): \((try? trail())?.map(\.eventID) ?? [])")
        }

        let records = try trail()
        let byEvent = Dictionary(records.map { ($0.eventID, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(records.map(\.eventID)).isSuperset(of: ["conf-1", "conf-2", "conf-3", "conf-bad", "insp-1"]))
        #expect(records.allSatisfy { $0.correlationID == order.id })
        #expect(!records.contains { $0.eventID == "conf-other-order" })
        // In order: by the time each decision was recorded, then source offset.
        #expect(zip(records, records.dropFirst()).allSatisfy { $0.recordedAt <= $1.recordedAt })
        // Every output with its topic, partition, offset and idempotency key.
        let slowdown = try #require(records.first { $0.ruleID == "packaging-line-slowdown" })
        #expect(Set(slowdown.outputs.map(\.topic)) == ["erp.production.exceptions", "qms.inspection.requests", "maintenance.work.requests", "tms.shipment.replans"])
        for id in ["conf-1", "conf-2", "conf-3"] {
            #expect(byEvent[id]?.outputs.map(\.topic) == ["erp.production.confirmations", "erp.inventory.movements"], "\(id)")
        }
        #expect(byEvent["conf-bad"]?.outcome == .deadLetter)
        #expect(byEvent["conf-bad"]?.outputs.map(\.topic) == ["dlq.production"])
        #expect(byEvent["insp-1"]?.outputs.map(\.topic) == ["qms.inspection.requests"])
        #expect(records.flatMap(\.outputs).allSatisfy { $0.partition != nil && $0.offset != nil && !$0.idempotencyKey.isEmpty })

        // The CLI prints the same trail, one JSON line per decision.
        let cli = try Self.runTrace([order.id, "--json", "--database", configuration.database])
        let printed = try cli.lines.map { line in try JSONDecoder().decode(EventIDOnly.self, from: Data(line.utf8)).eventID }
        #expect(printed == records.map(\.eventID))
        let filtered = try Self.runTrace([order.id, "--json", "--outcome", "deadLetter", "--database", configuration.database])
        #expect(filtered.lines.count == 1 && filtered.lines.first?.contains("conf-bad") == true)
        withExtendedLifetime(testbed) {}
    }

    struct EventIDOnly: Decodable { var eventID: String }

    /// 50,000 confirmations of one order (written straight to the ledger): `trace --json`
    /// prints its first line in under a second and its memory does not grow with the trail.
    @Test("50,000 decisions: first JSON line fast, flat memory")
    func fiftyThousandDecisionsStream() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("trail-50k-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("ledger.sqlite").path
        let ledger = try Ledger(path: path)
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        func confirmations(_ order: String, _ range: Range<Int>) -> [AuditRecord] {
            range.map { n in
                AuditRecord(
                    eventID: "\(order)-conf-\(n)", lane: "production", sourceTopic: "plant.production.confirmations",
                    sourcePartition: Int32(n % 6), sourceOffset: Int64(n), eventType: "production.confirmation.posted",
                    eventSource: "plant/hamburg/mes", correlationID: order, ruleID: "confirmations-to-erp", policyVersion: "2026.03.1",
                    outcome: .workflow, recordedAt: start.addingTimeInterval(Double(n) / 50),
                    outputs: [
                        AuditOutput(topic: "erp.production.confirmations", partition: Int32(n % 6), offset: Int64(n), idempotencyKey: String(format: "%032x", n)),
                        AuditOutput(topic: "erp.inventory.movements", partition: Int32(n % 6), offset: Int64(n), idempotencyKey: String(format: "%032x", n + 1_000_000)),
                    ])
            }
        }
        for batch in stride(from: 0, to: 50_000, by: 5_000) { try ledger.append(confirmations("WO-BIG", batch..<(batch + 5_000))) }
        try ledger.append(confirmations("WO-SMALL", 0..<1_000))

        let small = try Self.runTrace(["WO-SMALL", "--json", "--database", path])
        let big = try Self.runTrace(["WO-BIG", "--json", "--database", path])
        let limited = try Self.runTrace(["WO-BIG", "--json", "--limit", "10", "--database", path])
        print("""
            trace --json of 50,000 decisions: first line after \(big.first ?? .zero), all \(big.lines.count) lines after \(big.total), \
            peak RSS \(big.peakKB) kB (1,000 decisions: \(small.peakKB) kB, all after \(small.total))
            """)
        #expect(big.lines.count == 50_000 && small.lines.count == 1_000 && limited.lines.count == 10)
        #expect(try #require(big.first) < .seconds(1))
        // Flat: fifty times the trail, at most a few MB more memory (SQLite's page cache).
        #expect(big.peakKB > 0 && big.peakKB < small.peakKB + 16 * 1024, "peak \(big.peakKB) kB vs \(small.peakKB) kB")
        let firstLine = try JSONSerialization.jsonObject(with: Data((big.lines.first ?? "").utf8)) as? [String: Any]
        let outputs = firstLine?["outputs"] as? [[String: Any]]
        #expect(outputs?.first?.keys.sorted() == ["idempotencyKey", "offset", "partition", "topic"])
    }
}
