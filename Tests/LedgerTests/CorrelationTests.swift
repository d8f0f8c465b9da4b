import Testing
@testable import Ledger

@Suite struct CorrelationTests {
    let topic = "mes.work-orders"

    func order(_ id: String, asset: String, status: String = "running", partition: Int32 = 0, offset: Int64)
        -> WorkOrderRow
    {
        WorkOrderRow(
            id: id, asset: asset, line: "line-2", status: status,
            payload: #"{"id":"\#(id)","asset":"\#(asset)","targetRate":120}"#,
            sourcePartition: partition, sourceOffset: offset
        )
    }

    @Test func upsertsTombstonesAndPositionsSurviveAReopen() throws {
        let folder = try TestFolder()
        do {
            let ledger = try folder.openLedger()
            try ledger.apply([
                .upsert(order("WO-1", asset: "filler-3", offset: 0)),
                .upsert(order("WO-2", asset: "capper-1", partition: 1, offset: 0)),
                .upsert(order("WO-3", asset: "labeler-4", offset: 1)),
            ], from: topic)
            try ledger.upsertWorkOrder(order("WO-1", asset: "filler-3", status: "held", offset: 2), from: topic)
            try ledger.removeWorkOrder(id: "WO-3", from: topic, partition: 0, offset: 3)
        }
        let ledger = try folder.openLedger()
        #expect(try ledger.activeWorkOrders().map(\.id) == ["WO-2", "WO-1"])  // by asset
        #expect(try ledger.workOrder(id: "WO-1")?.status == "held")
        #expect(try ledger.workOrder(id: "WO-1")?.sourceOffset == 2)
        #expect(try ledger.workOrder(id: "WO-3") == nil)
        #expect(try ledger.correlationPosition(topic: topic) == [0: 4, 1: 1])
        #expect(try ledger.correlationPosition(topic: "other.topic").isEmpty)
    }

    @Test func positionCanBeSetExplicitly() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        try ledger.setCorrelationPosition(topic: topic, partition: 5, nextOffset: 1000)
        try ledger.setCorrelationPosition(topic: topic, partition: 5, nextOffset: 0)
        #expect(try ledger.correlationPosition(topic: topic) == [5: 0])
    }

    @Test func aPayloadThatIsNotJSONIsRefusedAndNothingOfTheBatchApplies() throws {
        let folder = try TestFolder()
        let ledger = try folder.openLedger()
        var broken = order("WO-9", asset: "filler-1", offset: 1)
        broken.payload = "{not json"
        let error = #expect(throws: LedgerError.self) {
            try ledger.apply([.upsert(order("WO-8", asset: "filler-1", offset: 0)), .upsert(broken)], from: topic)
        }
        #expect(error?.description.contains("work_order_payload_is_json") == true)
        #expect(error?.description.contains(folder.ledgerPath) == true)
        #expect(try ledger.activeWorkOrders().isEmpty)
        #expect(try ledger.correlationPosition(topic: topic).isEmpty)
    }
}
