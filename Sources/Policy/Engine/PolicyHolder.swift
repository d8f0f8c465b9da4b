import Foundation
import Synchronization

/// Holds the active policy and swaps it on reload. A reload that fails to load keeps the
/// previous policy active and reports why; readers always see a complete policy.
public final class PolicyHolder: Sendable {
    public struct ReloadFailure: Sendable {
        public var at: Date
        public var error: PolicyLoadError
    }

    private let state: Mutex<(policy: LoadedPolicy, lastFailure: ReloadFailure?)>

    public init(_ policy: LoadedPolicy) {
        state = Mutex((policy, nil))
    }

    /// Loads the initial policy (throws with every diagnostic when it is invalid).
    public convenience init(loadingFrom url: URL) throws(PolicyLoadError) {
        self.init(try TopicsDirectory.load(at: url))
    }

    public var current: LoadedPolicy { state.withLock { $0.policy } }
    public var lastFailure: ReloadFailure? { state.withLock { $0.lastFailure } }

    /// Reloads from `url` (default: the active policy's directory). On success the new policy
    /// becomes active and is returned; on failure the old one stays and the error is returned.
    @discardableResult
    public func reload(from url: URL? = nil) -> Result<LoadedPolicy, PolicyLoadError> {
        let source = url ?? current.directory
        do {
            let policy = try TopicsDirectory.load(at: source)
            state.withLock { $0 = (policy, nil) }
            return .success(policy)
        } catch {
            state.withLock { $0.lastFailure = ReloadFailure(at: Date(), error: error) }
            return .failure(error)
        }
    }
}
