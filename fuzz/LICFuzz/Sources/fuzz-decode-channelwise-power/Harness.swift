import LICFuzzSupport

// Decoding with the channel-wise pipeline from checksum-valid files (see DecodeHarness).
let harness = DecodeHarness(.channelwise)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { harness.run(data, size) }
