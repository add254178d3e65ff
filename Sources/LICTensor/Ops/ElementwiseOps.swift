extension Tensor {
    /// A new tensor of `shape` whose every element `fill` writes.
    static func computed(_ shape: [Int], _ fill: (UnsafeMutablePointer<Float>) throws -> Void) throws -> TensorStorage {
        let storage = try TensorStorage(uninitializedCount: try elementCount(shape))
        try fill(storage.pointer)
        return storage
    }

    // MARK: Unary

    public func unary(_ op: UnaryOp) throws -> Tensor {
        let x = self
        let storage = try Tensor.computed(shape) { UnaryKernels.forward(op, x: x.storage.pointer, y: $0, count: x.count) }
        return Tensor.recordResult("\(op)", shape: shape, storage: storage, inputs: [x]) { gradOutput, output in
            let gradInput = try Tensor.computed(x.shape) {
                UnaryKernels.backward(op, x: x.storage.pointer, y: output.storage.pointer,
                                      gradOutput: gradOutput.storage.pointer, gradInput: $0, count: x.count)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    public func negated() throws -> Tensor { try unary(.negate) }
    public func squared() throws -> Tensor { try unary(.square) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func rsqrt() throws -> Tensor { try unary(.rsqrt) }
    public func reciprocal() throws -> Tensor { try unary(.reciprocal) }
    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func abs() throws -> Tensor { try unary(.abs) }
    public func tanh() throws -> Tensor { try unary(.tanh) }
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
    public func relu() throws -> Tensor { try unary(.relu) }
    public func leakyRelu(slope: Float = 0.01) throws -> Tensor { try unary(.leakyRelu(slope: slope)) }
    public func gelu() throws -> Tensor { try unary(.gelu) }
    public func softplus() throws -> Tensor { try unary(.softplus) }
    public func erfc() throws -> Tensor { try unary(.erfc) }
    /// Phi(x), the standard normal CDF.
    public func gaussianCDF() throws -> Tensor { try unary(.gaussianCDF) }

    // MARK: Binary, with numpy broadcasting

    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        let a = self, b = other
        let outShape = try BinaryKernels.broadcastShape(a.shape, b.shape)
        let storage = try Tensor.computed(outShape) {
            BinaryKernels.forward(op, a: a.storage.pointer, aShape: a.shape, b: b.storage.pointer, bShape: b.shape,
                                  out: $0, outShape: outShape)
        }
        return Tensor.recordResult("\(op)", shape: outShape, storage: storage, inputs: [a, b]) { gradOutput, _ in
            let gradA = a.requiresGrad ? try TensorStorage(uninitializedCount: a.count) : nil
            let gradB = b.requiresGrad ? try TensorStorage(uninitializedCount: b.count) : nil
            BinaryKernels.backward(op, a: a.storage.pointer, aShape: a.shape, b: b.storage.pointer, bShape: b.shape,
                                   gradOutput: gradOutput.storage.pointer, outShape: outShape,
                                   gradA: gradA?.pointer, gradB: gradB?.pointer)
            return [gradA.map { Tensor(shape: a.shape, storage: $0) }, gradB.map { Tensor(shape: b.shape, storage: $0) }]
        }
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.subtract, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.multiply, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.divide, b) }
    public static func + (a: Tensor, b: Float) throws -> Tensor { try a.binary(.add, Tensor(scalar: b)) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a.binary(.subtract, Tensor(scalar: b)) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a.binary(.multiply, Tensor(scalar: b)) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a.binary(.divide, Tensor(scalar: b)) }
    public func pow(_ exponent: Tensor) throws -> Tensor { try binary(.power, exponent) }
    public func pow(_ exponent: Float) throws -> Tensor { try binary(.power, Tensor(scalar: exponent)) }
    public func maximum(_ other: Tensor) throws -> Tensor { try binary(.maximum, other) }
    public func minimum(_ other: Tensor) throws -> Tensor { try binary(.minimum, other) }

    // MARK: Bounds, rounding, noise

    /// min(max(x, low), high); gradient passes inside [low, high].
    public func clamped(min low: Float, max high: Float) throws -> Tensor {
        guard low <= high else { throw TensorError.invalidArgument("clamp: min \(low) > max \(high)") }
        let x = self
        let storage = try Tensor.computed(shape) { PointwiseKernels.clamp(x: x.storage.pointer, min: low, max: high, y: $0, count: x.count) }
        return Tensor.recordResult("clamp", shape: shape, storage: storage, inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) {
                PointwiseKernels.clampBackward(x: x.storage.pointer, min: low, max: high,
                                               gradOutput: gradOutput.storage.pointer, gradInput: $0, count: x.count)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    /// max(x, bound) with the likelihood lower-bound gradient rule: the
    /// gradient passes where x >= bound or where it would push x upward.
    public func lowerBounded(_ bound: Float) throws -> Tensor {
        let x = self
        let storage = try Tensor.computed(shape) { PointwiseKernels.lowerBound(x: x.storage.pointer, bound: bound, y: $0, count: x.count) }
        return Tensor.recordResult("lower_bound", shape: shape, storage: storage, inputs: [x]) { gradOutput, _ in
            let gradInput = try Tensor.computed(x.shape) {
                PointwiseKernels.lowerBoundBackward(x: x.storage.pointer, bound: bound,
                                                    gradOutput: gradOutput.storage.pointer, gradInput: $0, count: x.count)
            }
            return [Tensor(shape: x.shape, storage: gradInput)]
        }
    }

    /// round(x) with a straight-through gradient (identity).
    public func roundedStraightThrough() throws -> Tensor {
        let x = self
        let storage = try Tensor.computed(shape) { PointwiseKernels.round(x: x.storage.pointer, y: $0, count: x.count) }
        return Tensor.recordResult("round_ste", shape: shape, storage: storage, inputs: [x]) { gradOutput, _ in [gradOutput] }
    }

    /// The same values, cut off from the tape.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Uniform noise in [low, high): a pure function of (seed, offset + index),
    /// whatever the thread count.
    public static func uniformNoise(shape: [Int], seed: UInt64, offset: UInt64 = 0, low: Float = -0.5, high: Float = 0.5) throws -> Tensor {
        let count = try elementCount(shape)
        let storage = try computed(shape) {
            PointwiseKernels.uniformNoise(count: count, seed: seed, offset: offset, low: low, high: high, out: $0)
        }
        return Tensor(shape: shape, storage: storage)
    }
}
