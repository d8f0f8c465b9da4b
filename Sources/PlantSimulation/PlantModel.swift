import Policy

/// The simulated plant: lines, their assets and one running work order per asset.
public struct PlantModel: Sendable {
    public struct Asset: Sendable {
        public var id: String
        public var line: String
        public var gatewaySource: String
        public var visionSource: String
    }

    public var site: String
    public var assets: [Asset]
    public var workOrders: [WorkOrder]

    /// The packaging-line asset whose throughput drops in the slowdown scenario.
    public var slowdownAsset: Asset { assets.first { $0.id == PlantModel.slowdownAssetID } ?? assets[0] }
    public static let slowdownAssetID = "PK2-WRAP"

    public var mesSource: String { "plant/\(site)/mes" }
    public var labSource: String { "plant/\(site)/lab" }
    public var workOrderSource: String { "mes/\(site)" }

    /// `lines` lines with `assetsPerLine` assets each; line 2's last asset is the packaging wrapper.
    public init(site: String = "hamburg", lines: Int = 3, assetsPerLine: Int = 4, seed: UInt64 = 42) {
        var rng = SplitMix64(seed: seed ^ 0xA55E7)
        self.site = site
        let kinds = ["FILL", "CAP", "LABEL", "WRAP", "PAL", "MIX"]
        var assets: [Asset] = []
        var orders: [WorkOrder] = []
        let products = ["SKU-4711-500ML", "SKU-0815-1L", "SKU-1234-330ML", "SKU-2024-6PK"]
        for line in 1...max(1, lines) {
            let lineID = line == 2 ? "PK2" : "L\(line)"
            for a in 0..<max(1, assetsPerLine) {
                let kind = line == 2 && a == assetsPerLine - 1 ? "WRAP" : kinds[a % kinds.count]
                let id = lineID == "PK2" && kind == "WRAP" ? Self.slowdownAssetID : "\(lineID)-\(kind)\(a + 1)"
                assets.append(Asset(id: id, line: lineID, gatewaySource: "plant/\(site)/gateway/\(lineID.lowercased())",
                                    visionSource: "plant/\(site)/vision/\(lineID.lowercased())"))
                let number = 1000 + assets.count
                orders.append(WorkOrder(id: "WO-\(number)", asset: id, line: lineID, product: products[Int(rng.next() % UInt64(products.count))],
                                        requiredRatePerMinute: Double(60 + Int(rng.next() % 90)), status: "running",
                                        shipmentID: "SHP-\(77000 + number)", dueTime: "2026-03-02T06:00:00.000Z"))
            }
        }
        if !assets.contains(where: { $0.id == Self.slowdownAssetID }) {
            assets[assets.count - 1].id = Self.slowdownAssetID
            let last = orders.removeLast()
            orders.append(WorkOrder(id: last.id, asset: Self.slowdownAssetID, line: last.line, product: last.product,
                                    requiredRatePerMinute: last.requiredRatePerMinute, status: last.status,
                                    shipmentID: last.shipmentID, dueTime: last.dueTime))
        }
        self.assets = assets
        self.workOrders = orders
    }

    public func workOrder(for asset: String) -> WorkOrder? { workOrders.first { $0.asset == asset } }
}
