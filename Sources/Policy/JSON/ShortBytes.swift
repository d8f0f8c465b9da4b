/// Checks on short byte strings (field names, enum values, keys, header values), a word at a
/// time: they are mostly under 24 bytes, where calling `memcmp` or walking bytes one by one
/// costs more than the check itself.
enum ShortBytes {
    /// No byte has its high bit set.
    @inline(__always) static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        var bits: UInt64 = 0
        while i + 8 <= bytes.count { bits |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self); i += 8 }
        while i < bytes.count { bits |= UInt64(bytes[i]); i += 1 }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    /// The tail is compared as one word overlapping the previous one (or two overlapping halves
    /// for short strings), not byte by byte: keys such as `metric` would otherwise loop six times.
    /// Each width is spelled out: a generic helper over `FixedWidthInteger` was left unspecialized
    /// in release builds and compared through the protocol's witness table.
    @inline(__always) static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        if count >= 8 {
            var i = 0
            while i + 8 < count {
                if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
                i += 8
            }
            return a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        if count >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self) == b.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        }
        if count >= 2 {
            return a.loadUnaligned(as: UInt16.self) == b.loadUnaligned(as: UInt16.self)
                && a.loadUnaligned(fromByteOffset: count - 2, as: UInt16.self) == b.loadUnaligned(fromByteOffset: count - 2, as: UInt16.self)
        }
        return count == 0 || a.load(as: UInt8.self) == b.load(as: UInt8.self)
    }

    /// Whether two byte arrays hold the same bytes (`==` on `[UInt8]` compared them one element
    /// at a time through `Equatable`).
    @inline(__always) static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let count = a.count
        guard count == b.count else { return false }
        return a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                // Empty arrays may have no base address; two empty arrays are equal.
                guard let a = a.baseAddress, let b = b.baseAddress else { return count == 0 }
                return equal(a, b, count: count)
            }
        }
    }
}
