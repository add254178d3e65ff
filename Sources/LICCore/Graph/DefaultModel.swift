import Foundation

/// The learned model `lic encode` uses when neither --model nor --pipeline
/// is given: LIC_DEFAULT_MODEL (a model directory) if set, else the shipped
/// `models/default` of the checkout the executable was built in (searched
/// upwards from it: .build/<triple>/release/lic), else an installed
/// PREFIX/share/lic/models/default. Without one, the classical pipeline.
public enum DefaultModel {
    public static let environmentKey = "LIC_DEFAULT_MODEL"
    static let relativePath = "models/default"

    /// The default model's directory, nil when none is found.
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let given = environment[environmentKey], !given.isEmpty {
            guard isModel(given) else {
                throw LICError("\(environmentKey)=\(given): not a model directory (no \(Codec.descriptorFile) and \(Codec.weightsFile))")
            }
            return given
        }
        guard let image = ImageLocation.directoryOfThisImage() else { return nil }
        var directory = URL(fileURLWithPath: image)
        for _ in 0..<5 {
            for candidate in [relativePath, "share/lic/" + relativePath] {
                let path = directory.appendingPathComponent(candidate).path
                if isModel(path) { return path }
            }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    static func isModel(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + Codec.descriptorFile)
            && FileManager.default.fileExists(atPath: path + "/" + Codec.weightsFile)
    }

    /// The default model, or nil when none is found.
    public static func load() throws -> Codec? {
        try directory().map(Codec.load(directory:))
    }
}
