import CRdKafka
import Foundation
import Synchronization

/// Topic names by librdkafka topic handle, for delivery reports: a name longer than a short
/// string's 15 bytes copied out of C is an allocation, and every report names its topic. A
/// handle's address could in principle be reused for another topic once librdkafka frees it,
/// so a remembered name counts only when its bytes still equal the handle's.
final class TopicNames: Sendable {
    /// Producers write a handful of topics; past this many the list starts over.
    private static let capacity = 64
    /// Handles by address: a pointer is not `Sendable`, and only compared here.
    private let known = Mutex<[(handle: UInt, name: String)]>([])

    func name(of handle: OpaquePointer) -> String {
        guard let cName = rd_kafka_topic_name(handle) else { return "" }
        let bytes = UnsafeRawBufferPointer(start: cName, count: strlen(cName))
        let address = UInt(bitPattern: handle)
        return known.withLock { known in
            if let entry = known.first(where: { $0.handle == address }) {
                if entry.name.utf8.withContiguousBytes({ sameBytes($0, bytes) }) { return entry.name }
                known.removeAll { $0.handle == address }
            }
            let name = String(decoding: bytes, as: UTF8.self)
            if known.count >= Self.capacity { known.removeAll() }
            known.append((address, name))
            return name
        }
    }
}
