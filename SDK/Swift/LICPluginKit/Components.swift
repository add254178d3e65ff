import CLIC

/// "lic.transform/1": analysis (x -> y) or, with an inverse flag, synthesis.
public protocol TransformComponent: AnyObject {
    init(params: Params, host: Host) throws
    /// Spatial sizes of the input must be multiples of this; the host pads.
    var alignment: Int { get }
    func outputShape(for inputShape: [Int]) throws -> [Int]
    /// Fills `output` (shaped by outputShape) from `input`.
    func forward(_ input: TensorView, into output: TensorView) throws
}

/// "lic.transform/3": a differentiable transform on host tensors. Register
/// parameters with `host.parameter(...)` in `init` (the only time it is allowed);
/// the host records the tape of `apply`, so gradients reach them. `inputs`
/// are the stage's inputs in order (usually one).
public protocol DifferentiableTransformComponent: AnyObject {
    init(params: Params, host: Host) throws
    var alignment: Int { get }
    /// The output shape for the shape of the first input.
    func outputShape(for inputShape: [Int]) throws -> [Int]
    func apply(_ inputs: [Tensor], context: CallContext) throws -> Tensor
    /// How far, in input pixels, an output looks past the input region that
    /// maps onto it (see lic_transform_v3.halo); nil: never tiled.
    var halo: Int? { get }
}

extension DifferentiableTransformComponent {
    /// By default a transform sees the whole image.
    public var halo: Int? { nil }
}

/// What an entropy model returns: y_hat always; likelihoods in training and
/// evaluation; the per-element distribution parameters it used, if any.
public struct EntropyOutputs {
    public var yHat: Tensor
    public var likelihoods: Tensor?
    public var means: Tensor?
    public var scales: Tensor?

    public init(yHat: Tensor, likelihoods: Tensor? = nil, means: Tensor? = nil, scales: Tensor? = nil) {
        (self.yHat, self.likelihoods, self.means, self.scales) = (yHat, likelihoods, means, scales)
    }
}

/// "lic.entropy-model/3": a learned entropy model on host tensors, quantizing
/// through the pipeline's quantizer (its surrogate in training, its scopes
/// in coding).
public protocol LearnedEntropyModelComponent: AnyObject {
    init(params: Params, host: Host) throws
    /// Training or evaluation (context.mode): y_hat and likelihoods, y's shape, on the tape.
    func forward(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext) throws -> EntropyOutputs
    func auxiliaryLoss(context: CallContext) throws -> Tensor?
    /// Builds coding tables from the current weights (called before coding, again after weights change).
    func prepareCoding() throws
    /// Codes y into streams of `coding`; y_hat is what the decoder will reproduce.
    func encode(_ y: Tensor, condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs
    func decode(shape: [Int], condition: Tensor?, quantizer: QuantizerHandle, context: CallContext,
                coding: CodingContext) throws -> EntropyOutputs
}

/// "lic.quantizer/2": quantization in one place - the training surrogate,
/// and coding with optional state (a scope) across the batches of a latent.
public protocol TrainableQuantizerComponent: AnyObject {
    init(params: Params, host: Host) throws
    func surrogate(_ y: Tensor, means: Tensor?, context: CallContext) throws -> Tensor
    /// The state of one latent's quantization (nil: stateless).
    func beginScope(context: CallContext) throws -> AnyObject?
    func quantize(_ batch: QuantizeBatch, scope: AnyObject?, context: CallContext) throws
    func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>?,
                    into values: UnsafeMutableBufferPointer<Float>, scope: AnyObject?, context: CallContext) throws
    /// Reconstructions (relative to the mean) of indices first ..< first + count in the scope's state.
    func levels(first: Int32, count: Int, scope: AnyObject?) throws -> [Float]
    /// Which level set the scope's state uses (equal ids, equal levels).
    func levelSet(scope: AnyObject?) -> UInt32
}

extension TrainableQuantizerComponent {
    /// A stateless quantizer has one level set.
    public func levelSet(scope: AnyObject?) -> UInt32 { 0 }
}

/// "lic.regularizer/1": a term of the training loss, computed with host
/// tensor ops from the forward pass's named tensors (`x`, `x_hat`, `y`,
/// `y.means`, ...), so its gradient reaches the codec's parameters. Its own
/// parameters, if any, are registered in `init` with group
/// LIC_GROUP_REGULARIZER. Training only; called from the training thread.
public protocol RegularizerComponent: AnyObject {
    init(params: Params, host: Host) throws
    /// The unweighted term, a scalar on the tape (the descriptor's `weight` multiplies it).
    func loss(_ tensors: NamedTensors, context: CallContext) throws -> Tensor
}

/// A regularizer trained in alternation (the C table's fit_loss is set):
/// each step the host first minimizes `fitLoss` over the regularizer's own
/// parameters with the codec's tensors detached, then the codec's loss
/// (with `loss`) with those parameters frozen.
public protocol AlternatingRegularizerComponent: RegularizerComponent {
    /// The fitting loss (a scalar), or nil to skip the fit this step.
    func fitLoss(_ tensors: NamedTensors, context: CallContext) throws -> Tensor?
}

/// "lic.quantizer/1": values <-> integer symbols, with optional per-value means.
public protocol QuantizerComponent: AnyObject {
    init(params: Params, host: Host) throws
    func quantize(_ values: UnsafeBufferPointer<Float>, means: UnsafeBufferPointer<Float>?,
                  into symbols: UnsafeMutableBufferPointer<Int32>) throws
    func dequantize(_ symbols: UnsafeBufferPointer<Int32>, means: UnsafeBufferPointer<Float>?,
                    into values: UnsafeMutableBufferPointer<Float>) throws
}

/// "lic.entropy-model/1": owns the probability model and the coding order.
public protocol EntropyModelComponent: AnyObject {
    init(params: Params, host: Host) throws
    /// Quantize `y` with `quantizer`, code it into streams of `context`, write y_hat.
    func encode(_ y: TensorView, yHat: TensorView, quantizer: Quantizer, context: CodingContext) throws
    /// Read the streams and write y_hat, exactly as encode did.
    func decode(yHat: TensorView, quantizer: Quantizer, context: CodingContext) throws
}

/// One component of a plugin library: its descriptor data and its factory.
public struct Component: @unchecked Sendable {
    let kind: lic_component_kind
    let interfaceID: String
    let interface: UnsafeRawPointer
    let id: String
    let version: UInt32
    let description: String
    let params: [ParamSpec]
    let make: (Params, Host) throws -> AnyObject

    public static func transform<T: TransformComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                        description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_TRANSFORM, interfaceID: LIC_INTERFACE_TRANSFORM_1,
                  interface: Bridge.transformInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func differentiableTransform<T: DifferentiableTransformComponent>(
        _ type: T.Type, id: String, version: UInt32 = 1, description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_TRANSFORM, interfaceID: LIC_INTERFACE_TRANSFORM_3,
                  interface: Bridge.transformV3Interface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func learnedEntropyModel<T: LearnedEntropyModelComponent>(
        _ type: T.Type, id: String, version: UInt32 = 1, description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_ENTROPY_MODEL, interfaceID: LIC_INTERFACE_ENTROPY_MODEL_3,
                  interface: Bridge.entropyModelV3Interface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func regularizer<T: RegularizerComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                            description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_REGULARIZER, interfaceID: LIC_INTERFACE_REGULARIZER_1,
                  interface: Bridge.regularizerInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    /// An alternating regularizer: the same interface with fit_loss set.
    public static func regularizer<T: AlternatingRegularizerComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                                       description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_REGULARIZER, interfaceID: LIC_INTERFACE_REGULARIZER_1,
                  interface: Bridge.alternatingRegularizerInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func quantizer<T: QuantizerComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                        description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_QUANTIZER, interfaceID: LIC_INTERFACE_QUANTIZER_1,
                  interface: Bridge.quantizerInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func trainableQuantizer<T: TrainableQuantizerComponent>(
        _ type: T.Type, id: String, version: UInt32 = 1, description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_QUANTIZER, interfaceID: LIC_INTERFACE_QUANTIZER_2,
                  interface: Bridge.quantizerV2Interface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func entropyModel<T: EntropyModelComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                              description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_ENTROPY_MODEL, interfaceID: LIC_INTERFACE_ENTROPY_MODEL_1,
                  interface: Bridge.entropyModelInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }
}
