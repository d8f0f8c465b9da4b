import NIOCore
import Synchronization

/// How many connections one HTTP server holds open, and its ceiling. Shared by every
/// connection's `ConnectionCapHandler`; the count is atomic because connections live on
/// different event loops.
public final class ConnectionCap: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// Connections open now.
    public var count: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection; false (and not counted) when the server is at its ceiling.
    func admit() -> Bool {
        if open.add(1, ordering: .relaxed).newValue <= limit { return true }
        open.subtract(1, ordering: .relaxed)
        return false
    }

    func release() {
        open.subtract(1, ordering: .relaxed)
    }
}

/// Closes a new connection at once when its server already holds `cap.limit`: without a
/// ceiling, a client that opens connections and never finishes a request holds a descriptor
/// and ~50 KB of buffers per connection until the idle timeout, enough to exhaust either.
/// One instance per connection, on its event loop.
final class ConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let cap: ConnectionCap
    private var counted = false

    init(cap: ConnectionCap) {
        self.cap = cap
    }

    func channelActive(context: ChannelHandlerContext) {
        guard cap.admit() else {
            context.close(promise: nil)
            return
        }
        counted = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counted = false
            cap.release()
        }
        context.fireChannelInactive()
    }
}
