import Synchronization

/// A boolean shared between threads and closures (an `Atomic` itself cannot be
/// captured, being non-copyable).
final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)

    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
    /// Sets the flag; true if this call was the one that set it.
    func setOnce() -> Bool { !value.exchange(true, ordering: .acquiringAndReleasing) }
}
