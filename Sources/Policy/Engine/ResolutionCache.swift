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
/// hashes and compares the header bytes in place. Bounded: cleared when full, so hostile
/// sources cannot grow it without limit.
struct ResolutionCache {
    private struct Entry {
        var hash: UInt64
        var type: ArraySlice<UInt8>
        var source: ArraySlice<UInt8>
        var resolution: Resolution
    }

    private var slots: [Entry?] = Array(repeating: nil, count: 1024)
    private var used = 0

    @inline(__always) static func hash(_ type: ArraySlice<UInt8>, _ source: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in type { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        h = (h ^ 0xFF) &* 0x100000001b3
        for b in source { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }

    func find(_ hash: UInt64, _ type: ArraySlice<UInt8>, _ source: ArraySlice<UInt8>) -> Resolution? {
        var i = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while let entry = slots[i] {
            if entry.hash == hash, entry.type.elementsEqual(type), entry.source.elementsEqual(source) { return entry.resolution }
            i = (i + 1) & (slots.count - 1)
        }
        return nil
    }

    mutating func insert(_ hash: UInt64, _ type: ArraySlice<UInt8>, _ source: ArraySlice<UInt8>, _ resolution: Resolution) {
        if used * 2 >= slots.count {
            slots = Array(repeating: nil, count: slots.count)
            used = 0
        }
        var i = Int(truncatingIfNeeded: hash) & (slots.count - 1)
        while slots[i] != nil { i = (i + 1) & (slots.count - 1) }
        // Copy the bytes so the cache does not keep whole event bodies alive.
        slots[i] = Entry(hash: hash, type: ArraySlice(Array(type)), source: ArraySlice(Array(source)), resolution: resolution)
        used += 1
    }
}
