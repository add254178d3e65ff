import Foundation
import Testing
@testable import LICTensor

// MARK: Unary

/// A double-precision reference for each op.
private func reference(_ op: UnaryOp, _ x: Double) -> Double {
    switch op {
    case .negate: return -x
    case .square: return x * x
    case .sqrt: return x.squareRoot()
    case .rsqrt: return 1 / x.squareRoot()
    case .reciprocal: return 1 / x
    case .exp: return Foundation.exp(x)
    case .log: return Foundation.log(x)
    case .abs: return Swift.abs(x)
    case .tanh: return Foundation.tanh(x)
    case .sigmoid: return 1 / (1 + Foundation.exp(-x))
    case .relu: return max(x, 0)
    case .leakyRelu(let slope): return x > 0 ? x : Double(slope) * x
    case .gelu: return 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot())
    case .softplus: return x > 20 ? x : Foundation.log1p(Foundation.exp(x))
    case .erfc: return Foundation.erfc(x)
    case .gaussianCDF: return 0.5 * Foundation.erfc(-x / 2.0.squareRoot())
    }
}

/// Inputs away from kinks and outside each op's domain edges.
private func unaryInputs(_ op: UnaryOp, _ rng: inout KernelRNG, _ n: Int) -> [Float] {
    switch op {
    case .sqrt, .rsqrt, .log, .reciprocal: return rng.floats(n, 0.3, 4)
    case .abs, .relu, .leakyRelu: return rng.signedAway(n, 0.05, 3)
    case .softplus: return rng.floats(n, -6, 6) + [19.5, 21, 25, -25]
    default: return rng.floats(n, -3.5, 3.5)
    }
}

private let allUnaryOps: [UnaryOp] = [
    .negate, .square, .sqrt, .rsqrt, .reciprocal, .exp, .log, .abs, .tanh, .sigmoid, .relu,
    .leakyRelu(slope: 0.1), .gelu, .softplus, .erfc, .gaussianCDF,
]

@Suite struct UnaryKernelTests {
    @Test(arguments: allUnaryOps)
    func forwardMatchesDoubleReference(_ op: UnaryOp) {
        var rng = KernelRNG(state: 0x0A11_0001)
        let x = unaryInputs(op, &rng, 3000)
        let y = output(x.count) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: x.count) } }
        for (xi, yi) in zip(x, y) {
            let expected = reference(op, Double(xi))
            #expect(Swift.abs(Double(yi) - expected) <= 4e-6 * Swift.abs(expected) + 1e-7, "\(op)(\(xi)) = \(yi), expected \(expected)")
        }
    }

    @Test(arguments: allUnaryOps)
    func backwardMatchesCentralDifferences(_ op: UnaryOp) {
        var rng = KernelRNG(state: 0x0A11_0002)
        let x = unaryInputs(op, &rng, 500)
        let g = rng.floats(x.count, -1, 1)
        let y = output(x.count) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: x.count) } }
        let gi = output(x.count) { out in
            ptr(x) { xp in ptr(y) { yp in ptr(g) { gp in
                UnaryKernels.backward(op, x: xp, y: yp, gradOutput: gp, gradInput: out, count: x.count)
            } } }
        }
        for i in 0..<x.count {
            let v = Double(x[i])
            let h = 1e-4 * max(1, Swift.abs(v))
            let derivative = (reference(op, v + h) - reference(op, v - h)) / (2 * h)
            let expected = Double(g[i]) * derivative
            #expect(Swift.abs(Double(gi[i]) - expected) <= 2e-5 * max(1, Swift.abs(expected)),
                    "\(op)'(\(x[i])) * \(g[i]) = \(gi[i]), expected \(expected)")
        }
    }

    @Test func derivativesAtKinks() {
        let x: [Float] = [0, -0.0]
        let g: [Float] = [1, 1]
        for (op, expected) in [(UnaryOp.abs, Float(0)), (.relu, 0), (.leakyRelu(slope: 0.25), 0.25)] {
            let y = output(2) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: 2) } }
            let gi = output(2) { out in
                ptr(x) { xp in ptr(y) { yp in ptr(g) { UnaryKernels.backward(op, x: xp, y: yp, gradOutput: $0, gradInput: out, count: 2) } } }
            }
            #expect(gi == [expected, expected], "\(op)")
        }
    }

    @Test func tailsKeepRelativeAccuracy() {
        // Likelihoods use the far tails of Phi; erfc for large arguments.
        let x: [Float] = [-12, -9, -6, -4, 4, 6, 9]
        let phi = output(x.count) { out in ptr(x) { UnaryKernels.forward(.gaussianCDF, x: $0, y: out, count: x.count) } }
        let e = output(x.count) { out in ptr(x) { UnaryKernels.forward(.erfc, x: $0, y: out, count: x.count) } }
        for i in 0..<x.count {
            let p = 0.5 * Foundation.erfc(-Double(x[i]) / 2.0.squareRoot())
            #expect(Swift.abs(Double(phi[i]) - p) <= 2e-6 * p, "Phi(\(x[i])) = \(phi[i]), expected \(p)")
            let c = Foundation.erfc(Double(x[i]))
            #expect(Swift.abs(Double(e[i]) - c) <= 2e-6 * c, "erfc(\(x[i])) = \(e[i]), expected \(c)")
        }
    }

    @Test func specialValues() {
        let x: [Float] = [.infinity, -.infinity, .nan, 0, 200, -200, -100]
        func run(_ op: UnaryOp) -> [Float] {
            output(x.count) { out in ptr(x) { UnaryKernels.forward(op, x: $0, y: out, count: x.count) } }
        }
        let exp = run(.exp)
        #expect(exp[0] == .infinity && exp[1] == 0 && exp[2].isNaN && exp[3] == 1 && exp[4] == .infinity && exp[5] == 0)
        #expect(exp[6] == Float(Foundation.exp(-100.0)))  // subnormal results are kept
        let log = run(.log)
        #expect(log[0] == .infinity && log[1].isNaN && log[2].isNaN && log[3] == -.infinity)
        let sigmoid = run(.sigmoid)
        #expect(sigmoid[0] == 1 && sigmoid[1] == 0 && sigmoid[2].isNaN && sigmoid[3] == 0.5)
        let tanh = run(.tanh)
        #expect(tanh[0] == 1 && tanh[1] == -1 && tanh[2].isNaN && tanh[3] == 0)
        let softplus = run(.softplus)
        #expect(softplus[0] == .infinity && softplus[1] == 0 && softplus[2].isNaN && softplus[4] == 200)
        let phi = run(.gaussianCDF)
        #expect(phi[0] == 1 && phi[1] == 0 && phi[2].isNaN && phi[3] == 0.5)
        let erfc = run(.erfc)
        #expect(erfc[0] == 0 && erfc[1] == 2 && erfc[2].isNaN && erfc[3] == 1)
    }

    @Test func largeBuffersMatchSmallOnes() {
        // The parallel path (many chunks) computes the same values as one chunk.
        var rng = KernelRNG(state: 0x0A11_0003)
        let x = rng.floats(200_000, -5, 5)
        let whole = output(x.count) { out in ptr(x) { UnaryKernels.forward(.gelu, x: $0, y: out, count: x.count) } }
        let pieces = output(x.count) { out in
            ptr(x) { xp in
                var start = 0
                while start < x.count {
                    let n = min(777, x.count - start)
                    UnaryKernels.forward(.gelu, x: xp + start, y: out + start, count: n)
                    start += n
                }
            }
        }
        #expect(bits(whole) == bits(pieces))
    }
}
