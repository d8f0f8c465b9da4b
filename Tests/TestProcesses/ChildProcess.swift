import Foundation
import Synchronization

/// A program the tests start and stop: the built `plantrouter`, tansu, the Python checkers.
///
/// Written by hand because both ready-made ways fail here:
/// - Foundation's `Process.run()` on Linux reads 256 bytes past the end of a directory entry
///   while it lists `/proc/self/fd` (swift-corelibs-foundation#5472, not fixed in Swift 6.3.1).
///   When the entry ends a page, the test process crashes in `memcpy`: about one run of the main
///   suite in ten here.
/// - swift-subprocess keeps a child inside one async closure and hands its exit to the
///   cooperative pool. These fixtures start a router in one step of a test and kill or reap it
///   from synchronous code in another, and waiting there for the pool could wait for itself.
///
/// This uses `posix_spawn` and polls `waitpid`, so no call here depends on another thread. The
/// child starts with every descriptor above 2 closed, default signal handlers and an empty signal
/// mask, as a child of `Process` does.
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream {
        /// `/dev/null`.
        case null
        /// An open file (the caller's handle stays open).
        case file(FileHandle)
        /// The write end of a pipe the caller reads; the parent's copy is closed once the child runs,
        /// so the reader sees the end when the child exits. The child process keeps the pipe.
        case pipe(Pipe)
    }

    /// How the child ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
    }

    public let processIdentifier: pid_t
    private let termination = Mutex<Termination?>(nil)
    /// Held for the child's life: a freed `Pipe` closes its handles, and the child's next write
    /// to a closed pipe would end it with SIGPIPE.
    private let pipes: [Pipe]

    /// Starts `executable` with `arguments`; `environment` replaces this process's when given.
    public init(
        _ executable: URL,
        arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: URL? = nil,
        standardInput: Stream = .null,
        standardOutput: Stream = .null,
        standardError: Stream = .null
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (stream, target, readOnly) in [(standardInput, STDIN_FILENO, true), (standardOutput, STDOUT_FILENO, false), (standardError, STDERR_FILENO, false)] {
            switch stream {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", readOnly ? O_RDONLY : O_WRONLY, 0)
            case .file(let handle): posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
            case .pipe(let pipe):
                let end = readOnly ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                posix_spawn_file_actions_adddup2(&actions, end.fileDescriptor, target)
            }
        }
        try Self.check(Self.addCloseFrom(&actions, STDERR_FILENO + 1), "close the child's other descriptors")
        if let currentDirectory { try Self.check(Self.addChdir(&actions, currentDirectory.path), "set the child's directory") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t(), noSignals = sigset_t()
        sigfillset(&allSignals)
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = envp.map { posix_spawn(&pid, executable.path, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable.path, &actions, &attributes, argv, environ)
        try Self.check(status, "start \(executable.path)")
        processIdentifier = pid

        var pipes: [Pipe] = []
        for stream in [standardOutput, standardError] {
            if case .pipe(let pipe) = stream { try? pipe.fileHandleForWriting.close(); pipes.append(pipe) }
        }
        if case .pipe(let pipe) = standardInput { try? pipe.fileHandleForReading.close(); pipes.append(pipe) }
        self.pipes = pipes
    }

    /// How the child ended, or nil while it runs. Reaps it the first time it is seen ended.
    public var terminated: Termination? {
        termination.withLock { known in
            if let known { return known }
            var status: Int32 = 0
            guard waitpid(processIdentifier, &status, WNOHANG) == processIdentifier else { return nil }
            // The <sys/wait.h> macros are not imported: the low 7 bits are the signal, 0 for an exit.
            let signal = status & 0x7f
            known = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
            return known
        }
    }

    public var isRunning: Bool { terminated == nil }

    /// Blocks until the child has ended (polling every 10 ms) and says how.
    @discardableResult
    public func waitUntilExit() -> Termination {
        while true {
            if let terminated { return terminated }
            usleep(10_000)
        }
    }

    /// Blocks up to `timeout` for the child to end; how it ended, nil while it still runs.
    public func waitUntilExit(timeout: Duration) -> Termination? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let terminated { return terminated }
            usleep(10_000)
        }
        return terminated
    }

    /// Sends `signal` unless the child has already been reaped (its pid may be another's by then).
    public func send(_ signal: Int32) {
        termination.withLock { known in
            if known == nil { _ = Glibc.kill(processIdentifier, signal) }
        }
    }

    /// SIGKILL, then waits for the end.
    @discardableResult
    public func kill() -> Termination {
        send(SIGKILL)
        return waitUntilExit()
    }

    /// SIGTERM, then up to `timeout` for a graceful exit, SIGKILL after that.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(30)) -> Termination {
        send(SIGTERM)
        return waitUntilExit(timeout: timeout) ?? kill()
    }

    private static func check(_ status: Int32, _ action: String) throws {
        guard status == 0 else { throw ChildProcessError(action: action, errno: status) }
    }

    // glibc 2.34+ has these (Debian 12: 2.36), but its headers declare them only under
    // _GNU_SOURCE, which the Glibc module does not see.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    private static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ lowest: Int32) -> Int32 {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return ENOSYS }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)(actions, lowest)
    }

    private static func addChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) -> Int32 {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return ENOSYS }
        return path.withCString { unsafeBitCast(symbol, to: AddChdir.self)(actions, $0) }
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let action: String
    public let errno: Int32
    public var description: String { "could not \(action): \(String(cString: strerror(errno)))" }
}
