import CLIC
import LICTensor

/// Cases of an entropy model (lic.entropy-model/1 and /3), coded with the
/// pipeline's default quantizer: encode then decode must agree bit for bit
/// on every latent the model accepts, damaged streams must be refused (or
/// decoded) without a crash, and the bytes must not depend on the run or
/// the thread count.
enum EntropyChecks {
    static func smoke(_ subject: CheckSubject) -> (ParamSetStorage, [String: ParamValue]) throws -> String {
        { params, values in
            let coding: EntropyCoding
            do {
                coding = try EntropyCoding.probe(subject, params, values: values)
            } catch let error as NoAcceptedInput {
                return "created; \(error.detail)"
            }
            let shape = coding.shape(4, 4)
            return try coding.roundTrip(try CheckData.tensor(shape, seed: 3, in: -6..<6), condition: try coding.condition(for: shape)).summary
        }
    }

    static func cases(_ subject: CheckSubject) -> [CheckCase] {
        var probed: Result<EntropyCoding, any Error>?
        func base() throws -> EntropyCoding {
            if probed == nil { probed = Result { try EntropyCoding.probe(subject, try subject.parameters(), values: subject.base) } }
            return try probed!.get()
        }
        func work(_ name: String, mustSucceed: Bool, _ body: @escaping (EntropyCoding) throws -> String) -> CheckCase {
            CheckCase(name: name) {
                let coding: EntropyCoding
                do { coding = try base() } catch { return .skip("no accepted latent: \(error)") }
                return mustSucceed ? Expect.success { try body(coding) } : Expect.successOrRefusal { try body(coding) }
            }
        }
        /// A round trip of y (values in `range`, or `values` when given) with the condition for its shape.
        func roundTrip(_ name: String, mustSucceed: Bool, range: Range<Float> = -6..<6, values: ((Int) -> [Float])? = nil,
                       _ shape: @escaping (EntropyCoding) -> [Int]) -> CheckCase {
            work(name, mustSucceed: mustSucceed) { coding in
                let s = shape(coding)
                let y = try values.map { try Tensor(shape: s, values: $0(s.reduce(1, *))) } ?? CheckData.tensor(s, seed: 3, in: range)
                return try coding.roundTrip(y, condition: try coding.condition(for: s)).summary
            }
        }
        /// Encodes a standard latent, damages its streams, and decodes them.
        func damaged(_ name: String, _ damage: @escaping ([[UInt8]]) -> [[UInt8]]) -> CheckCase {
            work(name, mustSucceed: false) { coding in
                let s = coding.shape(6, 6)
                let condition = try coding.condition(for: s)
                let coded = try coding.encode(try CheckData.tensor(s, seed: 3, in: -6..<6), condition: condition)
                let decoded = try coding.decode(damage(coded.streams), shape: s, condition: condition, damaged: true)
                return "decoded \(decoded.count) values without an error"
            }
        }

        var cases = [CheckCase(name: "inputs") {
            Expect.success {
                let coding = try base()
                let shape = coding.shape(4, 4)
                return try coding.roundTrip(try CheckData.tensor(shape, seed: 3, in: -6..<6), condition: try coding.condition(for: shape)).summary
            }
        }]
        if subject.info.interfaceID == LIC_INTERFACE_ENTROPY_MODEL_3 {
            for mode in [CallContext.Mode.eval, .train] {
                cases.append(work("forward.\(mode)", mustSucceed: true) { coding in try forward(coding, mode: mode) })
            }
            cases.append(work("auxiliary_loss", mustSucceed: true) { coding in
                guard let loss = try GradientMode.withoutGradients({ try coding.node.auxiliaryLoss(context: CallContext(mode: .train)) }) else {
                    return "none"
                }
                guard loss.count == 1, loss.values[0].isFinite else { throw CheckFailure("auxiliary loss \(CheckData.shapeText(loss.shape)) is not a finite scalar") }
                return "\(loss.values[0])"
            })
        }
        cases += [
            roundTrip("roundtrip", mustSucceed: true, range: -40..<40) { $0.shape(8, 6) },
            roundTrip("shape.1x1", mustSucceed: true) { $0.shape(1, 1) },
            roundTrip("shape.odd", mustSucceed: true) { $0.shape(7, 5) },
            roundTrip("shape.zero", mustSucceed: false) { $0.shape(0, 0) },
            roundTrip("shape.batch2", mustSucceed: false) { [2, $0.channels, 4, 4] },
            work("shape.channels", mustSucceed: false) { coding in
                // One channel more than the condition (and the parameters) describe.
                let y = try CheckData.tensor(coding.shape(4, 4, channels: coding.channels + 1), seed: 3, in: -6..<6)
                return try coding.roundTrip(y, condition: try coding.condition(for: coding.shape(4, 4))).summary
            },
            work("condition.other", mustSucceed: false) { coding in
                // Without the condition the model wants, or with one it does not.
                let s = coding.shape(4, 4)
                let other = try coding.condition(for: s, layout: coding.layout == .none ? .single : EntropyCoding.Layout.none)
                return "with \(other == nil ? "no condition" : "an unexpected condition"): "
                    + (try coding.roundTrip(try CheckData.tensor(s, seed: 3, in: -6..<6), condition: other).summary)
            },
            roundTrip("values.extreme", mustSucceed: false, values: { count in
                (0..<count).map { i in [0, 1e4, -1e4, 1e9, -1e9, 0.5, -0.5][i % 7] }
            }) { $0.shape(4, 4) },
            roundTrip("values.nonfinite", mustSucceed: false, values: { count in
                (0..<count).map { i in [Float.nan, .infinity, -.infinity, 1][i % 4] }
            }) { $0.shape(4, 4) },
            damaged("decode.truncated") { $0.map { Array($0.prefix($0.count / 2)) } },
            damaged("decode.garbage") { streams in
                streams.enumerated().map { index, bytes in
                    CheckData.values(bytes.count, seed: UInt64(index + 21), in: 0..<256).map { UInt8($0) }
                }
            },
            damaged("decode.empty") { _ in [] },
            work("input.huge", mustSucceed: false) { coding in
                // About 1 MiB of latent; no single allocation may exceed it.
                let side = max(1, Int((Double(1 << 18) / Double(coding.channels)).squareRoot()))
                let s = coding.shape(side, side)
                let y = try CheckData.tensor(s, seed: 3, in: -6..<6), condition = try coding.condition(for: s)
                return try CheckData.withAllocationLimit(s.reduce(4, *)) { try coding.roundTrip(y, condition: condition).summary }
            },
            work("determinism", mustSucceed: true) { coding in
                let s = coding.shape(6, 6)
                let y = try CheckData.tensor(s, seed: 3, in: -6..<6), condition = try coding.condition(for: s)
                let first = try coding.encode(y, condition: condition)
                let fresh = EntropyCoding(node: try subject.entropyModel(try subject.parameters()), quantizer: try subject.defaultQuantizer(),
                                          layout: coding.layout, channels: coding.channels)
                let again = try fresh.encode(y, condition: condition)
                try CheckData.expectIdentical(first.yHat, again.yHat, "a second instance's y_hat")
                guard first.streams == again.streams else { throw CheckFailure("a second instance wrote different streams") }
                guard try coding.encode(y, condition: condition).streams == first.streams else {
                    throw CheckFailure("a second encode by the same instance wrote different streams")
                }
                return "identical streams and y_hat from two instances and two calls"
            },
            work("threads", mustSucceed: true) { coding in
                let s = coding.shape(6, 6)
                let y = try CheckData.tensor(s, seed: 3, in: -6..<6), condition = try coding.condition(for: s)
                let one = try CheckData.withThreads(1) { try coding.encode(y, condition: condition) }
                let two = try CheckData.withThreads(2) { try coding.encode(y, condition: condition) }
                try CheckData.expectIdentical(one.yHat, two.yHat, "y_hat with 2 threads vs 1")
                guard one.streams == two.streams else { throw CheckFailure("streams differ between 1 and 2 threads") }
                return "identical streams with 1 and 2 threads"
            },
        ]
        return cases
    }

    /// A /3 forward pass: y_hat and likelihoods of y's shape, likelihoods in (0, 1].
    static func forward(_ coding: EntropyCoding, mode: CallContext.Mode) throws -> String {
        let s = coding.shape(4, 4)
        let y = try CheckData.tensor(s, seed: 3, in: -6..<6)
        let result = try GradientMode.withoutGradients {
            try coding.node.forward(y, condition: try coding.condition(for: s), quantizer: coding.quantizer, context: EntropyCoding.context(mode, s))
        }
        guard result.yHat.shape == s else { throw CheckFailure("forward gave y_hat \(CheckData.shapeText(result.yHat.shape)) for y \(CheckData.shapeText(s))") }
        guard let likelihoods = result.likelihoods else { throw CheckFailure("forward returned no likelihoods") }
        guard likelihoods.shape == s else { throw CheckFailure("likelihoods are \(CheckData.shapeText(likelihoods.shape)), y is \(CheckData.shapeText(s))") }
        if let bad = likelihoods.values.first(where: { !($0 > 0 && $0 <= 1) }) { throw CheckFailure("a likelihood is \(bad), outside (0, 1]") }
        try CheckData.expectFinite(result.yHat.values, "y_hat")
        return "y_hat and likelihoods \(CheckData.shapeText(s))"
    }
}
