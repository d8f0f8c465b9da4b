import Hummingbird

/// Per-request state: the role the bearer token grants, once `BearerAuthMiddleware` checked it.
public struct AdminRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var role: AdminRole?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
