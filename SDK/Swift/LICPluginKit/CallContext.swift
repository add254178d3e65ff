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
