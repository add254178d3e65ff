import CLIC
import Foundation

/// Every component the process has loaded. Process-wide because libraries
/// are resident: loading the same file twice is a no-op, and a library that
/// offers an id already registered (by a library earlier in the search
/// order) is refused whole.
public final class PluginRegistry: @unchecked Sendable {
    public static let shared = PluginRegistry()

    public struct Refusal: Sendable { public var path: String; public var reason: String }

    struct Entry {
        var info: ComponentInfo
        var descriptor: UnsafePointer<lic_component_descriptor>
    }

    private let lock = NSLock()
    /// Serialises whole library loads (check, open, entry, register).
    private let loadLock = NSLock()
    private var components: [String: Entry] = [:]
    private var order: [String] = []
    private var loadedPaths: Set<String> = []
    private var refusedPaths: [String: String] = [:]

    /// Libraries refused while scanning directories (explicit ones throw instead).
    public private(set) var refusals: [Refusal] = []

    public var allComponents: [ComponentInfo] {
        lock.withLock { order.compactMap { components[$0]?.info } }
    }

    func entry(_ id: String) -> Entry? { lock.withLock { components[id] } }

    public func component(_ id: String) -> ComponentInfo? { entry(id)?.info }

    /// Loads every library the search path names, in order.
    public func load(_ searchPath: PluginSearchPath) throws {
        for location in searchPath.locations {
            switch location {
            case .library(let path): try loadLibrary(at: path)
            case .directory(let path, let pattern): loadDirectory(path, pattern: pattern)
            }
        }
    }

    /// Loads one library; throws a message naming the file and the reason.
    public func loadLibrary(at path: String) throws {
        loadLock.lock()
        defer { loadLock.unlock() }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if let reason = lock.withLock({ refusedPaths[resolved] }) { throw LICError("plugin \(path): \(reason)") }
        if lock.withLock({ loadedPaths.contains(resolved) }) { return }
        do {
            try register(resolved)
        } catch let error as LICError {
            lock.withLock { refusedPaths[resolved] = error.message }
            throw LICError("plugin \(path): \(error.message)")
        }
    }

    private func loadDirectory(_ directory: String, pattern: PluginSearchPath.FilePattern) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names.sorted() where pattern.matches(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                try loadLibrary(at: path)
            } catch {
                lock.withLock { refusals.append(Refusal(path: path, reason: "\(error)")) }
            }
        }
    }

    private func register(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw LICError("no such file") }
        let address = try DynamicLibrary.openAndResolve(path: path, symbol: LIC_PLUGIN_ENTRY_SYMBOL)
        let entryFunction = unsafeBitCast(address, to: lic_plugin_entry_fn.self)
        // The entry runs once per library, serialised by the registry lock.
        try lock.withLock {
            guard let entry = entryFunction(LIC_ABI_VERSION, HostServices.table) else {
                throw LICError("the plugin declined ABI \(LIC_ABI_VERSION_MAJOR).\(LIC_ABI_VERSION_MINOR) (its entry returned NULL)")
            }
            let library = try DescriptorReader.read(entry, path: path)
            var ids = Set<String>()
            for (info, _) in library.components {
                if let existing = components[info.id] {
                    throw LICError("component id '\(info.id)' is already provided by \(existing.info.libraryPath)")
                }
                guard ids.insert(info.id).inserted else { throw LICError("component id '\(info.id)' appears twice") }
            }
            for (info, descriptor) in library.components {
                components[info.id] = Entry(info: info, descriptor: descriptor)
                order.append(info.id)
            }
            loadedPaths.insert(path)
        }
    }
}
