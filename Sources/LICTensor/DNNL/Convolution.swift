import CDNNL

/// The shape of a 2-D convolution: input [batch, inChannels, inHeight, inWidth]
/// (NCHW), weights [outChannels, inChannels/groups, kernelHeight, kernelWidth]
/// (PyTorch layout), output [batch, outChannels, outHeight, outWidth].
/// Padding may be asymmetric (top/left before, bottom/right after).
public struct ConvGeometry: Hashable, Sendable {
    public var batch, inChannels, outChannels, inHeight, inWidth, kernelHeight, kernelWidth: Int
    public var strideH, strideW: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var groups: Int

    /// (inHeight + padTop + padBottom - kernelHeight) / strideH + 1
    public var outHeight: Int { (inHeight + padTop + padBottom - kernelHeight) / strideH + 1 }
    /// (inWidth + padLeft + padRight - kernelWidth) / strideW + 1
    public var outWidth: Int { (inWidth + padLeft + padRight - kernelWidth) / strideW + 1 }

    /// Throws `TensorError.shape` for a geometry that cannot exist: sizes or
    /// strides below 1, negative padding, channels not divisible by groups, a
    /// kernel larger than the padded input.
    public init(batch: Int, inChannels: Int, outChannels: Int, inHeight: Int, inWidth: Int,
                kernelHeight: Int, kernelWidth: Int, strideH: Int = 1, strideW: Int = 1,
                padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                groups: Int = 1) throws {
        (self.batch, self.inChannels, self.outChannels, self.inHeight, self.inWidth) =
            (batch, inChannels, outChannels, inHeight, inWidth)
        (self.kernelHeight, self.kernelWidth, self.strideH, self.strideW) = (kernelHeight, kernelWidth, strideH, strideW)
        (self.padTop, self.padLeft, self.padBottom, self.padRight, self.groups) = (padTop, padLeft, padBottom, padRight, groups)
        try validate()
    }

    /// Square kernel, one stride, symmetric padding.
    public init(batch: Int, inChannels: Int, outChannels: Int, inHeight: Int, inWidth: Int,
                kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1) throws {
        try self.init(batch: batch, inChannels: inChannels, outChannels: outChannels, inHeight: inHeight, inWidth: inWidth,
                      kernelHeight: kernel, kernelWidth: kernel, strideH: stride, strideW: stride,
                      padTop: padding, padLeft: padding, padBottom: padding, padRight: padding, groups: groups)
    }

    /// Checks the geometry (the fields are public and mutable, so every
    /// operation checks again).
    public func validate() throws(TensorError) {
        try ConvChecks.common(batch: batch, inChannels: inChannels, outChannels: outChannels, inHeight: inHeight,
                              inWidth: inWidth, kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideH: strideH,
                              strideW: strideW, pads: [padTop, padLeft, padBottom, padRight], groups: groups, what: "convolution")
        guard inHeight + padTop + padBottom >= kernelHeight, inWidth + padLeft + padRight >= kernelWidth else {
            throw TensorError.shape("convolution: kernel \(kernelHeight)x\(kernelWidth) is larger than the padded input "
                                    + "\(inHeight + padTop + padBottom)x\(inWidth + padLeft + padRight)")
        }
    }

    /// Elements of the input, weights and output.
    public var inputCount: Int { batch * inChannels * inHeight * inWidth }
    public var weightCount: Int { outChannels * (inChannels / groups) * kernelHeight * kernelWidth }
    public var outputCount: Int { batch * outChannels * outHeight * outWidth }

    /// Floating-point operations of one pass (multiply and add counted
    /// separately): 2 * N * OC * OH * OW * (IC / groups) * KH * KW. Forward,
    /// backward-data and backward-weights each do this many (the bias and its
    /// gradient add N * OC * OH * OW, not counted).
    public var flops: Int { 2 * batch * outChannels * outHeight * outWidth * (inChannels / groups) * kernelHeight * kernelWidth }
}

enum ConvChecks {
    static func common(batch: Int, inChannels: Int, outChannels: Int, inHeight: Int, inWidth: Int,
                       kernelHeight: Int, kernelWidth: Int, strideH: Int, strideW: Int, pads: [Int], groups: Int,
                       what: String) throws(TensorError) {
        guard batch >= 1, inChannels >= 1, outChannels >= 1, inHeight >= 1, inWidth >= 1 else {
            throw TensorError.shape("\(what): sizes must be at least 1 (batch \(batch), channels \(inChannels)->\(outChannels), "
                                    + "input \(inHeight)x\(inWidth))")
        }
        guard kernelHeight >= 1, kernelWidth >= 1 else {
            throw TensorError.shape("\(what): kernel \(kernelHeight)x\(kernelWidth) must be at least 1x1")
        }
        guard strideH >= 1, strideW >= 1 else { throw TensorError.shape("\(what): stride \(strideH)x\(strideW) must be at least 1") }
        guard pads.allSatisfy({ $0 >= 0 }) else { throw TensorError.shape("\(what): negative padding \(pads) (top, left, bottom, right)") }
        guard groups >= 1, inChannels % groups == 0, outChannels % groups == 0 else {
            throw TensorError.shape("\(what): \(inChannels) input and \(outChannels) output channels are not divisible into \(groups) groups")
        }
    }
}

/// 2-D convolution on raw buffers through oneDNN (plain contiguous NCHW float32).
///
/// Cost: forward, backward-data and backward-weights each take
/// `2 * N * OC * OH * OW * (IC / groups) * KH * KW` FLOPs (`ConvGeometry.flops`);
/// e.g. 192 -> 192 channels, 5x5, stride 2, padding 2 on 1x192x128x128:
/// 2 * 192 * 64 * 64 * 192 * 25 = 7.55 GFLOP per pass.
///
/// Internally the primitive picks blocked layouts (`format_tag_any`: nChw8c /
/// nChw16c with AVX2 / AVX-512); inputs are reordered in and outputs out on
/// every call. Primitives, reorders and the blocked buffers are cached per
/// geometry and thread count. Results are bit-identical run to run for the
/// same geometry and thread count.
public enum Convolution {
    /// dst = conv(src, weights) + bias.
    /// - weights: [outC, inC/groups, kH, kW]; bias: [outC] or nil; dst: [N, outC, outH, outW] (overwritten).
    public static func forward(_ g: ConvGeometry, src: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, dst: UnsafeMutablePointer<Float>) throws {
        try g.validate()
        if ExactArithmetic.isEnabled { return try ExactConvolution.forward(g, src: src, weights: weights, bias: bias, dst: dst) }
        let shape = ConvPlanShape(g, pass: .forward, withBias: bias != nil)
        var inputs = [UnsafeRawPointer(src), UnsafeRawPointer(weights)]
        if let bias { inputs.append(UnsafeRawPointer(bias)) }
        try shape.run(inputs: inputs, outputs: [UnsafeMutableRawPointer(dst)])
    }

    /// diffSrc = gradient of the forward pass with respect to src (overwritten).
    public static func backwardData(_ g: ConvGeometry, diffDst: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                                    diffSrc: UnsafeMutablePointer<Float>) throws {
        try g.validate()
        let shape = ConvPlanShape(g, pass: .backwardData, withBias: false)
        try shape.run(inputs: [UnsafeRawPointer(diffDst), UnsafeRawPointer(weights)], outputs: [UnsafeMutableRawPointer(diffSrc)])
    }

    /// diffWeights (and diffBias, the sum of diffDst over N, H, W) = gradients of
    /// the forward pass with respect to the weights and bias (overwritten).
    public static func backwardWeights(_ g: ConvGeometry, src: UnsafePointer<Float>, diffDst: UnsafePointer<Float>,
                                       diffWeights: UnsafeMutablePointer<Float>, diffBias: UnsafeMutablePointer<Float>?) throws {
        try g.validate()
        let shape = ConvPlanShape(g, pass: .backwardWeights, withBias: diffBias != nil)
        var outputs = [UnsafeMutableRawPointer(diffWeights)]
        if let diffBias { outputs.append(UnsafeMutableRawPointer(diffBias)) }
        try shape.run(inputs: [UnsafeRawPointer(src), UnsafeRawPointer(diffDst)], outputs: outputs)
    }

    /// The oneDNN implementation chosen for a pass (e.g. "jit:avx512_common"), for benchmarks and logs.
    static func implementation(_ g: ConvGeometry, pass: ConvPass, withBias: Bool = false) throws -> String {
        try g.validate()
        return try ConvPlanShape(g, pass: pass, withBias: withBias).plan().implementation
    }
}

// MARK: - Shared by convolution and transposed convolution

enum ConvPass: Hashable, Sendable { case forward, backwardData, backwardWeights }

/// A convolution or deconvolution pass as oneDNN sees it: "src" is the
/// forward input, "dst" the forward output; weights are (OC, IC, KH, KW), or
/// (G, OC/G, IC/G, KH, KW) with groups.
struct ConvPlanShape: Hashable, Sendable {
    var deconvolution: Bool
    var pass: ConvPass
    var withBias: Bool
    var batch, srcChannels, dstChannels, srcHeight, srcWidth, dstHeight, dstWidth: Int
    var kernelHeight, kernelWidth, strideH, strideW: Int
    /// oneDNN padding; for deconvolution the right padding may be negative (output padding).
    var padTop, padLeft, padBottom, padRight: Int
    var groups: Int

    init(_ g: ConvGeometry, pass: ConvPass, withBias: Bool) {
        deconvolution = false
        self.pass = pass
        self.withBias = withBias
        (batch, srcChannels, dstChannels, srcHeight, srcWidth, dstHeight, dstWidth) =
            (g.batch, g.inChannels, g.outChannels, g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        (kernelHeight, kernelWidth, strideH, strideW) = (g.kernelHeight, g.kernelWidth, g.strideH, g.strideW)
        (padTop, padLeft, padBottom, padRight, groups) = (g.padTop, g.padLeft, g.padBottom, g.padRight, g.groups)
    }

    init(_ g: TransposedConvGeometry, pass: ConvPass, withBias: Bool) {
        deconvolution = true
        self.pass = pass
        self.withBias = withBias
        (batch, srcChannels, dstChannels, srcHeight, srcWidth, dstHeight, dstWidth) =
            (g.batch, g.inChannels, g.outChannels, g.inHeight, g.inWidth, g.outHeight, g.outWidth)
        (kernelHeight, kernelWidth, strideH, strideW) = (g.kernelHeight, g.kernelWidth, g.strideH, g.strideW)
        // oneDNN: OH = (IH - 1) * SH - padL - padR + KH, so the output padding
        // (extra rows at the bottom / columns at the right) lowers padR, as
        // PyTorch does for its own oneDNN path.
        (padTop, padLeft, padBottom, padRight, groups) =
            (g.padTop, g.padLeft, g.padBottom - g.outputPaddingH, g.padRight - g.outputPaddingW, g.groups)
    }

    func plan() throws(TensorError) -> DNNLPlan {
        let context = try DNNLContext.shared()
        let threads = Threads.applyToCurrentThread()
        return try context.plan(deconvolution ? "deconvolution" : "convolution", self, threads: threads) { () throws(TensorError) in
            try makePlan(context)
        }
    }

    func run(inputs: [UnsafeRawPointer], outputs: [UnsafeMutableRawPointer]) throws(TensorError) {
        let context = try DNNLContext.shared()
        try plan().run(context, inputs: inputs, outputs: outputs)
    }

    private func makePlan(_ context: DNNLContext) throws(TensorError) -> DNNLPlan {
        let engine = context.engine
        let srcDims = [batch, srcChannels, srcHeight, srcWidth]
        let dstDims = [batch, dstChannels, dstHeight, dstWidth]
        let weightDims = groups == 1
            ? [dstChannels, srcChannels, kernelHeight, kernelWidth]
            : [groups, dstChannels / groups, srcChannels / groups, kernelHeight, kernelWidth]
        // The caller's weights: convolution [OC, IC/G, KH, KW] is oihw / goihw
        // (row-major in oneDNN's logical order); ConvTranspose2d
        // [IC, OC/G, KH, KW] is iohw / giohw (per group, input channels outer).
        let plainWeights = deconvolution
            ? try DNNLMemory.desc(weightDims, groups == 1 ? dnnl_iohw : dnnl_giohw)
            : try DNNLMemory.plain(weightDims)
        let plainSrc = try DNNLMemory.plain(srcDims), plainDst = try DNNLMemory.plain(dstDims)
        var anySrc = try DNNLMemory.any(srcDims), anyDst = try DNNLMemory.any(dstDims)
        var anyWeights = try DNNLMemory.any(weightDims)
        var bias = try DNNLMemory.plain([dstChannels])
        let strides = DNNLMemory.dims([strideH, strideW])
        let padL = DNNLMemory.dims([padTop, padLeft]), padR = DNNLMemory.dims([padBottom, padRight])
        let kind = deconvolution ? "deconvolution" : "convolution"
        let algorithm = deconvolution ? dnnl_deconvolution_direct : dnnl_convolution_direct
        let forwardInit = deconvolution ? dnnl_deconvolution_forward_desc_init : dnnl_convolution_forward_desc_init
        let name = "\(kind) \(pass) \(srcChannels)->\(dstChannels) k\(kernelHeight)x\(kernelWidth) s\(strideH)x\(strideW) g\(groups)"

        // The forward descriptor: the forward pass itself, or the hint for a backward one.
        var forwardDesc = dnnl_convolution_desc_t()
        let forwardBias = withBias && pass != .backwardData
        try withUnsafeMutablePointer(to: &bias) { (biasPointer) throws(TensorError) in
            try dnnlCheck(forwardInit(&forwardDesc, dnnl_forward_training, algorithm, &anySrc, &anyWeights,
                                      forwardBias ? UnsafePointer(biasPointer) : nil, &anyDst, strides, padL, padR),
                          "dnnl_\(kind)_forward_desc_init")
        }
        let forwardPD = try DNNLPrimitiveDesc(opDesc: &forwardDesc, engine: engine, hint: nil, what: "\(kind) forward")

        switch pass {
        case .forward:
            var arguments = [
                try DNNLArgument(DNNL_ARG_SRC, .input, plain: plainSrc,
                                 chosen: forwardPD.memoryDesc(dnnl_query_src_md, 0, "src"), engine: engine),
                try DNNLArgument(DNNL_ARG_WEIGHTS, .input, plain: plainWeights,
                                 chosen: forwardPD.memoryDesc(dnnl_query_weights_md, 0, "weights"), engine: engine),
            ]
            if withBias {
                arguments.append(try DNNLArgument(DNNL_ARG_BIAS, .input, plain: bias,
                                                  chosen: forwardPD.memoryDesc(dnnl_query_weights_md, 1, "bias"), engine: engine))
            }
            arguments.append(try DNNLArgument(DNNL_ARG_DST, .output, plain: plainDst,
                                              chosen: forwardPD.memoryDesc(dnnl_query_dst_md, 0, "dst"), engine: engine))
            return try DNNLPlan(name: name, pd: forwardPD, keep: [], arguments: arguments)

        case .backwardData:
            var desc = dnnl_convolution_desc_t()
            let initData = deconvolution ? dnnl_deconvolution_backward_data_desc_init : dnnl_convolution_backward_data_desc_init
            try dnnlCheck(initData(&desc, algorithm, &anySrc, &anyWeights, &anyDst, strides, padL, padR),
                          "dnnl_\(kind)_backward_data_desc_init")
            let pd = try DNNLPrimitiveDesc(opDesc: &desc, engine: engine, hint: forwardPD, what: "\(kind) backward data")
            let arguments = [
                try DNNLArgument(DNNL_ARG_DIFF_DST, .input, plain: plainDst,
                                 chosen: pd.memoryDesc(dnnl_query_diff_dst_md, 0, "diff_dst"), engine: engine),
                try DNNLArgument(DNNL_ARG_WEIGHTS, .input, plain: plainWeights,
                                 chosen: pd.memoryDesc(dnnl_query_weights_md, 0, "weights"), engine: engine),
                try DNNLArgument(DNNL_ARG_DIFF_SRC, .output, plain: plainSrc,
                                 chosen: pd.memoryDesc(dnnl_query_diff_src_md, 0, "diff_src"), engine: engine),
            ]
            return try DNNLPlan(name: name, pd: pd, keep: [forwardPD], arguments: arguments)

        case .backwardWeights:
            var desc = dnnl_convolution_desc_t()
            let initWeights = deconvolution
                ? dnnl_deconvolution_backward_weights_desc_init : dnnl_convolution_backward_weights_desc_init
            try withUnsafeMutablePointer(to: &bias) { (biasPointer) throws(TensorError) in
                try dnnlCheck(initWeights(&desc, algorithm, &anySrc, &anyWeights, withBias ? UnsafePointer(biasPointer) : nil,
                                          &anyDst, strides, padL, padR),
                              "dnnl_\(kind)_backward_weights_desc_init")
            }
            let pd = try DNNLPrimitiveDesc(opDesc: &desc, engine: engine, hint: forwardPD, what: "\(kind) backward weights")
            var arguments = [
                try DNNLArgument(DNNL_ARG_SRC, .input, plain: plainSrc,
                                 chosen: pd.memoryDesc(dnnl_query_src_md, 0, "src"), engine: engine),
                try DNNLArgument(DNNL_ARG_DIFF_DST, .input, plain: plainDst,
                                 chosen: pd.memoryDesc(dnnl_query_diff_dst_md, 0, "diff_dst"), engine: engine),
                try DNNLArgument(DNNL_ARG_DIFF_WEIGHTS, .output, plain: plainWeights,
                                 chosen: pd.memoryDesc(dnnl_query_diff_weights_md, 0, "diff_weights"), engine: engine),
            ]
            if withBias {
                arguments.append(try DNNLArgument(DNNL_ARG_DIFF_BIAS, .output, plain: bias,
                                                  chosen: pd.memoryDesc(dnnl_query_diff_weights_md, 1, "diff_bias"), engine: engine))
            }
            return try DNNLPlan(name: name, pd: pd, keep: [forwardPD], arguments: arguments)
        }
    }
}
