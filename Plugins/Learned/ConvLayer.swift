import CLIC
import LICPluginKit

/// One convolution (or transposed convolution) with bias, registered as
/// "<prefix><index>.weight" / "<prefix><index>.bias" with PyTorch's default initialization
/// U(-1/sqrt(fan_in), ...) (a transposed conv's fan_in is out * k * k).
/// Padding k/2; a transposed conv adds output padding stride - 1, so
/// stride s maps H to H*s exactly (CompressAI's conv / deconv helpers).
struct ConvLayer {
    let weight: Tensor
    let bias: Tensor
    let kernel: Int
    let stride: Int
    let transposed: Bool
    let inChannels: Int
    let outChannels: Int

    init(index: Int, from cin: Int, to cout: Int, kernel: Int, stride: Int, transposed: Bool, seed: UInt64, host: Host,
         group: lic_parameter_group = LIC_GROUP_MAIN, prefix: String = "") throws {
        try self.init(name: "\(prefix)\(index)", from: cin, to: cout, kernel: kernel, stride: stride, transposed: transposed,
                      seed: seed, host: host, group: group)
    }

    /// Registered as "<name>.weight" / "<name>.bias".
    init(name: String, from cin: Int, to cout: Int, kernel: Int, stride: Int, transposed: Bool = false, seed: UInt64, host: Host,
         group: lic_parameter_group = LIC_GROUP_MAIN) throws {
        let fanIn = Float((transposed ? cout : cin) * kernel * kernel)
        let shape = transposed ? [cin, cout, kernel, kernel] : [cout, cin, kernel, kernel]
        // The host mixes the parameter's full name into the seed, so layers never share initial values.
        weight = try host.parameter("\(name).weight", shape: shape, initializer: LIC_INIT_KAIMING_UNIFORM, a: fanIn, seed: seed,
                                    group: group)
        bias = try host.parameter("\(name).bias", shape: [cout], initializer: LIC_INIT_KAIMING_UNIFORM, a: fanIn, seed: seed,
                                  group: group)
        (self.kernel, self.stride, self.transposed, inChannels, outChannels) = (kernel, stride, transposed, cin, cout)
    }

    func apply(_ x: Tensor) throws -> Tensor {
        transposed
            ? try x.convTranspose2d(weight, bias: bias, stride: stride, padding: kernel / 2, outputPadding: stride - 1)
            : try x.conv2d(weight, bias: bias, stride: stride, padding: kernel / 2)
    }
}
