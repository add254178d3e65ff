/// A failure with a one-line message for users; the message names the file,
/// line, key or byte offset at fault where there is one.
public struct LICError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// The failure is a plugin breaking the ABI's rules (the error sink, a
    /// missing or misshapen result), not a refusal it reported properly:
    /// `lic plugins --check` tells the two apart.
    public var brokenRule = false
    public init(_ message: String, brokenRule: Bool = false) { (self.message, self.brokenRule) = (message, brokenRule) }
    public var description: String { message }
}
