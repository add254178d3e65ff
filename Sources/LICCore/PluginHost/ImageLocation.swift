import CLicPlatform
import Foundation

/// Finds the file this code was loaded from, with dladdr on a function of
/// ours: the `lic` executable, or liblicembed.so inside an embedding program.
enum ImageLocation {
    private static let marker: @convention(c) () -> Void = {}

    static func directoryOfThisImage() -> String? {
        let address = unsafeBitCast(marker, to: UnsafeRawPointer.self)
        guard let name = lic_image_path_containing(address) else { return nil }
        var path = String(cString: name)
        if !path.hasPrefix("/") {
            // The main executable may be reported by its argv[0]; /proc knows better.
            path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? path
        }
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}
