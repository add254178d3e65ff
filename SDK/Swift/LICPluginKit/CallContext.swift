import CLIC

/// What one computing call is for (lic_call_context): the mode, the noise
/// seed, the training step, the rate-distortion weight, the rate level and
/// the tile. Valid during the call it was passed to.
public struct CallContext: @unchecked Sendable {
    public enum Mode: Sendable { case train, eval, encode, decode }

    public let pointer: UnsafePointer<lic_call_context>

    init(_ pointer: UnsafePointer<lic_call_context>?) throws {
        guard let pointer, pointer.pointee.struct_size >= UInt32(MemoryLayout<lic_call_context>.offset(of: \.tile_x)!) else {
            throw PluginError(.invalidArgument, "missing or short call context")
        }
        self.pointer = pointer
    }

    public var mode: Mode {
        switch pointer.pointee.mode {
        case LIC_MODE_TRAIN.rawValue: .train
        case LIC_MODE_EVAL.rawValue: .eval
        case LIC_MODE_ENCODE.rawValue: .encode
        default: .decode
        }
    }
    public var isTraining: Bool { mode == .train }
    public var seed: UInt64 { pointer.pointee.seed }
    public var step: Int64 { pointer.pointee.step }
    /// The rate-distortion weight (0: none given).
    public var lambda: Double { pointer.pointee.lambda }
    /// The variable-rate level, or nil for the model's only rate.
    public var rateLevel: Double? { pointer.pointee.rate_level < 0 ? nil : pointer.pointee.rate_level }

    /// What the training surrogate asked for in this call stands in for
    /// (lic_surrogate_use); `.any` from hosts and from contexts too short to say.
    public var surrogateUse: SurrogateUse {
        let end = MemoryLayout<lic_call_context>.offset(of: \.surrogate_use)! + MemoryLayout<UInt32>.size
        guard pointer.pointee.struct_size >= UInt32(end) else { return .any }
        return SurrogateUse(rawValue: pointer.pointee.surrogate_use) ?? .any
    }

    /// `body` with a copy of this context that asks for `use`; the copy lives
    /// for the call only (an entropy model passes it to its quantizer). All of
    /// the host's bytes are copied, fields newer than this kit's included.
    public func with<R>(surrogateUse use: SurrogateUse, _ body: (CallContext) throws -> R) throws -> R {
        let hostSize = Int(pointer.pointee.struct_size), ownSize = MemoryLayout<lic_call_context>.size
        let size = max(hostSize, ownSize)
        let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<lic_call_context>.alignment)
        defer { copy.deallocate() }
        copy.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        copy.copyMemory(from: pointer, byteCount: hostSize)
        let context = copy.assumingMemoryBound(to: lic_call_context.self)
        context.pointee.struct_size = UInt32(size)
        context.pointee.surrogate_use = use.rawValue
        return try body(try CallContext(context))
    }
}

/// What a training surrogate stands in for (lic_surrogate_use): the input of
/// the likelihoods (rate), or what the synthesis and the contexts see
/// (reconstruction); `.any` when the caller asks for one surrogate for both.
public enum SurrogateUse: UInt32, Sendable {
    case any = 0, rate = 1, reconstruction = 2
}

/// A quantizer's training surrogate, chosen by its `surrogate` parameter:
/// additive uniform noise, straight-through rounding around the means, or
/// mixed - noise for the rate and straight-through rounding for the
/// reconstruction, so the synthesis trains on the integers decoding gives it
/// while the rate keeps noise's smooth estimate (Minnen & Singh, ICIP 2020).
public enum TrainingSurrogate: String, CaseIterable, Sendable {
    case noise, ste, mixed

    /// A quantizer's `surrogate` parameter (default noise).
    public static let parameter = ParamSpec.enumeration(
        "surrogate", allCases.map(\.rawValue), default: TrainingSurrogate.noise.rawValue,
        "Training surrogate: additive uniform noise; rounding around the means with a straight-through gradient (ste); "
            + "or mixed: noise for the likelihoods, straight-through rounding for what the synthesis and contexts see")

    /// The surrogate `params` name.
    public init(_ params: Params) throws {
        let name = try params.string("surrogate")
        guard let value = TrainingSurrogate(rawValue: name) else {
            throw PluginError(.invalidArgument, "surrogate '\(name)' is none of \(Self.allCases.map(\.rawValue))")
        }
        self = value
    }

    /// y's surrogate in this call: y plus U(-step/2, step/2) noise drawn from
    /// the context's seed, or round((y - means) / step) * step + means with a
    /// straight-through gradient.
    public func apply(_ y: Tensor, means: Tensor?, step: Float = 1, context: CallContext, host: Host) throws -> Tensor {
        if addsNoise(context) {
            return try y + Tensor.uniformNoise(try y.shape, seed: context.seed, low: -step / 2, high: step / 2, host: host)
        }
        let centered = try means.map { try y - $0 } ?? y
        let rounded = step == 1 ? try centered.roundedStraightThrough() : try (centered / step).roundedStraightThrough() * step
        return try means.map { try rounded + $0 } ?? rounded
    }

    /// Whether this call adds noise (else it rounds with a straight-through
    /// gradient, as every mode but training always does).
    public func addsNoise(_ context: CallContext) -> Bool {
        guard context.isTraining else { return false }
        switch self {
        case .noise: return true
        case .ste: return false
        case .mixed: return context.surrogateUse != .reconstruction
        }
    }
}

/// The tensors of a training forward pass, by name ("y", "y.scales", ...).
public struct NamedTensors {
    let set: UnsafePointer<lic_named_tensors>
    let ops: UnsafePointer<lic_tensor_ops>

    /// The tensor called `name` (a new Swift reference), or nil.
    public subscript(name: String) -> Tensor? {
        guard let handle = lic_named_tensors_find(set, name) else { return nil }
        ops.pointee.retain(handle)
        return Tensor(owning: handle, ops: ops)
    }

    /// The tensor called `name`, or an error naming it and the tensors there are.
    public func required(_ name: String, by component: String) throws -> Tensor {
        guard let tensor = self[name] else {
            throw PluginError(.invalidArgument, "\(component): the forward pass has no tensor '\(name)' (it has: \(names.sorted().joined(separator: ", ")))")
        }
        return tensor
    }

    public var names: [String] {
        (0..<Int(set.pointee.count)).map { String(cString: set.pointee.entries[$0].name) }
    }
}
