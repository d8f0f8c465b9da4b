import Foundation

/// Equal length and equal bytes; a missing buffer is an empty one.
func sameBytes(_ one: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer?) -> Bool {
    let other = other ?? UnsafeRawBufferPointer(start: nil, count: 0)
    guard one.count == other.count else { return false }
    guard let first = one.baseAddress, let second = other.baseAddress else { return true }
    return memcmp(first, second, one.count) == 0
}

extension String.UTF8View {
    /// The bytes in place: native strings keep them contiguous (short ones on the stack), so
    /// the copy into an array below happens only for a bridged string.
    func withContiguousBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let result = withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return result }
        return Array(self).withUnsafeBytes(body)
    }
}
