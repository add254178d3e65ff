import CDNNL

/// The shape of a 2-D transposed convolution (PyTorch ConvTranspose2d):
/// input [batch, inChannels, inHeight, inWidth], weights
/// [inChannels, outChannels/groups, kernelHeight, kernelWidth], output
/// [batch, outChannels, outHeight, outWidth] with
/// outHeight = (inHeight - 1) * strideH - padTop - padBottom + kernelHeight + outputPaddingH.
/// The output padding adds rows at the bottom and columns at the right.
public struct TransposedConvGeometry: Hashable, Sendable {
    public var batch, inChannels, outChannels, inHeight, inWidth, kernelHeight, kernelWidth: Int
    public var strideH, strideW: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var outputPaddingH, outputPaddingW: Int
    public var groups: Int

    public var outHeight: Int { (inHeight - 1) * strideH - padTop - padBottom + kernelHeight + outputPaddingH }
    public var outWidth: Int { (inWidth - 1) * strideW - padLeft - padRight + kernelWidth + outputPaddingW }

    /// Throws `TensorError.shape` for a geometry that cannot exist (sizes or
    /// strides below 1, negative padding, output padding not below the
    /// stride, channels not divisible by groups, an empty output).
    public init(batch: Int, inChannels: Int, outChannels: Int, inHeight: Int, inWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                outputPaddingH: Int = 0, outputPaddingW: Int = 0, groups: Int = 1) throws {
        (self.batch, self.inChannels, self.outChannels, self.inHeight, self.inWidth) =
            (batch, inChannels, outChannels, inHeight, inWidth)
        (self.kernelHeight, self.kernelWidth, self.strideH, self.strideW) = (kernelHeight, kernelWidth, strideH, strideW)
        (self.padTop, self.padLeft, self.padBottom, self.padRight) = (padTop, padLeft, padBottom, padRight)
        (self.outputPaddingH, self.outputPaddingW, self.groups) = (outputPaddingH, outputPaddingW, groups)
        try validate()
    }

    /// Square kernel, one stride, symmetric padding.
    public init(batch: Int, inChannels: Int, outChannels: Int, inHeight: Int, inWidth: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0, groups: Int = 1) throws {
        try self.init(batch: batch, inChannels: inChannels, outChannels: outChannels, inHeight: inHeight, inWidth: inWidth,
                      kernelHeight: kernel, kernelWidth: kernel, strideH: stride, strideW: stride,
                      padTop: padding, padLeft: padding, padBottom: padding, padRight: padding,
                      outputPaddingH: outputPadding, outputPaddingW: outputPadding, groups: groups)
    }

    public func validate() throws(TensorError) {
        try ConvChecks.common(batch: batch, inChannels: inChannels, outChannels: outChannels, inHeight: inHeight,
                              inWidth: inWidth, kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideH: strideH,
                              strideW: strideW, pads: [padTop, padLeft, padBottom, padRight], groups: groups,
                              what: "transposed convolution")
        guard outputPaddingH >= 0, outputPaddingW >= 0, outputPaddingH < strideH, outputPaddingW < strideW else {
            throw TensorError.shape("transposed convolution: output padding \(outputPaddingH)x\(outputPaddingW) "
                                    + "must be non-negative and below the stride \(strideH)x\(strideW)")
        }
        guard outHeight >= 1, outWidth >= 1 else {
            throw TensorError.shape("transposed convolution: padding \(padTop),\(padLeft),\(padBottom),\(padRight) "
                                    + "leaves an empty output (\(outHeight)x\(outWidth))")
        }
    }

    public var inputCount: Int { batch * inChannels * inHeight * inWidth }
    public var weightCount: Int { inChannels * (outChannels / groups) * kernelHeight * kernelWidth }
    public var outputCount: Int { batch * outChannels * outHeight * outWidth }

    /// FLOPs of one pass: 2 * N * IC * IH * IW * (OC / groups) * KH * KW (every
    /// input pixel scattered through the whole kernel, taps cropped by the
    /// padding included).
    public var flops: Int { 2 * batch * inChannels * inHeight * inWidth * (outChannels / groups) * kernelHeight * kernelWidth }
}

/// 2-D transposed convolution on raw buffers through oneDNN deconvolution
/// primitives (plain contiguous NCHW float32). Forward equals
/// `Convolution.backwardData` of the convolution going the other way with the
/// same weight buffer; backward-data equals that convolution's forward.
public enum TransposedConvolution {
    /// dst = convTranspose(src, weights) + bias.
    /// - weights: [inC, outC/groups, kH, kW]; bias: [outC] or nil; dst: [N, outC, outH, outW] (overwritten).
    public static func forward(_ g: TransposedConvGeometry, src: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws {
        try g.validate()
        if ExactArithmetic.isEnabled { return try ExactConvolution.forward(g, src: src, weights: weights, bias: bias, dst: dst) }
        if let polyphase = PolyphaseDeconvolution(g) {
            return try polyphase.forward(src: src, weights: weights, bias: bias, dst: dst)
        }
        let shape = ConvPlanShape(g, pass: .forward, withBias: bias != nil)
        var inputs = [UnsafeRawPointer(src), UnsafeRawPointer(weights)]
        if let bias { inputs.append(UnsafeRawPointer(bias)) }
        try shape.run(inputs: inputs, outputs: [UnsafeMutableRawPointer(dst)])
    }

    /// diffSrc [N, inC, inH, inW] = gradient with respect to src (overwritten).
    public static func backwardData(_ g: TransposedConvGeometry, diffDst: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                    diffSrc: UnsafeMutablePointer<Float>) throws {
        try g.validate()
        let shape = ConvPlanShape(g, pass: .backwardData, withBias: false)
        try shape.run(inputs: [UnsafeRawPointer(diffDst), UnsafeRawPointer(weights)], outputs: [UnsafeMutableRawPointer(diffSrc)])
    }

    /// diffWeights [inC, outC/groups, kH, kW] and diffBias [outC] (optional) (overwritten).
    public static func backwardWeights(_ g: TransposedConvGeometry, src: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                       diffWeights: UnsafeMutablePointer<Float>, diffBias: UnsafeMutablePointer<Float>?) throws {
        try g.validate()
        let shape = ConvPlanShape(g, pass: .backwardWeights, withBias: diffBias != nil)
        var outputs = [UnsafeMutableRawPointer(diffWeights)]
        if let diffBias { outputs.append(UnsafeMutableRawPointer(diffBias)) }
        try shape.run(inputs: [UnsafeRawPointer(src), UnsafeRawPointer(diffDst)], outputs: outputs)
    }

    /// The oneDNN implementation chosen for a pass, for benchmarks and logs.
    static func implementation(_ g: TransposedConvGeometry, pass: ConvPass, withBias: Bool = false) throws -> String {
        try g.validate()
        return try ConvPlanShape(g, pass: pass, withBias: withBias).plan().implementation
    }
}
