import CLIC
import LICPluginKit
#if canImport(Glibc)
import Glibc
#endif

/// The auxiliary source model q(x | x_hat) of the conditional-entropy
/// regularizer: a Gaussian per subpixel, discretized on the image's grid
/// (bins of width 1/(2^bits - 1) around each level, the end bins taking the
/// tails, so the levels' probabilities sum to 1), whose mean and scale a
/// small conv network predicts from x_hat:
///     [mu - x_hat, log sigma] = conv_L(act(... act(conv_1(x_hat) [+ masked conv(x)]) ...))
/// Layers: k x k convs, `hidden` channels, leaky ReLU (0.01) between them;
/// the last layer starts at zero weights with biases (0, log initialScale),
/// so q starts at N(x_hat, initialScale) and the mean is a residual on x_hat.
/// With `context`, a 5x5 mask-A convolution over x (the pixels before the
/// current one in raster order, no channel of the current pixel) joins the
/// first layer: the source-model counterpart of an autoregressive codec.
/// Parameters in group LIC_GROUP_REGULARIZER: "<i>.weight", "<i>.bias", "context.weight".
struct SourceModel {
    static let initialScale: Float = 0.05

    let layers: [ConvLayer]
    let last: (weight: Tensor, bias: Tensor)
    let context: (weight: Tensor, mask: Tensor)?
    let imageChannels: Int
    let kernel: Int
    let scaleBound: Float
    let halfBin: Float
    let host: Host

    init(imageChannels c: Int, hidden: Int, layers count: Int, kernel: Int, context: Bool, scaleBound: Float, bitDepth: Int,
         seed: UInt64, host: Host) throws {
        let group = LIC_GROUP_REGULARIZER
        layers = try (0..<(count - 1)).map { index in
            try ConvLayer(index: index, from: index == 0 ? c : hidden, to: hidden, kernel: kernel, stride: 1, transposed: false,
                          seed: seed, host: host, group: group)
        }
        let lastIn = count == 1 ? c : hidden
        last = (try host.parameter("\(count - 1).weight", shape: [2 * c, lastIn, kernel, kernel], group: group),
                try host.parameter("\(count - 1).bias", shape: [2 * c],
                                   values: [Float](repeating: 0, count: c) + [Float](repeating: logf(Self.initialScale), count: c),
                                   group: group))
        if context {
            let out = count == 1 ? 2 * c : hidden
            let weight = try host.parameter("context.weight", shape: [out, c, 5, 5], initializer: LIC_INIT_KAIMING_UNIFORM,
                                            a: Float(c * 25), seed: seed, group: group)
            // Mask A: rows above the centre, and the centre row left of the centre.
            let mask = (0..<(out * c)).flatMap { _ in (0..<25).map { Float($0 < 12 ? 1 : 0) } }
            self.context = (weight, try Tensor.values(mask, shape: [out, c, 5, 5], host: host))
        } else {
            self.context = nil
        }
        (imageChannels, self.kernel, self.scaleBound, self.host) = (c, kernel, scaleBound, host)
        halfBin = 0.5 / Float((1 << bitDepth) - 1)
    }

    /// The mean and scale of q for each subpixel.
    func parameters(x: Tensor, xHat: Tensor) throws -> (means: Tensor, scales: Tensor) {
        var h = xHat
        for (index, layer) in layers.enumerated() {
            h = try layer.apply(h)
            if index == 0, let context { h = try h + x.conv2d(context.weight, padding: 2, mask: context.mask) }
            h = try h.leakyRelu()
        }
        var out = try h.conv2d(last.weight, bias: last.bias, padding: kernel / 2)
        if layers.isEmpty, let context { out = try out + x.conv2d(context.weight, padding: 2, mask: context.mask) }
        let c = imageChannels
        let means = try xHat + out.sliced(axis: 1, start: 0, length: c)
        let scales = try out.sliced(axis: 1, start: c, length: c).exp().lowerBounded(scaleBound)
        return (means, scales)
    }

    /// -log2 q(x | x_hat) per subpixel (x's shape), on the tape through x_hat and the network.
    func bits(x: Tensor, xHat: Tensor) throws -> Tensor {
        let shape = try x.shape
        guard shape.count == 4, shape[1] == imageChannels, try xHat.shape == shape else {
            throw PluginError(.invalidArgument,
                              "\(ConditionalEntropyRegularizer.id): x \(shape) and x_hat \(try xHat.shape) must both be [N, \(imageChannels), H, W]")
        }
        let (means, scales) = try parameters(x: x, xHat: xHat)
        // Which bin each x is in, from the data alone (no gradient): the
        // lowest level's bin reaches down to -inf, the highest's up to +inf.
        let values = try x.floats()
        let top = 1 - halfBin
        let interior = values.map { Float($0 > halfBin && $0 < top ? 1 : 0) }
        let sign = values.map { Float($0 <= halfBin ? 1 : $0 >= top ? -1 : 0) }
        let d = try x.detached() - means
        // Interior: Phi((h - |d|)/s) - Phi((-h - |d|)/s) (both in the lower
        // tail, so the difference keeps its precision); lowest level:
        // Phi((h + d)/s); highest: Phi((h - d)/s). One expression:
        // Phi((h - interior*|d| + sign*d)/s) - interior * Phi((-h - |d|)/s).
        let interiorMask = try Tensor.values(interior, shape: shape, host: host)
        let signMask = try Tensor.values(sign, shape: shape, host: host)
        let magnitude = try d.abs()
        let upper = try (((interiorMask * magnitude) * -1 + signMask * d + halfBin) / scales).gaussianCDF()
        let lower = try (((magnitude * -1) - halfBin) / scales).gaussianCDF()
        let probability = try (upper - interiorMask * lower).lowerBounded(1e-9)
        return try probability.log() * Float(-1 / M_LN2)
    }
}
