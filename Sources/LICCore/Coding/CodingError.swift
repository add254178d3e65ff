/// Errors raised by the entropy coder (`CDFTable`, `RANSEncoder`, `RANSDecoder`).
///
/// Every message says what went wrong; stream errors also name the byte offset
/// in the coded stream at which the problem was detected.
public enum CodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A probability table could not be built (bad PMF or frequency list).
    case invalidTable(String)
    /// The coded bytes are truncated, corrupt or otherwise not a valid stream.
    case corruptStream(String)
    /// The caller passed inconsistent arguments (mismatched lengths, bad index, bad bit count).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidTable(let message): return "invalid table: \(message)"
        case .corruptStream(let message): return "corrupt stream: \(message)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        }
    }
}
