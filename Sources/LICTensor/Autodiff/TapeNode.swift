/// One recorded op: its inputs and how to turn the gradient of its output
/// into gradients of its inputs (nil where an input needs none).
///
/// The backward closure receives the output tensor as an argument instead of
/// capturing it: capturing would make output -> node -> closure -> output a
/// reference cycle and leak every activation.
final class TapeNode {
    let name: String
    let inputs: [Tensor]
    let backward: (_ gradOutput: Tensor, _ output: Tensor) throws -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (_ gradOutput: Tensor, _ output: Tensor) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// Makes the result of an op: records a node when recording and some input
    /// needs gradients; otherwise a plain tensor.
    static func recordResult(_ name: String, shape: [Int], storage: TensorStorage, inputs: [Tensor],
                             backward: @escaping (_ gradOutput: Tensor, _ output: Tensor) throws -> [Tensor?]) -> Tensor {
        let result = Tensor(shape: shape, storage: storage)
        if GradientMode.isRecording, inputs.contains(where: \.requiresGrad) {
            result.requiresGrad = true
            result.node = TapeNode(name: name, inputs: inputs, backward: backward)
        }
        return result
    }
}
