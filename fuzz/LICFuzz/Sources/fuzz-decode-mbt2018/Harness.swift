import LICFuzzSupport

// Decoding with the spatial autoregressive pipeline (wavefront decoding) from checksum-valid files (see DecodeHarness).
let harness = DecodeHarness(.autoregressive)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { harness.run(data, size) }
