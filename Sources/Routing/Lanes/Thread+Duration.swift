import Foundation

extension Thread {
    /// Blocks the calling (dedicated) thread; never used on the cooperative pool.
    static func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }
}
