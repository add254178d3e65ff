import Foundation

/// The host-owned parameters of a pipeline, named "component/param".
///
/// Components register parameters with an initializer and a group; the
/// store hands back leaf tensors that require gradients (unless their
/// component is frozen), applies optimizers per group, and saves/loads them
/// as safetensors with validation that names the offending tensor.
public final class ParameterStore: @unchecked Sendable {
    public enum Group: String, Sendable, CaseIterable {
        /// Trained by the rate-distortion loss.
        case main
        /// Trained by an auxiliary loss only (e.g. entropy-bottleneck quantiles).
        case auxiliary
        /// A training regularizer's own parameters, with an optimizer of their own.
        case regularizer
    }

    public enum Initializer: Sendable {
        case zeros
        case constant(Float)
        case values([Float])
        /// U(low, high) from a counter-based generator: reproducible from the seed.
        case uniform(low: Float, high: Float, seed: UInt64)
        /// PyTorch's default for conv weights: U(-b, b), b = 1 / sqrt(fanIn).
        case kaimingUniform(fanIn: Int, seed: UInt64)
    }

    public struct Entry {
        public let name: String
        public let tensor: Tensor
        public let group: Group
        public var component: String { String(name.split(separator: "/").first ?? "") }
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private var frozenComponents: Set<String> = []

    public init() {}

    public var all: [Entry] { lock.withLock { entries } }

    public func parameter(_ name: String) -> Tensor? { lock.withLock { entries.first { $0.name == name }?.tensor } }

    /// Registers `name` ("component/param") and returns its tensor.
    @discardableResult
    public func register(_ name: String, shape: [Int], initializer: Initializer, group: Group = .main) throws -> Tensor {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else {
            throw TensorError.invalidArgument("parameter name '\(name)' must look like 'component/param'")
        }
        let count = try Tensor.elementCount(shape)
        // Straight into the tensor's fallible storage (no intermediate array):
        // a huge shape is an outOfMemory error, never an abort.
        let initial: Tensor
        switch initializer {
        case .zeros: initial = try Tensor(zeros: shape)
        case .constant(let v):
            initial = try Tensor(zeros: shape)
            initial.withUnsafeMutableBufferPointer { $0.update(repeating: v) }
        case .values(let given):
            guard given.count == count else { throw TensorError.shape("parameter '\(name)': \(given.count) initial values for shape \(shape)") }
            initial = try Tensor(shape: shape, values: given)
        case .uniform(let low, let high, let seed):
            initial = try Tensor.uniformNoise(shape: shape, seed: seed, low: low, high: high)
        case .kaimingUniform(let fanIn, let seed):
            let bound = 1 / Float(max(fanIn, 1)).squareRoot()
            initial = try Tensor.uniformNoise(shape: shape, seed: seed, low: -bound, high: bound)
        }
        let tensor = initial.asParameter()
        try lock.withLock {
            guard !entries.contains(where: { $0.name == name }) else { throw TensorError.invalidArgument("parameter '\(name)' is registered twice") }
            if frozenComponents.contains(String(parts[0])) { tensor.requiresGrad = false }
            entries.append(Entry(name: name, tensor: tensor, group: group))
        }
        return tensor
    }

    /// Stops (or resumes) gradients for every parameter of `component`.
    public func setFrozen(_ frozen: Bool, component: String) {
        lock.withLock {
            if frozen { frozenComponents.insert(component) } else { frozenComponents.remove(component) }
            for entry in entries where entry.component == component { entry.tensor.requiresGrad = !frozen }
        }
    }

    public func zeroGradients() { all.forEach { $0.tensor.zeroGrad() } }

    /// The parameters of `group` that are trained (not frozen).
    public func trainable(_ group: Group) -> [Entry] { all.filter { $0.group == group && $0.tensor.requiresGrad } }

    /// Clips the global gradient norm of `group` (only `component`'s
    /// parameters, when given) to `maxNorm` (if given) and applies one
    /// optimizer step to it; returns the norm before clipping.
    @discardableResult
    public func step(_ group: Group, optimizer: Adam, clipNorm maxNorm: Double? = nil, component: String? = nil) throws -> Double {
        let trained = trainable(group).filter { $0.tensor.grad != nil && (component == nil || $0.component == component) }
        let gradients = trained.map { entry in
            entry.tensor.grad!.withUnsafeMutableBufferPointer { $0 }
        }
        let norm = maxNorm.map { GradientClipping.clip(gradients, maxNorm: $0) }
            ?? GradientClipping.globalNorm(gradients.map { UnsafeBufferPointer($0) })
        optimizer.beginStep()
        for entry in trained {
            try entry.tensor.withUnsafeMutableBufferPointer { parameter in
                try entry.tensor.grad!.withUnsafeBufferPointer { gradient in
                    try optimizer.update(name: entry.name, parameter: parameter.baseAddress!, gradient: gradient.baseAddress!,
                                         count: parameter.count)
                }
            }
        }
        return norm
    }

    /// Writes the parameters of `groups` (and `metadata`) as a safetensors file.
    public func save(to path: String, metadata: [String: String] = [:], groups: Set<Group> = Set(Group.allCases),
                     storedAs stored: SafeTensorsFile.StoredType = .f32) throws {
        var tensors: [String: SafeTensorsFile.Tensor] = [:]
        for entry in all where groups.contains(entry.group) { tensors[entry.name] = SafeTensorsFile.Tensor(shape: entry.tensor.shape, values: entry.tensor.values) }
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(to: path, storedAs: stored)
    }

    /// Loads values for every registered parameter from `path`; a missing
    /// tensor, a shape mismatch or (with `strict`) an unknown tensor is an
    /// error naming it. Returns the file's metadata.
    /// Only the parameters of `groups` are read (the others keep their values).
    @discardableResult
    public func load(from path: String, strict: Bool = true, groups: Set<Group> = [.main, .auxiliary]) throws -> [String: String] {
        let file = try SafeTensorsFile.read(path: path)
        let chosen = all.filter { groups.contains($0.group) }
        for entry in chosen {
            guard let stored = file.tensors[entry.name] else {
                throw CheckpointError(path: path, tensor: entry.name, message: "missing from the checkpoint")
            }
            guard stored.shape == entry.tensor.shape else {
                throw CheckpointError(path: path, tensor: entry.name, message: "shape \(stored.shape) in the file, the model needs \(entry.tensor.shape)")
            }
            entry.tensor.withUnsafeMutableBufferPointer { target in
                stored.values.withUnsafeBufferPointer { target.baseAddress!.update(from: $0.baseAddress!, count: target.count) }
            }
        }
        if strict {
            let known = Set(chosen.map(\.name))
            if let unknown = file.tensors.keys.sorted().first(where: { !known.contains($0) && !$0.hasPrefix("adam/") }) {
                throw CheckpointError(path: path, tensor: unknown, message: "is not a parameter of this model")
            }
        }
        return file.metadata
    }
}
