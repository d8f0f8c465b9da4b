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

    @inline(__always) static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < count {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }
}
