/// Per topic, the result of the work that depends only on (event type, source): the contract
/// entry, the authority verdict and the candidate rules in order.
struct Resolution {
    /// Index into the topic's events; nil when the type is not in the topic's contract.
    let eventIndex: Int?
    let authorised: Bool
    let candidates: [Int]
}

/// A small open-addressing table keyed by the raw bytes of (type, source).
/// Hand-written because `Dictionary` needs an owned key (an allocation per lookup), while this
/// hashes and compares the header bytes in place. Bounded: cleared when half full, so hostile
/// sources cannot grow it without limit.
struct ResolutionCache {
    private struct Entry {
        var type: [UInt8]
        var source: [UInt8]
        var resolution: Resolution
    }

    private static let capacity = 1024
    /// 0 marks an empty slot (stored hashes always have the low bit set).
    private var hashes = [UInt64](repeating: 0, count: capacity)
    private var entries = [Entry?](repeating: nil, count: capacity)
    private var used = 0

    @inline(__always) static func hash(_ type: UnsafeBufferPointer<UInt8>, _ source: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in type { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h = (h ^ 0xFF) &* 0x100000001b3
        for b in source { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h | 1
    }

    func find(_ hash: UInt64, _ type: UnsafeBufferPointer<UInt8>, _ source: UnsafeBufferPointer<UInt8>) -> Resolution? {
        var i = Int(truncatingIfNeeded: hash >> 7) & (Self.capacity - 1)
        while hashes[i] != 0 {
            if hashes[i] == hash, let entry = entries[i], entry.type.elementsEqual(type), entry.source.elementsEqual(source) { return entry.resolution }
            i = (i + 1) & (Self.capacity - 1)
        }
        return nil
    }

    mutating func insert(_ hash: UInt64, _ type: UnsafeBufferPointer<UInt8>, _ source: UnsafeBufferPointer<UInt8>, _ resolution: Resolution) {
        if used * 2 >= Self.capacity {
            hashes = [UInt64](repeating: 0, count: Self.capacity)
            entries = [Entry?](repeating: nil, count: Self.capacity)
            used = 0
        }
        var i = Int(truncatingIfNeeded: hash >> 7) & (Self.capacity - 1)
        while hashes[i] != 0 { i = (i + 1) & (Self.capacity - 1) }
        hashes[i] = hash
        entries[i] = Entry(type: Array(type), source: Array(source), resolution: resolution)
        used += 1
    }
}
