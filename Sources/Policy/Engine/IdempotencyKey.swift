/// Deterministic idempotency keys for outputs: the same (source event, rule, target) always
/// yields the same key, so a replay or redelivery is recognisable downstream.
///
/// 128-bit FNV-1a, hex encoded (32 characters). Hand-written: it is 20 lines, stable across
/// platforms and releases, and not a security boundary, so swift-crypto's SHA-256 would only add
/// build time. Fields are separated by a 0x1F byte so ("ab","c") and ("a","bc") differ.
public enum IdempotencyKey {
    public static let length = 32

    public static func make(sourceEventID: String, ruleID: String, targetTopic: String) -> String {
        String(decoding: bytes(sourceEventID: sourceEventID.utf8, ruleID: ruleID, targetTopic: targetTopic), as: UTF8.self)
    }

    /// The key as the header bytes the router sends (the hot path needs no `String`).
    public static func bytes(sourceEventID: some Sequence<UInt8>, ruleID: String, targetTopic: String) -> [UInt8] {
        var hash: UInt128 = 0x6c62272e_07bb0142_62b82175_6295c58d
        let prime: UInt128 = 0x00000000_01000000_00000000_0000013B
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt128(byte)
                hash = hash &* prime
            }
        }
        mix(sourceEventID); hash ^= 0x1F; hash = hash &* prime
        mix(ruleID.utf8); hash ^= 0x1F; hash = hash &* prime
        mix(targetTopic.utf8)
        return hex(hash)
    }

    /// 32 lowercase hex digits; `String(_:radix:)` plus padding cost more than the hash itself.
    private static func hex(_ value: UInt128) -> [UInt8] {
        let digits: StaticString = "0123456789abcdef"
        return [UInt8](unsafeUninitializedCapacity: length) { buffer, count in
            var remaining = value
            for index in stride(from: length - 1, through: 0, by: -1) {
                buffer[index] = digits.utf8Start[Int(remaining & 0xF)]
                remaining >>= 4
            }
            count = length
        }
    }
}
