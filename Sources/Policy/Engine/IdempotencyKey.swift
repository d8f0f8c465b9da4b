/// Deterministic idempotency keys for outputs: the same (source event, rule, target) always
/// yields the same key, so a replay or redelivery is recognisable downstream.
///
/// 128-bit FNV-1a, hex encoded (32 characters). Hand-written: it is 20 lines, stable across
/// platforms and releases, and not a security boundary, so swift-crypto's SHA-256 would only add
/// build time. Fields are separated by a 0x1F byte so ("ab","c") and ("a","bc") differ.
public enum IdempotencyKey {
    public static func make(sourceEventID: String, ruleID: String, targetTopic: String) -> String {
        var hash: UInt128 = 0x6c62272e_07bb0142_62b82175_6295c58d
        let prime: UInt128 = 0x00000000_01000000_00000000_0000013B
        func mix(_ s: String) {
            for byte in s.utf8 {
                hash ^= UInt128(byte)
                hash = hash &* prime
            }
        }
        mix(sourceEventID); hash ^= 0x1F; hash = hash &* prime
        mix(ruleID); hash ^= 0x1F; hash = hash &* prime
        mix(targetTopic)
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
    }
}
