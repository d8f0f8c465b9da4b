import Hummingbird
import Logging

/// Where a route is registered decides who may call it, and there are only these places:
/// `open` for the four public paths (probes, metrics, this API's document) and the two
/// `/v1` groups, each carrying `RequireRole`. Route files get the groups, not the router,
/// so a `/v1` route cannot be added without a role, and the check runs for whatever
/// spelling of a path the router resolves to that route.
struct AdminRoutes {
    /// Paths that need no token; everything else needs one or does not exist.
    static let publicPaths = ["/healthz", "/readyz", "/metrics", "/openapi.yaml"]

    let viewer: RouterGroup<AdminRequestContext>
    let `operator`: RouterGroup<AdminRequestContext>

    init(on router: Hummingbird.Router<AdminRequestContext>, tokens: AdminTokens, audit: Logger) {
        viewer = router.group("/v1").add(middleware: RequireRole(role: .viewer, tokens: tokens, audit: audit))
        `operator` = router.group("/v1").add(middleware: RequireRole(role: .operator, tokens: tokens, audit: audit))
    }
}
