import LICCore
import LICFuzzSupport

// The TOML parser and pipeline descriptors (as embedded in a file: no base
// directory, so `plugins` is refused). Errors are expected; traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    _ = try? TOMLParser.parse(text)
    _ = try? PipelineDescriptor.parse(text, source: "fuzz.toml", baseDirectory: nil)
    return 0
}
