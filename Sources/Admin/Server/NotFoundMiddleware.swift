import Hummingbird

/// Gives the router's own 404 (no route for this method and path) a body that says so,
/// instead of an empty one; a handler's 404 (no such job) keeps its own message.
struct NotFoundMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && context.endpointPath == Self.routerNotFound {
            throw HTTPError(.notFound, message: "no route for \(request.method) \(request.uri.path.prefix(200)); the routes are listed in /openapi.yaml")
        }
    }

    /// What Hummingbird's router records as the endpoint when nothing matched.
    static let routerNotFound = "NotFound"
}
