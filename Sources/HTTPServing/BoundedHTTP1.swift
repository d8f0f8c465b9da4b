import HummingbirdCore
import NIOCore
import Policy

extension HTTPServerBuilder {
    /// HTTP/1.1 with the limits every PlantRouter server keeps (`InputLimits`): connections
    /// without a complete request part for `httpIdleTimeoutSeconds` are closed, request headers
    /// are bounded, and at most `cap.limit` connections are open at once. Hummingbird's defaults
    /// (no idle timeout, 80 KiB of headers, no ceiling) let a client hold ~170 KB and a
    /// descriptor per half-sent request for as long as it likes.
    public static func boundedHTTP1(cap: ConnectionCap) -> HTTPServerBuilder {
        .http1(configuration: .init(
            additionalChannelHandlers: [ConnectionCapHandler(cap: cap)],
            idleTimeout: .seconds(InputLimits.httpIdleTimeoutSeconds),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: InputLimits.maxHTTPHeaderFieldBytes, maxHeaderListSize: InputLimits.maxHTTPHeaderListBytes,
                maxHeaderFieldCount: InputLimits.maxHTTPHeaderFields)))
    }
}
