import Foundation

/// The bytes libFuzzer hands to LLVMFuzzerTestOneInput, as an array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Reports a finding - an input that broke one of the harness's checks - the
/// way libFuzzer records it: the message on stderr, then an abort, which
/// libFuzzer catches, saving the input under fuzz/.work/artifacts.
public func reportFinding(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz finding: \(message)\n".utf8))
    abort()
}

/// A harness that cannot set itself up (not a finding): the reason, exit status 2.
public func setupFailed(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fuzz harness setup failed: \(message)\n".utf8))
    exit(2)
}
