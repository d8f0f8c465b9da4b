/// Per topic, the result of the work that depends only on (event type, source): the contract
/// entry, the authority verdict and the candidate rules in order.
struct Resolution {
    /// Index into the topic's events; nil when the type is not in the topic's contract.
    let eventIndex: Int?
    let authorised: Bool
    let candidates: [Int]
}

/// Resolutions keyed by the raw bytes of (type, source), hashed and compared in place.
/// Bounded: cleared when it holds 512 pairs, so hostile sources cannot grow it without limit.
///
/// Confined to one lane thread: its mutable properties are `@exclusivity(unchecked)`, since the
/// runtime exclusivity checks on this per-event state cost ~4% of evaluation time.
final class ResolutionCache {
    private static let limit = 512
    @exclusivity(unchecked) private var index = ByteKeyIndex(capacity: ResolutionCache.limit)
    @exclusivity(unchecked) private(set) var resolutions: [Resolution] = []

    deinit { index.deallocate() }

    @inline(__always) static func hash(_ type: UnsafeBufferPointer<UInt8>, _ source: UnsafeBufferPointer<UInt8>) -> UInt64 {
        ByteKeyIndex.hash(UnsafeRawBufferPointer(type), UnsafeRawBufferPointer(source))
    }

    @inline(__always) func find(_ hash: UInt64, _ type: UnsafeBufferPointer<UInt8>, _ source: UnsafeBufferPointer<UInt8>) -> Resolution? {
        guard let i = index.find(hash, UnsafeRawBufferPointer(type), UnsafeRawBufferPointer(source)) else { return nil }
        return resolutions[i]
    }

    func insert(_ hash: UInt64, _ type: UnsafeBufferPointer<UInt8>, _ source: UnsafeBufferPointer<UInt8>, _ resolution: Resolution) {
        if index.count >= Self.limit {
            index.removeAll()
            resolutions.removeAll(keepingCapacity: true)
        }
        _ = index.insert(hash, UnsafeRawBufferPointer(type), UnsafeRawBufferPointer(source))
        resolutions.append(resolution)
    }
}

/// Window and edge-trigger state of one rule, per key.
///
/// ASCII keys (the norm: asset ids) are looked up by their bytes without building a `String`.
/// Other keys go through a `String` dictionary so they keep `String` equality (canonical
/// equivalence), exactly as before the byte path existed.
///
/// Bounded, because keys come from events: at `InputLimits.maxWindowKeys` keys, or more than
/// `InputLimits.maxWindowEntries` entries in all the rule's windows together, the table starts
/// over, exactly as after a reload (windows refill within their duration).
///
/// Confined to one lane thread: its mutable properties are `@exclusivity(unchecked)`, since the
/// runtime exclusivity checks on this per-event state cost ~4% of evaluation time.
final class KeyStateTable {
    @exclusivity(unchecked) private var index = ByteKeyIndex(capacity: 64)
    @exclusivity(unchecked) private var states: [KeyState] = []
    @exclusivity(unchecked) private var other: [String: KeyState] = [:]
    @exclusivity(unchecked) private var entries = 0
    /// Times the table started over (for tests and explain).
    @exclusivity(unchecked) private(set) var resets = 0

    deinit { index.deallocate() }

    /// Window entries added (or, negative, evicted) by the caller's last `KeyState.add`.
    @inline(__always) func entriesChanged(by delta: Int) { entries &+= delta }

    private func startOver() {
        index.removeAll()
        states.removeAll()
        other.removeAll()
        entries = 0
        resets += 1
    }

    /// The state for key bytes `key` (UTF-8), created when new.
    func state(bytes key: UnsafeRawBufferPointer) -> KeyState {
        guard ShortBytes.isASCII(key) else { return state(string: String(decoding: key, as: UTF8.self)) }
        if entries > InputLimits.maxWindowEntries { startOver() }
        let hash = ByteKeyIndex.hash(key)
        if let i = index.find(hash, key) { return states[i] }
        if states.count + other.count >= InputLimits.maxWindowKeys { startOver() }
        _ = index.insert(hash, key)
        let created = KeyState()
        states.append(created)
        return created
    }

    func state(string key: String) -> KeyState {
        var key = key
        if key.utf8.allSatisfy({ $0 < 0x80 }) {
            return key.withUTF8 { state(bytes: UnsafeRawBufferPointer($0)) }
        }
        if entries > InputLimits.maxWindowEntries { startOver() }
        if let existing = other[key] { return existing }
        if states.count + other.count >= InputLimits.maxWindowKeys { startOver() }
        let created = KeyState()
        other[key] = created
        return created
    }
}
