import Foundation
import Hummingbird
import Logging
import Policy

/// `POST /v1/events`: CloudEvents from the line gateways (binary, structured or batched
/// content mode), answered 202 only once every event of the request is durable in the spool.
///
/// A request is all or nothing: a 400 (an event no lane can take), 401, 413 or 503 spools
/// none of its events, so a gateway simply sends the same request again.
struct IngestRoutes: Sendable {
    let spool: Spool
    let policy: EdgePolicy
    let downsampler: Downsampler
    let tokens: GatewayTokens
    let retryAfterSeconds: Int
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/events") { request, _ in try await ingest(request) }
    }

    private func reply(_ status: HTTPResponse.Status, _ object: [String: Any], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func ingest(_ request: Request) async throws -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
              let gateway = tokens.gateway(of: authorization.dropFirst(7)) else {
            return reply(.unauthorized, ["error": "a gateway bearer token is required (Authorization: Bearer <token>)"], headers: [.wwwAuthenticate: "Bearer"])
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: InputLimits.maxEdgeRequestBodyBytes)
        } catch {
            return reply(.contentTooLarge, ["error": "request body over \(InputLimits.maxEdgeRequestBodyBytes) bytes (maxEdgeRequestBodyBytes)"])
        }
        let body = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
        let events: [CloudEventsHTTP.Event]
        switch CloudEventsHTTP.mediaType(request.headers[.contentType]) {
        case CloudEventsHTTP.batchType:
            do {
                events = try CloudEventsHTTP.batch(body, maxEvents: InputLimits.maxEdgeBatchEvents)
            } catch {
                let tooMany = error.description.contains("maxEdgeBatchEvents")
                return reply(tooMany ? .contentTooLarge : .badRequest, ["error": error.description])
            }
        case CloudEventsHTTP.structuredType:
            events = [CloudEventsHTTP.structured(body)]
        default:
            events = [CloudEventsHTTP.binary(headers: request.headers.map { ($0.name.rawName, $0.value) }, body: body)]
        }
        let nowMs = Forwarder.nowMs()
        var items: [Spool.Incoming] = []
        items.reserveCapacity(events.count)
        for (index, event) in events.enumerated() {
            switch policy.classify(event, nowMs: nowMs) {
            case .spool(let item): items.append(item)
            case .refuse(let message):
                return reply(.badRequest, ["error": events.count > 1 ? "event \(index): \(message)" : message, "spooled": 0])
            }
        }
        let plan = downsampler.plan(items, nowMs: nowMs)
        switch try await spool.append(plan.kept, downsampled: plan.dropped, nowMs: nowMs) {
        case .spooled(let shed):
            downsampler.commit(plan, nowMs: nowMs)
            let rejected = items.count(where: { $0.rejected })
            if shed > 0 { logger.notice("edge: telemetry quota reached, shed \(shed) oldest events", metadata: ["gateway": "\(gateway)"]) }
            return reply(.accepted, ["accepted": items.count, "deadLettered": rejected, "downsampled": plan.dropped.values.reduce(0, +)])
        case .full(let priority):
            return reply(.serviceUnavailable,
                         ["error": "the spool's \(priority.rawValue) quota is reached while the enterprise link is down; retry later", "spooled": 0],
                         headers: [.retryAfter: String(retryAfterSeconds)])
        }
    }
}
