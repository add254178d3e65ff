import Foundation
import Testing
@testable import LICTensor

// Adam and AdamW against PyTorch's formula, and state export and import.

/// Adam in Double, straight from the formula (PyTorch's form of it).
private struct ReferenceAdam {
    var lr: Double, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.0
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ p: inout [Double], _ g: [Double]) {
        if m.isEmpty { m = Array(repeating: 0, count: p.count); v = m }
        t += 1
        for i in p.indices {
            p[i] *= 1 - lr * weightDecay
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let mHat = m[i] / (1 - pow(beta1, Double(t)))
            let vHat = v[i] / (1 - pow(beta2, Double(t)))
            p[i] -= lr * mHat / (vHat.squareRoot() + eps)
        }
    }
}

private func adamStep(_ adam: Adam, _ name: String, _ parameter: inout [Float], _ gradient: [Float]) throws {
    try parameter.withUnsafeMutableBufferPointer { p in
        try gradient.withUnsafeBufferPointer { g in
            try adam.update(name: name, parameter: p.baseAddress!, gradient: g.baseAddress!, count: p.count)
        }
    }
}

/// Gradient of sum((x - 0.5)^2), in float32 as PyTorch computes it.
private func quadraticGradient(_ x: [Float]) -> [Float] { x.map { 2 * ($0 - 0.5) } }

@Suite struct AdamTests {
    @Test(arguments: [Float(0), 0.05])
    func threeStepsMatchTheFormula(weightDecay: Float) throws {
        let gradients: [[Float]] = [[0.1, -0.3, 2.0, 0, 1e-3], [0.2, -0.3, 1.0, 0, -1e-3], [0.3, 0.6, 0.5, 0, 5e-3]]
        var parameter: [Float] = [0.5, -1.5, 2.0, 3.0, 0.0]
        var reference = parameter.map(Double.init)
        var referenceAdam = ReferenceAdam(lr: 0.01, weightDecay: Double(weightDecay))
        let adam = Adam(learningRate: 0.01, weightDecay: weightDecay)
        let b = [Float](repeating: 1, count: 2)
        var other = b
        for (step, gradient) in gradients.enumerated() {
            adam.beginStep()
            #expect(adam.stepCount == step + 1)
            try adamStep(adam, "w", &parameter, gradient)
            try adamStep(adam, "b", &other, [1, -1])
            referenceAdam.step(&reference, gradient.map(Double.init))
            for i in parameter.indices {
                #expect(abs(Double(parameter[i]) - reference[i]) <= 1e-6 * max(1, abs(reference[i])),
                        "step \(step + 1), element \(i): \(parameter[i]) vs \(reference[i])")
            }
        }
        // Without weight decay, a constant gradient moves the parameter by lr (up to ε) per step.
        if weightDecay == 0 {
            for (value, start) in zip(other, b) { #expect(abs(abs(value - start) - 0.03) < 1e-6) }
        }
    }

    /// 200 steps of `adam` on sum((x - 0.5)^2) from x = [1, -2, 3, 0.25], checked against
    /// PyTorch's x after each step `torch` lists; returns the last x.
    @discardableResult
    private func stepsAgainstTorch(_ adam: Adam, _ torch: [Int: [Float]]) throws -> [Float] {
        var x: [Float] = [1, -2, 3, 0.25]
        for step in 1...200 {
            adam.beginStep()
            try adamStep(adam, "x", &x, quadraticGradient(x))
            if let expected = torch[step] {
                for i in x.indices {
                    #expect(abs(x[i] - expected[i]) <= 2e-6 * max(1, abs(expected[i])),
                            "step \(step), element \(i): \(x[i]) vs torch \(expected[i])")
                }
            }
        }
        return x
    }

    /// torch.optim.Adam(lr=0.1) on sum((x - 0.5)^2) from x = [1, -2, 3, 0.25]
    /// (PyTorch 2.x, float32): x after steps 1, 2, 3, 10, 50, 200.
    @Test func matchesTorchOnAQuadratic() throws {
        let torch: [Int: [Float]] = [
            1: [0.9000000357627869, -1.899999976158142, 2.9000000953674316, 0.3499999940395355],
            2: [0.8011874556541443, -1.8001271486282349, 2.8001272678375244, 0.4457490146160126],
            3: [0.7048712968826294, -1.7004739046096802, 2.7004740238189697, 0.5302083492279053],
            10: [0.2966771423816681, -1.0180317163467407, 2.0180323123931885, 0.5234662294387817],
            50: [0.527316689491272, 0.6918773651123047, 0.30812275409698486, 0.48729169368743896],
            200: [0.49998950958251953, 0.4999811351299286, 0.500018835067749, 0.5000010132789612],
        ]
        let x = try stepsAgainstTorch(Adam(learningRate: 0.1), torch)
        for value in x { #expect(abs(value - 0.5) < 1e-4) }  // converged
    }

    /// torch.optim.AdamW(lr=0.1, weight_decay=0.01), same problem.
    @Test func matchesTorchAdamWOnAQuadratic() throws {
        let torch: [Int: [Float]] = [
            1: [0.8990000486373901, -1.8980000019073486, 2.8970000743865967, 0.34974998235702515],
            3: [0.702258288860321, -1.6947910785675049, 2.6917996406555176, 0.5292916297912598],
            200: [0.49967578053474426, 0.4974852502346039, 0.49750176072120667, 0.4998526871204376],
        ]
        try stepsAgainstTorch(Adam(learningRate: 0.1, weightDecay: 0.01), torch)
    }

    @Test func exportAndImportContinueIdentically() throws {
        func gradient(_ x: [Float], _ step: Int) -> [Float] {
            x.enumerated().map { i, v in 2 * (v - 0.5) + 0.01 * Float(i) - 0.003 * Float(step) }
        }
        let start: [String: [Float]] = ["enc/w": [1, -2, 3, 0.25, 8], "dec/b": [0.1, -0.1]]
        let names = ["enc/w", "dec/b"]

        let straight = Adam(learningRate: 0.05, weightDecay: 0.01)
        var a = start
        for step in 1...6 {
            straight.beginStep()
            for name in names { try adamStep(straight, name, &a[name]!, gradient(a[name]!, step)) }
        }

        let first = Adam(learningRate: 0.05, weightDecay: 0.01)
        var b = start
        for step in 1...3 {
            first.beginStep()
            for name in names { try adamStep(first, name, &b[name]!, gradient(b[name]!, step)) }
        }
        // Through a checkpoint file, as training would.
        let state = first.exportState()
        #expect(state.metadata["adam.step"] == "3")
        #expect(Set(state.tensors.keys) == ["adam/enc/w/m", "adam/enc/w/v", "adam/dec/b/m", "adam/dec/b/v"])
        let path = try temporaryPath("resume.safetensors")
        var checkpoint = state.tensors
        for name in names { checkpoint[name] = .init(shape: [b[name]!.count], values: b[name]!) }
        try SafeTensorsFile(tensors: checkpoint, metadata: state.metadata).write(to: path)
        let loaded = try SafeTensorsFile.read(path: path)

        let resumed = Adam(learningRate: 0.05, weightDecay: 0.01)
        try resumed.importState(tensors: loaded.tensors, metadata: loaded.metadata)
        #expect(resumed.stepCount == 3)
        var c = Dictionary(uniqueKeysWithValues: names.map { ($0, loaded.tensors[$0]!.values) })
        for step in 4...6 {
            resumed.beginStep()
            for name in names { try adamStep(resumed, name, &c[name]!, gradient(c[name]!, step)) }
        }
        for name in names {
            #expect(c[name]!.map(\.bitPattern) == a[name]!.map(\.bitPattern), "\(name)")
        }
    }

    @Test func misuseThrows() throws {
        let adam = Adam(learningRate: 0.1)
        var x: [Float] = [1, 2, 3]
        #expect(throws: TensorError.self) { try adamStep(adam, "x", &x, [1, 1, 1]) }  // no beginStep()
        adam.beginStep()
        try adamStep(adam, "x", &x, [1, 1, 1])
        var y: [Float] = [1, 2]
        #expect(throws: TensorError.self) { try adamStep(adam, "x", &y, [1, 1]) }  // count changed

        let fresh = Adam(learningRate: 0.1)
        let m = SafeTensorsFile.Tensor(shape: [2], values: [0, 0])
        #expect(throws: TensorError.self) { try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": m], metadata: [:]) }
        #expect(throws: TensorError.self) {
            try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": m], metadata: ["adam.step": "-1"])
        }
        #expect(throws: TensorError.self) { try fresh.importState(tensors: ["adam/x/m": m], metadata: ["adam.step": "1"]) }
        #expect(throws: TensorError.self) {
            try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": .init(shape: [3], values: [0, 0, 0])],
                                  metadata: ["adam.step": "1"])
        }
        #expect(fresh.stepCount == 0)
        // Other tensors in a checkpoint are ignored.
        try fresh.importState(tensors: ["adam/x/m": m, "adam/x/v": m, "enc/w": m], metadata: ["adam.step": "2"])
        #expect(fresh.stepCount == 2)
        #expect(Set(fresh.exportState().tensors.keys) == ["adam/x/m", "adam/x/v"])
    }
}
