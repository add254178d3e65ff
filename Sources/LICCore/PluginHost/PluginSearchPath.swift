import Foundation

/// Where plugins are looked for, in order: paths named by a pipeline
/// descriptor (relative to it), then LIC_PLUGIN_PATH (colon-separated files
/// or directories), then the built-in directories beside the executable (or
/// beside liblicembed.so) and under its install prefix (lib/lic/plugins).
public struct PluginSearchPath: Sendable {
    public enum FilePattern: Sendable {
        /// Any shared library: directories the user names hold only plugins.
        case anyLibrary
        /// Only liblic-plugin-*.so: the build directory holds other libraries too.
        case builtinPlugins

        func matches(_ name: String) -> Bool {
            guard name.hasSuffix(".so") else { return false }
            return self == .anyLibrary || name.hasPrefix("liblic-plugin-")
        }
    }

    public enum Location: Sendable, Equatable {
        case library(String)
        case directory(String, FilePattern)
    }

    public var locations: [Location] = []

    public init(locations: [Location] = []) { self.locations = locations }

    /// The standard order, after `descriptorPaths` (already absolute).
    public static func standard(descriptorPaths: [String] = [],
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> PluginSearchPath {
        var path = PluginSearchPath()
        for entry in descriptorPaths { path.locations.append(location(entry)) }
        for entry in (environment["LIC_PLUGIN_PATH"] ?? "").split(separator: ":") where !entry.isEmpty {
            path.locations.append(location(String(entry)))
        }
        for directory in builtinDirectories() { path.locations.append(.directory(directory, .builtinPlugins)) }
        return path
    }

    static func location(_ path: String) -> Location {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        return exists && isDirectory.boolValue ? .directory(path, .anyLibrary) : .library(path)
    }

    /// The directory of the image (executable or shared library) holding this
    /// code, and <that>/../lib/lic/plugins for installed layouts.
    public static func builtinDirectories() -> [String] {
        guard let image = ImageLocation.directoryOfThisImage() else { return [] }
        let installed = URL(fileURLWithPath: image).deletingLastPathComponent()
            .appendingPathComponent("lib/lic/plugins").path
        return [image, installed]
    }
}
