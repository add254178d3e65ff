import CLIC

/// The error a Swift component throws; the SDK turns it (or any other Swift
/// error) into a status code and a message in the caller's lic_error.
public struct PluginError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable {
        case invalidArgument, outOfMemory, corruptData, unsupported, internalError

        var status: lic_status {
            switch self {
            case .invalidArgument: LIC_ERROR_INVALID_ARGUMENT
            case .outOfMemory: LIC_ERROR_OUT_OF_MEMORY
            case .corruptData: LIC_ERROR_CORRUPT_DATA
            case .unsupported: LIC_ERROR_UNSUPPORTED
            case .internalError: LIC_ERROR_INTERNAL
            }
        }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Runs `body`, converting a thrown error into a status and one report in `error`.
func reportingErrors(_ sink: UnsafeMutablePointer<lic_error>?, _ body: () throws -> Void) -> lic_status {
    do {
        try body()
        return LIC_OK
    } catch let failure as PluginError {
        return lic_error_set(sink, failure.code.status, failure.message)
    } catch let failure as HostCallError {
        return lic_error_set(sink, failure.status, failure.message)
    } catch {
        return lic_error_set(sink, LIC_ERROR_INTERNAL, "\(error)")
    }
}
