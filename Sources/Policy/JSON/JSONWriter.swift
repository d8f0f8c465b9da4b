/// Builds compact JSON text into a byte buffer (target payloads, recorded events, docs).
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let fields):
            bytes.append(UInt8(ascii: "{"))
            for (i, field) in fields.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                string(field.name)
                bytes.append(UInt8(ascii: ":"))
                write(field.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    public mutating func raw<C: Collection<UInt8>>(bytes other: C) { bytes.append(contentsOf: other) }
    public mutating func string(_ s: String) { JSONEscapes.appendQuoted(s.utf8, to: &bytes) }
    public mutating func stringBytes<C: Collection<UInt8>>(_ s: C) { JSONEscapes.appendQuoted(s, to: &bytes) }

    /// Integers print without a fraction; other finite numbers use Swift's shortest round-trip form.
    public mutating func number(_ n: Double) {
        if !n.isFinite { raw("null"); return }
        if n == n.rounded(), abs(n) < 1e15 { raw(String(Int64(n))) } else { raw("\(n)") }
    }
}
