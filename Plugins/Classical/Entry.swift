import CLIC
import LICPluginKit

/// The classical codec's components: needs no training, proves the spine.
@c public func lic_plugin_entry(_ abi: UInt32, _ host: UnsafePointer<lic_host_services>?) -> UnsafePointer<lic_plugin_library>? {
    PluginLibrary.entry(abi: abi, host: host, name: "LIC classical codec", components: [
        .transform(BlockDCT.self, id: "lic.transform.dct",
                   description: "Block DCT-II (orthonormal) with optional YCbCr; bands become channels",
                   params: BlockDCT.schema),
        .trainableQuantizer(UniformQuantizer.self, id: "lic.quantizer.uniform",
                   description: "Uniform scalar quantizer: q = round((x - mean) / step)",
                   params: UniformQuantizer.schema),
        .entropyModel(LaplaceBands.self, id: "lic.entropy.laplace",
                      description: "Parametric per channel: a discretized Laplacian picked from a scale table per channel",
                      params: LaplaceBands.schema),
    ])
}
