import LICFuzzSupport

// Decoding with ELIC (Elic2022Official's space-channel context) from checksum-valid files (see DecodeHarness).
let harness = DecodeHarness(.elic)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { harness.run(data, size) }
