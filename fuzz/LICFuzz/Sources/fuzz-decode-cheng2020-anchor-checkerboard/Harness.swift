import LICFuzzSupport

// Decoding with cheng2020-anchor-checkerboard from checksum-valid files (see DecodeHarness).
let harness = DecodeHarness(.cheng2020)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { harness.run(data, size) }
