/// A failure with a one-line message for users; the message names the file,
/// line, key or byte offset at fault where there is one.
public struct LICError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
