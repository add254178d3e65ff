import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One worker child process: its stdout read line by line against a
/// deadline (poll), its stderr kept (the tail: a trap's message), and how it
/// ended. Killed with SIGKILL when it runs past a deadline.
final class WorkerProcess {
    enum Read { case line(String), end, timeout }

    enum Ending: Equatable {
        case exited(Int32), signal(Int32)
        var text: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signal(let number): "was killed by \(WorkerProcess.signalName(number))"
            }
        }
    }

    private let process = Process()
    private let stdout = Pipe(), stderr = Pipe()
    private var buffer: [UInt8] = []
    private var stdoutOpen = true, stderrOpen = true
    private(set) var errorText: [UInt8] = []

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        // A crash is expected here: skip the Swift runtime's backtrace (slow, and it buries the trap's message).
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        try process.run()
    }

    /// The next line of stdout, the end of it, or `.timeout` at `deadline`.
    func next(deadline: Date) -> Read {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return .line(line)
            }
            if !stdoutOpen {
                guard buffer.isEmpty else {
                    defer { buffer.removeAll() }
                    return .line(String(decoding: buffer, as: UTF8.self))
                }
                return .end
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timeout }
            var fds = [pollfd(fd: stdout.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            if stderrOpen { fds.append(pollfd(fd: stderr.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000, 1000).rounded(.up)))
            guard ready > 0 else { continue }
            if fds[0].revents != 0 { stdoutOpen = drain(fds[0].fd, into: &buffer) }
            if fds.count > 1, fds[1].revents != 0 {
                stderrOpen = drain(fds[1].fd, into: &errorText)
                if errorText.count > 65536 { errorText.removeFirst(errorText.count - 65536) }
            }
        }
    }

    /// Reads what is there; false at end of file.
    private func drain(_ fd: Int32, into target: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 { target += chunk[..<count]; return true }
        return count < 0 && (errno == EINTR || errno == EAGAIN)
    }

    func kill() { if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) } }

    /// Waits for the process (after its stdout ended or it was killed).
    func wait() -> Ending {
        process.waitUntilExit()
        // Keep whatever stderr still holds (a trap's message comes last).
        while stderrOpen { stderrOpen = drain(stderr.fileHandleForReading.fileDescriptor, into: &errorText) }
        return process.terminationReason == .uncaughtSignal ? .signal(process.terminationStatus) : .exited(process.terminationStatus)
    }

    /// The last non-empty line the worker wrote to stderr, or the last
    /// "Fatal error" line of a Swift trap, which says why.
    var lastErrorLine: String? {
        let lines = String(decoding: errorText, as: UTF8.self).split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return (lines.last { $0.contains("Fatal error") } ?? lines.last).map(String.init)
    }

    static func signalName(_ number: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE",
                                      SIGTRAP: "SIGTRAP", SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGPIPE: "SIGPIPE", SIGSYS: "SIGSYS"]
        let description = strsignal(number).map { String(cString: $0) } ?? "signal"
        return "\(names[number] ?? "signal \(number)") (\(description))"
    }
}
