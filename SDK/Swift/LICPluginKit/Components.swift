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

/// "lic.transform/2": a differentiable transform on host tensors. Register
/// parameters with `host.parameter(...)` in `init` (the only time it is allowed);
/// the host records the tape of `apply`, so gradients reach them.
public protocol DifferentiableTransformComponent: AnyObject {
    init(params: Params, host: Host) throws
    var alignment: Int { get }
    func outputShape(for inputShape: [Int]) throws -> [Int]
    func apply(_ x: Tensor) throws -> Tensor
}

/// "lic.entropy-model/2": a learned entropy model on host tensors.
public protocol LearnedEntropyModelComponent: AnyObject {
    init(params: Params, host: Host) throws
    /// Noise (training) or rounding: (y_hat, likelihoods), both y's shape.
    func forward(_ y: Tensor, condition: Tensor?, training: Bool, seed: UInt64) throws -> (yHat: Tensor, likelihoods: Tensor)
    func auxiliaryLoss() throws -> Tensor?
    /// Codes y into streams of `context`; returns what the decoder will reproduce.
    func encode(_ y: Tensor, condition: Tensor?, quantizer: Quantizer, context: CodingContext) throws -> Tensor
    func decode(shape: [Int], condition: Tensor?, quantizer: Quantizer, context: CodingContext) throws -> Tensor
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
        Component(kind: LIC_KIND_TRANSFORM, interfaceID: LIC_INTERFACE_TRANSFORM_2,
                  interface: Bridge.transformV2Interface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func learnedEntropyModel<T: LearnedEntropyModelComponent>(
        _ type: T.Type, id: String, version: UInt32 = 1, description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_ENTROPY_MODEL, interfaceID: LIC_INTERFACE_ENTROPY_MODEL_2,
                  interface: Bridge.entropyModelV2Interface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func quantizer<T: QuantizerComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                        description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_QUANTIZER, interfaceID: LIC_INTERFACE_QUANTIZER_1,
                  interface: Bridge.quantizerInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }

    public static func entropyModel<T: EntropyModelComponent>(_ type: T.Type, id: String, version: UInt32 = 1,
                                                              description: String, params: [ParamSpec]) -> Component {
        Component(kind: LIC_KIND_ENTROPY_MODEL, interfaceID: LIC_INTERFACE_ENTROPY_MODEL_1,
                  interface: Bridge.entropyModelInterface, id: id, version: version, description: description,
                  params: params, make: { try T(params: $0, host: $1) })
    }
}
