extension Tensor {
    /// An op whose forward and backward the caller supplies (a plugin's own
    /// kernel): `forward` computes the output from the inputs' values;
    /// `backward` maps the output gradient to one gradient per input (nil
    /// where none), each of its input's shape.
    public static func custom(name: String, inputs: [Tensor], outputShape: [Int],
                              forward: ([Tensor], UnsafeMutableBufferPointer<Float>) throws -> Void,
                              backward: @escaping (_ inputs: [Tensor], _ gradOutput: Tensor) throws -> [Tensor?]) throws -> Tensor {
        let count = try elementCount(outputShape)
        let storage = try TensorStorage(count: count)
        try forward(inputs, UnsafeMutableBufferPointer(start: storage.pointer, count: count))
        return recordResult(name, shape: outputShape, storage: storage, inputs: inputs) { gradOutput, _ in
            let gradients = try backward(inputs, gradOutput)
            guard gradients.count == inputs.count else {
                throw TensorError.invalidArgument("custom op \(name): backward gave \(gradients.count) gradients for \(inputs.count) inputs")
            }
            return gradients
        }
    }
}
