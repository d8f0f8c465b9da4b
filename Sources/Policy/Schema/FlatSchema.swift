import Foundation

/// A `JSONSchema` tree flattened into plain structs in one allocation, for the hot path.
///
/// Why: walking the `JSONSchema` class tree retains and releases every child schema and every
/// property-name array it touches (≈40% of the engine's time went to reference counting).
/// Here the whole tree is three unsafe buffers that `TopicRuntime` owns, so validating a valid
/// event does no reference counting and no allocation.
///
/// Contract: `isValid` answers true only when the original `JSONSchema.validate` would accept
/// the value. Whenever it is unsure (escaped strings, `pattern`, non-string `enum`, duplicate
/// property names) it answers false, and the engine then runs `JSONSchema.validate`, which
/// decides and builds the violation message. Validation is never weaker than the original.
struct FlatSchema {
    struct Node {
        var types: JSONSchema.Types
        /// Defer this node (and its subtree) to `JSONSchema.validate`.
        var slow: Bool
        /// String enum present: strings must be one of `enumStart..<enumStart+enumCount`;
        /// numbers and booleans never match it.
        var hasStringEnum: Bool
        var minLength: Int, maxLength: Int       // -1: absent
        var minItems: Int, maxItems: Int         // -1: absent
        var minimum: Double, maximum: Double     // NaN: absent
        var exclusiveMinimum: Double, exclusiveMaximum: Double
        var propertyStart: Int, propertyCount: Int
        /// -1: extra properties allowed; -2: none allowed; else the node extras must match.
        var additional: Int
        var items: Int                           // -1: absent
        var enumStart: Int, enumCount: Int
        var requiredMask: UInt64
        var original: Unmanaged<JSONSchema>
    }

    /// A property name (or string enum entry) as a byte range of `bytes`, with its schema node.
    struct Name {
        var start: Int
        var count: Int
        var node: Int
    }

    private(set) var nodes: UnsafeMutableBufferPointer<Node>
    private(set) var names: UnsafeMutableBufferPointer<Name>
    private(set) var bytes: UnsafeMutableBufferPointer<UInt8>
    /// Root node index of each schema passed to `init`.
    let roots: [Int]

    /// Flattens `schemas`; the caller keeps them alive (nodes hold unretained references)
    /// and calls `deallocate()` once.
    init(_ schemas: [JSONSchema]) {
        var nodeList: [Node] = []
        var nameList: [Name] = []
        var byteList: [UInt8] = []
        func add(_ s: JSONSchema) -> Int {
            let index = nodeList.count
            // An empty enum is left to the full validator (it lets strings through but no other value).
            let stringEnum = s.enumValues.map { values in !values.isEmpty && values.allSatisfy { $0.stringValue != nil } } ?? false
            let duplicateNames = Set(s.properties.map(\.name)).count != s.properties.count
            nodeList.append(Node(
                types: s.types, slow: s.pattern != nil || (s.enumValues != nil && !stringEnum) || duplicateNames,
                hasStringEnum: stringEnum && s.enumValues != nil,
                minLength: s.minLength ?? -1, maxLength: s.maxLength ?? -1, minItems: s.minItems ?? -1, maxItems: s.maxItems ?? -1,
                minimum: s.minimum ?? .nan, maximum: s.maximum ?? .nan,
                exclusiveMinimum: s.exclusiveMinimum ?? .nan, exclusiveMaximum: s.exclusiveMaximum ?? .nan,
                propertyStart: 0, propertyCount: 0, additional: -1, items: -1, enumStart: 0, enumCount: 0,
                requiredMask: s.requiredMask, original: Unmanaged.passUnretained(s)))
            if stringEnum, let values = s.enumValues {
                nodeList[index].enumStart = nameList.count
                nodeList[index].enumCount = values.count
                for value in values {
                    let utf8 = Array(value.stringValue!.utf8)
                    nameList.append(Name(start: byteList.count, count: utf8.count, node: -1))
                    byteList += utf8
                }
            }
            // Reserve this node's property slots first so they stay contiguous, then fill in children.
            let propertyStart = nameList.count
            nodeList[index].propertyStart = propertyStart
            nodeList[index].propertyCount = s.properties.count
            for property in s.properties {
                nameList.append(Name(start: byteList.count, count: property.nameBytes.count, node: -1))
                byteList += property.nameBytes
            }
            for (i, property) in s.properties.enumerated() { nameList[propertyStart + i].node = add(property.schema) }
            if let extra = s.additional { nodeList[index].additional = extra.map { add($0) } ?? -2 }
            if let items = s.items { nodeList[index].items = add(items) }
            return index
        }
        roots = schemas.map { add($0) }
        nodes = .allocate(capacity: max(1, nodeList.count))
        _ = nodes.initialize(from: nodeList)
        names = .allocate(capacity: max(1, nameList.count))
        _ = names.initialize(from: nameList)
        bytes = .allocate(capacity: max(1, byteList.count))
        _ = bytes.initialize(from: byteList)
    }

    func deallocate() {
        nodes.deallocate()
        names.deallocate()
        bytes.deallocate()
    }

    /// True when `node` is certainly valid against schema node `s` (see the type's contract).
    func isValid(_ tape: TapeView, _ node: Int, _ s: Int) -> Bool {
        check(tape, node, schemaNode(s))
    }

    /// Schema nodes are read in place: copying a whole `Node` (≈140 bytes) per value cost a
    /// memmove each time.
    @inline(__always) private func schemaNode(_ index: Int) -> UnsafeMutablePointer<Node> {
        nodes.baseAddress! + index
    }

    /// Inlined into the object and array loops, so a scalar field costs no call; containers
    /// recurse through `isValidObject` and `isValidArray`.
    @inline(__always) private func check(_ tape: TapeView, _ node: Int, _ schema: UnsafeMutablePointer<Node>) -> Bool {
        if schema.pointee.slow { return schema.pointee.original._withUnsafeGuaranteedRef { $0.validate(tape, node) == nil } }
        let kind = tape.kind(node)
        switch kind {
        case .object:
            guard schema.pointee.types.contains(.object) else { return false }
            return isValidObject(tape, node, schema)
        case .string:
            guard schema.pointee.types.contains(.string) else { return false }
            if schema.pointee.minLength >= 0 || schema.pointee.maxLength >= 0 || schema.pointee.hasStringEnum {
                // Escaped text needs unescaping: leave it to the full validator.
                if tape.isEscaped(node) { return false }
                let raw = tape.rawString(node)
                if schema.pointee.minLength >= 0 || schema.pointee.maxLength >= 0 {
                    var length = 0
                    for b in raw where b & 0xC0 != 0x80 { length += 1 }
                    if schema.pointee.minLength >= 0, length < schema.pointee.minLength { return false }
                    if schema.pointee.maxLength >= 0, length > schema.pointee.maxLength { return false }
                }
                if schema.pointee.hasStringEnum {
                    var found = false
                    for i in schema.pointee.enumStart..<schema.pointee.enumStart + schema.pointee.enumCount where equals(raw, names[i]) { found = true; break }
                    if !found { return false }
                }
            }
            return true
        case .number:
            let n = tape.number(node)
            guard schema.pointee.types.contains(.number) || (schema.pointee.types.contains(.integer) && n == n.rounded()) else { return false }
            // Written so that an absent (NaN) bound never fails: every comparison with NaN is false.
            if n < schema.pointee.minimum || n > schema.pointee.maximum || n <= schema.pointee.exclusiveMinimum || n >= schema.pointee.exclusiveMaximum { return false }
            return !schema.pointee.hasStringEnum
        case .true, .false:
            return schema.pointee.types.contains(.boolean) && !schema.pointee.hasStringEnum
        case .null:
            return schema.pointee.types.contains(.null)
        case .array:
            guard schema.pointee.types.contains(.array) else { return false }
            return isValidArray(tape, node, schema)
        }
    }

    private func isValidArray(_ tape: TapeView, _ node: Int, _ schema: UnsafeMutablePointer<Node>) -> Bool {
        let count = tape.count(node)
        if schema.pointee.minItems >= 0, count < schema.pointee.minItems { return false }
        if schema.pointee.maxItems >= 0, count > schema.pointee.maxItems { return false }
        if schema.pointee.items >= 0 {
            let items = schemaNode(schema.pointee.items)
            var element = node + 1
            for _ in 0..<count {
                if !check(tape, element, items) { return false }
                element = tape.next(element)
            }
        }
        return true
    }

    private func isValidObject(_ tape: TapeView, _ node: Int, _ schema: UnsafeMutablePointer<Node>) -> Bool {
        var seen: UInt64 = 0
        var key = node + 1
        let count = schema.pointee.propertyCount
        // Fields usually arrive in schema order: start each search after the last match.
        var hint = 0
        for _ in 0..<tape.count(node) {
            let value = key + 1
            if tape.isEscaped(key) { return false }
            let raw = tape.rawString(key)
            var matched = -1
            var probe = hint
            for _ in 0..<count {
                if equals(raw, names[schema.pointee.propertyStart + probe]) { matched = probe; break }
                probe += 1
                if probe == count { probe = 0 }
            }
            if matched >= 0 {
                if matched < 64 { seen |= 1 << UInt64(matched) }
                if !check(tape, value, schemaNode(names[schema.pointee.propertyStart + matched].node)) { return false }
                hint = matched + 1 == count ? 0 : matched + 1
            } else if schema.pointee.additional == -2 {
                return false
            } else if schema.pointee.additional >= 0, !check(tape, value, schemaNode(schema.pointee.additional)) {
                return false
            }
            key = tape.next(value)
        }
        return seen & schema.pointee.requiredMask == schema.pointee.requiredMask
    }

    @inline(__always) private func equals(_ raw: UnsafeBufferPointer<UInt8>, _ name: Name) -> Bool {
        guard raw.count == name.count else { return false }
        return name.count == 0 || ShortBytes.equal(raw.baseAddress!, bytes.baseAddress! + name.start, count: name.count)
    }
}
