import LICTensor

/// Cases of a training regularizer (lic.regularizer/1): its term over the
/// named tensors of a forward pass must be a finite scalar, the same on
/// every run and thread count, and its gradient must reach some tensor;
/// missing, tiny, empty and huge tensors are refused or handled.
enum RegularizerChecks {
    /// The named tensors of a hyperprior's forward pass for a latent of
    /// `latent` ([N, C, H, W]); the image is 4 times larger on a side;
    /// `params` is a mean-scale hyper synthesis output [N, 2C, H, W].
    static func tensors(latent: [Int], gradients: Bool = false) throws -> [String: Tensor] {
        let (n, c, h, w) = (latent[0], latent[1], latent[2], latent[3])
        let image = [n, 3, h * 4, w * 4], hyper = [n, c, (h + 3) / 4, (w + 3) / 4]
        let specs: [(String, [Int], Range<Float>)] = [
            ("x", image, 0..<1), ("x_hat", image, 0..<1), ("y", latent, -6..<6), ("y_hat", latent, -6..<6),
            ("y.means", latent, -2..<2), ("y.scales", latent, 0.11..<4), ("y.likelihoods", latent, 0.01..<1),
            ("z", hyper, -3..<3), ("z_hat", hyper, -3..<3), ("z.likelihoods", hyper, 0.01..<1),
            ("params", [n, 2 * c, h, w], 0.11..<4),
        ]
        var result: [String: Tensor] = [:]
        for (index, (name, shape, range)) in specs.enumerated() {
            result[name] = try Tensor(shape: shape, values: CheckData.values(shape.reduce(1, *), seed: UInt64(30 + index), in: range),
                                      requiresGrad: gradients)
        }
        return result
    }

    static let context = CallContext(mode: .train, seed: 3, step: 1, lambda: 0.01)

    /// The term (and the fitting loss, if the regularizer alternates) as finite scalars.
    @discardableResult
    static func evaluate(_ node: RegularizerNode, _ tensors: [String: Tensor]) throws -> (term: Float, summary: String) {
        let term = try node.loss(tensors, context: context).values[0]
        guard term.isFinite else { throw CheckFailure("the term is \(term) for finite tensors") }
        var summary = "term \(term)"
        if node.alternates, let fit = try node.fitLoss(tensors, context: context) {
            guard fit.count == 1, fit.values[0].isFinite else { throw CheckFailure("fit_loss is not a finite scalar") }
            summary += ", fit_loss \(fit.values[0])"
        }
        return (term, summary)
    }

    /// The checker's small integer as the channel count, so a regularizer with
    /// a `latent` parameter (lowered to it) matches the tensors.
    static let standard = [1, Int(CheckSubject.smallInteger), 4, 4]

    static func smoke(_ subject: CheckSubject) -> (ParamSetStorage, [String: ParamValue]) throws -> String {
        { params, _ in try evaluate(try subject.regularizer(params), try tensors(latent: standard)).summary }
    }

    static func cases(_ subject: CheckSubject) -> [CheckCase] {
        var made: Result<RegularizerNode, any Error>?
        func base() throws -> RegularizerNode {
            if made == nil { made = Result { try subject.regularizer(try subject.parameters()) } }
            return try made!.get()
        }
        func work(_ name: String, mustSucceed: Bool, _ body: @escaping (RegularizerNode) throws -> String) -> CheckCase {
            CheckCase(name: name) {
                let node: RegularizerNode
                do { node = try base() } catch { return .skip("no instance: \(error)") }
                return mustSucceed ? Expect.success { try body(node) } : Expect.successOrRefusal { try body(node) }
            }
        }
        func shaped(_ name: String, _ latent: [Int]) -> CheckCase {
            work(name, mustSucceed: false) { try evaluate($0, try tensors(latent: latent)).summary }
        }
        return [
            work("loss", mustSucceed: true) { try evaluate($0, try tensors(latent: standard)).summary },
            work("gradient", mustSucceed: true) { node in
                let inputs = try tensors(latent: standard, gradients: true)
                try node.loss(inputs, context: context).backward()
                let reached = inputs.filter { $0.value.grad != nil }.keys.sorted()
                guard !reached.isEmpty else { throw CheckFailure("the term's gradient reaches none of the tensors") }
                return "gradient reaches \(reached.joined(separator: ", "))"
            },
            work("tensors.none", mustSucceed: false) { try evaluate($0, [:]).summary },
            shaped("shape.1x1", [1, 8, 1, 1]),
            shaped("shape.odd", [1, 5, 7, 3]),
            shaped("shape.zero", [1, 8, 0, 0]),
            shaped("shape.batch2", [2, 8, 4, 4]),
            work("input.huge", mustSucceed: false) { node in
                // 4 MiB for y; no single allocation may exceed it.
                let inputs = try tensors(latent: [1, 64, 128, 128])
                return try CheckData.withAllocationLimit(1 << 22) { try evaluate(node, inputs).summary }
            },
            work("determinism", mustSucceed: true) { node in
                let inputs = try tensors(latent: standard)
                let first = try evaluate(node, inputs).term
                let again = try evaluate(try subject.regularizer(try subject.parameters()), inputs).term
                try CheckData.expectIdentical([first], [again], "a second instance's term")
                try CheckData.expectIdentical([first], [try evaluate(node, inputs).term], "a second call's term")
                return "identical term from two instances and two calls"
            },
            work("threads", mustSucceed: true) { node in
                let inputs = try tensors(latent: standard)
                let one = try CheckData.withThreads(1) { try evaluate(node, inputs).term }
                let two = try CheckData.withThreads(2) { try evaluate(node, inputs).term }
                try CheckData.expectIdentical([one], [two], "the term with 2 threads vs 1")
                return "identical term with 1 and 2 threads"
            },
        ]
    }
}
