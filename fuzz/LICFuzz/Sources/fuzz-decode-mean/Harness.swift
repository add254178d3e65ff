import LICFuzzSupport

// Decoding with the mean pipeline from checksum-valid files (see DecodeHarness).
let harness = DecodeHarness(.mean)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { harness.run(data, size) }
