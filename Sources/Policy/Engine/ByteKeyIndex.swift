import Foundation

/// Open-addressing map from byte strings to dense indices `0..<count`.
///
/// Why hand-written: `Dictionary` needs an owned key (a `String` or `[UInt8]` built per lookup,
/// i.e. an allocation plus reference counting), while this hashes and compares the caller's
/// bytes in place. A key may be given in two parts (`a` then `b`, e.g. event type and source)
/// and is compared as their concatenation plus the split point.
///
/// Storage is manual (slots and key bytes in two unsafe buffers) so lookups do no reference
/// counting; the owner must call `deallocate()` exactly once (from its `deinit`).
struct ByteKeyIndex {
    private struct Slot {
        var hash: UInt64 // 0: empty
        var start: Int
        var firstCount: Int32
        var totalCount: Int32
        var index: Int
    }

    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity: Int
    private var arenaUsed = 0
    private(set) var count = 0

    init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(hash: 0, start: 0, firstCount: 0, totalCount: 0, index: 0), count: size)
        mask = size - 1
        arenaCapacity = 1024
        arena = .allocate(capacity: arenaCapacity)
    }

    func deallocate() {
        slots.deallocate()
        arena.deallocate()
    }

    /// Hash of `a ++ b` (and where they split), 8 bytes at a time. Never 0.
    @inline(__always) static func hash(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: a.count &* 31 &+ b.count)
        @inline(__always) func mix(_ part: UnsafeRawBufferPointer) {
            var i = 0
            let n = part.count
            while i + 8 <= n {
                h = (h ^ part.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 29
                i += 8
            }
            if i < n {
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < n { tail |= UInt64(part[i]) << shift; shift += 8; i += 1 }
                h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
                h ^= h >> 31
            }
        }
        mix(a)
        mix(b)
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        return h | 1
    }

    /// The index of `a ++ b`, or nil.
    @inline(__always) func find(_ hash: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) -> Int? {
        var i = Int(truncatingIfNeeded: hash >> 7) & mask
        while true {
            let slot = slots[i]
            if slot.hash == 0 { return nil }
            if slot.hash == hash, Int(slot.firstCount) == a.count, Int(slot.totalCount) == a.count + b.count,
               Self.equal(arena + slot.start, a), Self.equal(arena + slot.start + a.count, b) {
                return slot.index
            }
            i = (i + 1) & mask
        }
    }

    /// Adds `a ++ b` (which must be absent) as index `count` and returns that index.
    mutating func insert(_ hash: UInt64, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) -> Int {
        if (count + 1) * 2 > mask + 1 { grow() }
        let total = a.count + b.count
        if arenaUsed + total > arenaCapacity {
            var size = arenaCapacity * 2
            while arenaUsed + total > size { size *= 2 }
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
            bigger.update(from: arena, count: arenaUsed)
            arena.deallocate()
            arena = bigger
            arenaCapacity = size
        }
        if let first = a.baseAddress { (arena + arenaUsed).update(from: first.assumingMemoryBound(to: UInt8.self), count: a.count) }
        if let second = b.baseAddress { (arena + arenaUsed + a.count).update(from: second.assumingMemoryBound(to: UInt8.self), count: b.count) }
        let index = count
        place(Slot(hash: hash, start: arenaUsed, firstCount: Int32(a.count), totalCount: Int32(total), index: index))
        arenaUsed += total
        count += 1
        return index
    }

    /// Forgets every key (capacity is kept).
    mutating func removeAll() {
        slots.update(repeating: Slot(hash: 0, start: 0, firstCount: 0, totalCount: 0, index: 0), count: mask + 1)
        arenaUsed = 0
        count = 0
    }

    private mutating func place(_ slot: Slot) {
        var i = Int(truncatingIfNeeded: slot.hash >> 7) & mask
        while slots[i].hash != 0 { i = (i + 1) & mask }
        slots[i] = slot
    }

    private mutating func grow() {
        let oldSlots = slots, oldSize = mask + 1
        slots = .allocate(capacity: oldSize * 2)
        slots.initialize(repeating: Slot(hash: 0, start: 0, firstCount: 0, totalCount: 0, index: 0), count: oldSize * 2)
        mask = oldSize * 2 - 1
        for i in 0..<oldSize where oldSlots[i].hash != 0 { place(oldSlots[i]) }
        oldSlots.deallocate()
    }

    @inline(__always) private static func equal(_ stored: UnsafePointer<UInt8>, _ part: UnsafeRawBufferPointer) -> Bool {
        guard let base = part.baseAddress else { return part.count == 0 }
        return ShortBytes.equal(stored, base, count: part.count)
    }
}
