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
        return hex(hash)
    }

    /// 32 lowercase hex digits; `String(_:radix:)` plus padding cost more than the hash itself.
    private static func hex(_ value: UInt128) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 32) { buffer in
            var remaining = value
            for index in stride(from: 31, through: 0, by: -1) {
                buffer[index] = digits.utf8Start[Int(remaining & 0xF)]
                remaining >>= 4
            }
            return 32
        }
    }
}
