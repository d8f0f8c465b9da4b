/// Deterministic idempotency keys for outputs: the same (source event, rule, target) always
/// yields the same key, so a replay or redelivery is recognisable downstream.
///
/// 128-bit FNV-1a, hex encoded (32 characters). Hand-written: it is 20 lines, stable across
/// platforms and releases, and not a security boundary, so swift-crypto's SHA-256 would only add
/// build time. Fields are separated by a 0x1F byte so ("ab","c") and ("a","bc") differ.
public enum IdempotencyKey {
    public static let length = 32

    public static func make(sourceEventID: String, ruleID: String, targetTopic: String) -> String {
        String(decoding: bytes(sourceEventID: Array(sourceEventID.utf8), ruleID: ruleID, targetTopic: targetTopic), as: UTF8.self)
    }

    /// The key as the header bytes the router sends (the hot path needs no `String`).
    /// Concrete types on purpose: a generic byte sequence is not specialised across modules
    /// and cost a witness call per byte.
    public static func bytes(sourceEventID: [UInt8], ruleID: String, targetTopic: String) -> [UInt8] {
        var hash = FNV()
        sourceEventID.withUnsafeBufferPointer { hash.mix($0) }
        hash.separate()
        hash.mix(ruleID)
        hash.separate()
        hash.mix(targetTopic)
        return hex(hash.value)
    }

    private struct FNV {
        private static let prime: UInt128 = 0x00000000_01000000_00000000_0000013B
        private(set) var value: UInt128 = 0x6c62272e_07bb0142_62b82175_6295c58d

        mutating func mix(_ bytes: UnsafeBufferPointer<UInt8>) {
            for byte in bytes {
                value ^= UInt128(byte)
                value = value &* Self.prime
            }
        }

        mutating func mix(_ text: String) {
            var text = text
            text.withUTF8 { mix($0) }
        }

        mutating func separate() {
            value ^= 0x1F
            value = value &* Self.prime
        }
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
