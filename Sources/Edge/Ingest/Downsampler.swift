import Policy
import Synchronization

/// Telemetry downsampling before the WAN: of the events of one key (an asset) on a downsampled
/// lane, one per interval leaves the plant; the rest are counted (`downsampled`) and dropped.
///
/// Time is the edge's arrival clock, not the event's own `time`, so a crafted timestamp cannot
/// open or close an interval. An interval opens with the event that is kept.
///
/// A request's plan is committed only after its events are durable: a request answered 503 or
/// failing leaves the intervals as they were, so the gateway's retry is judged afresh. Two
/// requests planned at once may each keep an event of the same key (one extra reading, never
/// one missing).
public final class Downsampler: Sendable {
    /// Lane → interval in milliseconds.
    public let intervals: [String: Int64]
    private let state = Mutex(State())

    private struct State {
        /// Lane → key → when its interval opened (arrival ms).
        var opened: [String: [[UInt8]: Int64]] = [:]
        /// Lane → when its full table was last swept of ended intervals.
        var swept: [String: Int64] = [:]
    }

    public init(intervals: [String: Int64]) {
        self.intervals = intervals
    }

    /// What to spool of `items`, and the intervals to open once they are spooled.
    public struct Plan: Sendable {
        public var kept: [Spool.Incoming]
        /// Dropped events per lane.
        public var dropped: [String: Int]
        fileprivate var opened: [(lane: String, key: [UInt8])]
    }

    /// Keeps everything on lanes without an interval, events without a key and dead letters;
    /// of the rest, an event whose key had one kept less than the lane's interval ago is dropped.
    public func plan(_ items: [Spool.Incoming], nowMs: Int64) -> Plan {
        guard !intervals.isEmpty else { return Plan(kept: items, dropped: [:], opened: []) }
        var plan = Plan(kept: [], dropped: [:], opened: [])
        plan.kept.reserveCapacity(items.count)
        state.withLock { state in
            var openedNow: [String: Set<[UInt8]>] = [:]
            for item in items {
                guard let interval = intervals[item.lane], !item.rejected, let key = item.key else {
                    plan.kept.append(item)
                    continue
                }
                let open = openedNow[item.lane]?.contains(key) == true
                    || state.opened[item.lane]?[key].map { nowMs &- $0 < interval && nowMs >= $0 } == true
                if open {
                    plan.dropped[item.lane, default: 0] += 1
                } else {
                    plan.kept.append(item)
                    openedNow[item.lane, default: []].insert(key)
                    plan.opened.append((item.lane, key))
                }
            }
        }
        return plan
    }

    /// Opens the intervals of a plan whose events are now durable.
    public func commit(_ plan: Plan, nowMs: Int64) {
        guard !plan.opened.isEmpty else { return }
        state.withLock { state in
            for (lane, key) in plan.opened {
                let count = state.opened[lane]?.count ?? 0
                if count >= InputLimits.maxEdgeDownsampleKeys, state.opened[lane]?[key] == nil {
                    // Full: sweep ended intervals, at most once a second (a flood of new keys
                    // must not cost a sweep each).
                    if let last = state.swept[lane], nowMs >= last, nowMs - last < 1000 { continue }
                    state.swept[lane] = nowMs
                    let interval = intervals[lane, default: 0]
                    state.opened[lane] = state.opened[lane]?.filter { nowMs &- $0.value < interval && nowMs >= $0.value }
                    // Still full: this key is not remembered, so its next event is kept too.
                    if (state.opened[lane]?.count ?? 0) >= InputLimits.maxEdgeDownsampleKeys { continue }
                }
                state.opened[lane, default: [:]][key] = nowMs
            }
        }
    }
}
