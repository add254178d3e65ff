extension Tensor {
    /// Reverse-mode differentiation from this scalar: accumulates d(self)/d(leaf)
    /// into `grad` of every leaf that requires gradients (adding to what is
    /// there, so several backward passes accumulate until `zeroGrad`).
    public func backward() throws {
        guard count == 1 else { throw TensorError.shape("backward() needs a scalar loss, got shape \(shape)") }
        guard requiresGrad else { throw TensorError.invalidArgument("backward(): the loss does not depend on any parameter") }
        let order = topologicalOrder()
        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): try Tensor(shape: shape, values: [1])]
        try GradientMode.withoutGradients {
            for tensor in order.reversed() {
                guard let gradient = gradients.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
                guard let node = tensor.node else {
                    try tensor.accumulateGrad(gradient)
                    continue
                }
                let inputGradients = try node.backward(gradient, tensor)
                for (input, inputGradient) in zip(node.inputs, inputGradients) {
                    guard input.requiresGrad, let inputGradient else { continue }
                    guard inputGradient.shape == input.shape else {
                        throw TensorError.shape("backward of \(node.name): gradient \(inputGradient.shape) for input \(input.shape)")
                    }
                    let key = ObjectIdentifier(input)
                    if let existing = gradients[key] {
                        gradients[key] = try existing.summed(inputGradient)
                    } else {
                        gradients[key] = inputGradient
                    }
                }
            }
        }
    }

    /// Tensors reachable from self through nodes, inputs before outputs (iterative DFS).
    private func topologicalOrder() -> [Tensor] {
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { order.append(tensor); continue }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.node?.inputs ?? [] where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        return order
    }

    private func accumulateGrad(_ gradient: Tensor) throws {
        if let grad {
            self.grad = try grad.summed(gradient)
        } else {
            // Own a copy: the incoming gradient may share storage with another tensor.
            let copy = try TensorStorage(uninitializedCount: count)
            copy.pointer.update(from: gradient.storage.pointer, count: count)
            grad = Tensor(shape: shape, storage: copy)
        }
    }

    /// self + other in new storage (gradients may alias each other: add's
    /// backward hands the same tensor to both inputs).
    private func summed(_ other: Tensor) throws -> Tensor {
        let sum = try copy()
        PointwiseKernels.add(into: sum.storage.pointer, other.storage.pointer, count: count)
        return sum
    }

    func copy() throws -> Tensor {
        let copy = try TensorStorage(uninitializedCount: count)
        copy.pointer.update(from: storage.pointer, count: count)
        return Tensor(shape: shape, storage: copy)
    }
}
