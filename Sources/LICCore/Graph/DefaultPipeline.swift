/// The pipeline `lic encode` uses when none is named: the same text as
/// examples/pipelines/classical-dct.toml (a test keeps the two identical).
public enum DefaultPipeline {
    public static let name = "classical-dct.toml"
    public static let text = """
# The classical codec: 8x8 block DCT in YCbCr, a uniform quantizer, and one
# discretized Laplacian per DCT band. Needs no training; it is the default
# pipeline until a learned model ships. Change `step` to trade size for
# quality (smaller step: larger file, higher PSNR).
format = 1
name = "classical-dct"

[analysis]
plugin = "lic.transform.dct"
block = 8
color = "ycbcr"

[quantizer]
plugin = "lic.quantizer.uniform"
step = 0.05

[entropy]
plugin = "lic.entropy.laplace"

[synthesis]
plugin = "lic.transform.dct"
block = 8
color = "ycbcr"
inverse = true

"""

    public static func descriptor() throws -> PipelineDescriptor {
        try PipelineDescriptor.parse(text, source: "<default pipeline \(name)>", baseDirectory: nil)
    }
}
