/// Errors thrown by the tensor engine.
///
/// An enum so callers can switch on the kind; the associated string says what
/// went wrong in words (for `backend`, it names the oneDNN call that failed).
public enum TensorError: Error, CustomStringConvertible, Sendable {
    /// Shapes that do not fit together or cannot exist (negative sizes,
    /// channels not divisible by groups, a kernel larger than the padded input).
    case shape(String)
    /// The compute backend (oneDNN) failed; the message names the call.
    case backend(String)
    /// An argument outside its allowed range.
    case invalidArgument(String)
    /// The system refused the memory (a tensor's storage, within the element limit).
    case outOfMemory(String)

    public var description: String {
        switch self {
        case .shape(let message): return "shape error: \(message)"
        case .backend(let message): return "backend error: \(message)"
        case .invalidArgument(let message): return "invalid argument: \(message)"
        case .outOfMemory(let message): return "out of memory: \(message)"
        }
    }
}
