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
    @inline(__always) static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        @inline(__always) func same<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> Bool {
            a.loadUnaligned(fromByteOffset: offset, as: T.self) == b.loadUnaligned(fromByteOffset: offset, as: T.self)
        }
        if count >= 8 {
            var i = 0
            while i + 8 < count {
                if !same(i, UInt64.self) { return false }
                i += 8
            }
            return same(count - 8, UInt64.self)
        }
        if count >= 4 { return same(0, UInt32.self) && same(count - 4, UInt32.self) }
        if count >= 2 { return same(0, UInt16.self) && same(count - 2, UInt16.self) }
        return count == 0 || same(0, UInt8.self)
    }
}
