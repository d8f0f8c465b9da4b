import Hummingbird
import Policy

/// Per-request state: the role the bearer token grants, once `RequireRole` checked it.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var role: AdminRole?
    /// The token's name from the admin tokens configuration (`unnamed-<role>` without one).
    public var tokenName: String?

    /// The connection's peer, for the audit log ("unknown" when the channel has none).
    public var peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress.map { "\($0)" } ?? "unknown"
    }

    /// Bodies are small JSON objects; a larger one is refused before it is buffered whole.
    public var maxUploadSize: Int { InputLimits.maxRequestBodyBytes }
}
