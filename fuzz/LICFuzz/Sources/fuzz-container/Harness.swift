import LICCore
import LICFuzzSupport

// Container parsing, on the bytes as given and with repaired checksums. A
// container that parses must serialize back to exactly the same bytes (the
// format has one encoding of each value), and its limits must hold.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var bytes = fuzzBytes(data, size)
    check(bytes)
    ContainerRepair.repair(&bytes)
    check(bytes)
    return 0
}

func check(_ bytes: [UInt8]) {
    guard let container = try? Container(parsing: bytes) else { return }
    guard (1...Container.maxSide).contains(container.width), (1...Container.maxSide).contains(container.height),
          container.width * container.height <= Container.maxPixels, container.streams.count <= Container.maxStreams else {
        reportFinding("parsed a container outside the format's limits: \(container.width)x\(container.height), \(container.streams.count) streams")
    }
    guard let again = try? container.serialized(), again == bytes else {
        reportFinding("a parsed container does not serialize back to its bytes")
    }
}
