import CLTDL
import Foundation

/// libltdl behind one lock: lt_dlerror is a single global, so every lt_*
/// call and the read of its error happen under `lock`. Libraries are opened
/// local (their symbols do not leak into others) and resident (never
/// unloaded: Swift libraries cannot be unloaded safely).
enum DynamicLibrary {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var initialized = false

    /// Opens the library at `path` (absolute) and returns the address of `symbol`.
    static func openAndResolve(path: String, symbol: String) throws -> UnsafeMutableRawPointer {
        lock.lock()
        defer { lock.unlock() }
        if !initialized {
            guard lt_dlinit() == 0 else { throw LICError("cannot initialise libltdl: \(lastError())") }
            initialized = true
        }
        var advise: lt_dladvise?
        guard lt_dladvise_init(&advise) == 0 else { throw LICError("libltdl: \(lastError())") }
        defer { lt_dladvise_destroy(&advise) }
        lt_dladvise_local(&advise)
        lt_dladvise_resident(&advise)
        guard let handle = lt_dlopenadvise(path, advise) else {
            throw LICError("cannot load \(path): \(lastError())")
        }
        guard let address = lt_dlsym(handle, symbol) else {
            throw LICError("\(path) is not a LIC plugin: it does not export \(symbol)")
        }
        return address
    }

    private static func lastError() -> String {
        lt_dlerror().map { String(cString: $0) } ?? "unknown error"
    }
}
