/// How a rule's window is bounded.
enum WindowKind: Sendable, Equatable {
    /// Event-time window of `durationMs` ending at the newest event seen for the key; events up to
    /// `latenessMs` older than the newest are still inserted in time order; older ones are late.
    case time(durationMs: Int64, latenessMs: Int64)
    /// The last `size` events for the key, in arrival order ("N of the last M").
    case count(size: Int)
}

/// State one rule keeps for one key: its window entries and the edge-trigger arm.
///
/// Entries are kept sorted by event time in parallel arrays with a moving head, so the common
/// case (in-order event) is an append and eviction advances `head`; the arrays are compacted
/// when the dead prefix dominates. Hand-written: swift-collections' Deque cannot insert in the
/// middle cheaply for out-of-order events. A late event is placed by binary search; inserting it
/// still moves the newer entries (a memmove), which the rule's entry limit bounds.
///
/// Confined to one lane thread: its mutable properties are `@exclusivity(unchecked)`, since the
/// runtime exclusivity checks on this per-event state cost ~4% of evaluation time.
final class KeyState {
    /// Edge triggering: true while the rule may fire for this key (re-armed when the condition is false).
    @exclusivity(unchecked) var armed = true
    @exclusivity(unchecked) private var times: [Int64] = []
    @exclusivity(unchecked) private var values: [Double] = []
    @exclusivity(unchecked) private var hitFlags: [Bool] = []
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private(set) var newest: Int64 = .min
    @exclusivity(unchecked) private(set) var sum = 0.0
    @exclusivity(unchecked) private(set) var hits = 0

    var count: Int { times.count - head }
    var average: Double { count == 0 ? .nan : sum / Double(count) }
    var minimum: Double { values[head...].min() ?? .nan }
    var maximum: Double { values[head...].max() ?? .nan }

    /// Adds an observation; returns false (and changes nothing) when it is late, or when the
    /// value is not finite (the engine filters those first: one would poison the sum).
    /// Time arithmetic saturates: event times may be anything from Int64.min to Int64.max.
    func add(time: Int64, value: Double, hit: Bool, kind: WindowKind) -> Bool {
        guard value.isFinite else { return false }
        switch kind {
        case .count(let size):
            append(at: times.count, time: time, value: value, hit: hit)
            while count > size { evictHead() }
        case .time(let duration, let lateness):
            if newest != .min, time < newest.clampedSubtracting(lateness) { return false }
            append(at: insertionIndex(for: time), time: time, value: value, hit: hit)
            newest = max(newest, time)
            let horizon = newest.clampedSubtracting(duration)
            while count > 0, times[head] <= horizon { evictHead() }
        }
        if head > 64, head * 2 > times.count { compact() }
        return true
    }

    /// Where an event at `time` goes: after every entry at or before it. In-order events (the
    /// common case) are answered by one compare; a late one by a binary search, since a key's
    /// window may hold up to the rule's entry limit and a scan from the end cost one compare per
    /// newer entry for every late event.
    private func insertionIndex(for time: Int64) -> Int {
        guard let last = times.last, last > time else { return times.count }
        var low = head, high = times.count - 1  // times[high] > time
        while low < high {
            let middle = low + (high - low) / 2
            if times[middle] > time { high = middle } else { low = middle + 1 }
        }
        return low
    }

    private func append(at index: Int, time: Int64, value: Double, hit: Bool) {
        if index == times.count {
            times.append(time); values.append(value); hitFlags.append(hit)
        } else {
            times.insert(time, at: index); values.insert(value, at: index); hitFlags.insert(hit, at: index)
        }
        sum += value
        if hit { hits += 1 }
    }

    private func evictHead() {
        sum -= values[head]
        if hitFlags[head] { hits -= 1 }
        head += 1
        // Re-sum occasionally so floating-point drift from add/subtract cannot accumulate; at
        // once when finite values summed past Double's range, or the infinity would stay.
        if count == 0 { sum = 0 } else if !sum.isFinite { sum = values[head...].reduce(0, +) }
    }

    private func compact() {
        times.removeFirst(head); values.removeFirst(head); hitFlags.removeFirst(head)
        head = 0
        sum = values.reduce(0, +)
    }
}
