import CLIC
import LICTensor

/// Cases of a transform (lic.transform/1 and /3). The input shape comes from
/// probing output_shape with channel counts the parameters suggest; the
/// spatial size is a small multiple of the alignment.
enum TransformChecks {
    struct Probe {
        var node: TransformNode
        var channels: Int
        var size: Int
        var alignment: Int
        func shape(_ height: Int, _ width: Int, channels: Int? = nil) -> [Int] { [1, channels ?? self.channels, height, width] }
        var standard: [Int] { shape(size, size) }
    }

    /// Finds an input shape output_shape accepts for an instance made from `params`.
    static func probe(_ subject: CheckSubject, _ params: ParamSetStorage, values: [String: ParamValue]) throws -> Probe {
        let node = try subject.transform(params)
        let alignment = node.alignment
        let size = alignment > 1 ? 2 * alignment : 4
        var last = ""
        for channels in subject.channelCandidates(values) {
            do {
                _ = try node.outputShape(for: [1, channels, size, size])
                return Probe(node: node, channels: channels, size: size, alignment: alignment)
            } catch {
                guard Expect.isProperRefusal(error) else { throw error }
                last = "\(error)"
            }
        }
        throw NoAcceptedInput(detail: "output_shape refused [1, C, \(size), \(size)] for every C tried (last: \(last))")
    }

    /// Applies the node to a pseudo-random input of `shape` in [0, 1) and
    /// checks the result against output_shape; returns the output.
    @discardableResult
    static func apply(_ node: TransformNode, _ shape: [Int], mode: CallContext.Mode = .eval, seed: UInt64 = 1) throws -> Tensor {
        let input = try CheckData.tensor(shape, seed: seed, in: 0..<1)
        var context = CallContext(mode: mode, seed: 7)
        (context.width, context.height) = shape.count == 4 ? (shape[3], shape[2]) : (0, 0)
        let output = try GradientMode.withoutGradients { try node.apply([input], context: context) }
        let predicted: [Int]
        do {
            predicted = try node.outputShape(for: shape)
        } catch {
            throw CheckFailure("apply accepted \(CheckData.shapeText(shape)) but output_shape refused it: \(error)")
        }
        guard output.shape == predicted else {
            throw CheckFailure("apply gave \(CheckData.shapeText(output.shape)) for \(CheckData.shapeText(shape)), output_shape said \(CheckData.shapeText(predicted))")
        }
        try CheckData.expectFinite(output.values, "output for \(CheckData.shapeText(shape))")
        return output
    }

    static func smoke(_ subject: CheckSubject) -> (ParamSetStorage, [String: ParamValue]) throws -> String {
        { params, values in
            let probe: Probe
            do {
                probe = try Self.probe(subject, params, values: values)
            } catch let error as NoAcceptedInput {
                return "created; \(error.detail)"
            }
            let output = try apply(probe.node, probe.standard)
            return "\(CheckData.shapeText(probe.standard)) -> \(CheckData.shapeText(output.shape))"
        }
    }

    static func cases(_ subject: CheckSubject) -> [CheckCase] {
        var probed: Result<Probe, any Error>?
        /// The base instance and input shape, probed once per worker.
        func base() throws -> Probe {
            if probed == nil { probed = Result { try probe(subject, try subject.parameters(), values: subject.base) } }
            return try probed!.get()
        }
        func work(_ name: String, mustSucceed: Bool, _ body: @escaping (Probe) throws -> String) -> CheckCase {
            CheckCase(name: name) {
                let probe: Probe
                do { probe = try base() } catch { return .skip("no accepted input shape: \(error)") }
                return mustSucceed ? Expect.success { try body(probe) } : Expect.successOrRefusal { try body(probe) }
            }
        }
        func shaped(_ name: String, mustSucceed: Bool, _ shape: @escaping (Probe) -> [Int]) -> CheckCase {
            work(name, mustSucceed: mustSucceed) { probe in
                let input = shape(probe)
                return "\(CheckData.shapeText(input)) -> \(CheckData.shapeText(try apply(probe.node, input).shape))"
            }
        }
        var cases = [CheckCase(name: "inputs") {
            Expect.success {
                let probe = try base()
                return "\(CheckData.shapeText(probe.standard)) -> \(CheckData.shapeText(try apply(probe.node, probe.standard).shape)), alignment \(probe.alignment)"
            }
        }]
        if subject.info.interfaceID == LIC_INTERFACE_TRANSFORM_3 {
            cases.append(work("apply.train", mustSucceed: true) { probe in
                "\(CheckData.shapeText(try apply(probe.node, probe.standard, mode: .train).shape))"
            })
        }
        cases += [
            shaped("shape.1x1", mustSucceed: false) { $0.shape(1, 1) },
            shaped("shape.odd", mustSucceed: true) { $0.alignment > 1 ? $0.shape(3 * $0.alignment, $0.alignment) : $0.shape(13, 7) },
            // Not multiples of the alignment (with alignment 1, merely odd).
            shaped("shape.unaligned", mustSucceed: false) { $0.shape(2 * $0.alignment + 1, 2 * $0.alignment - 1) },
            shaped("shape.zero", mustSucceed: false) { $0.shape(0, 0) },
            shaped("shape.batch0", mustSucceed: false) { [0, $0.channels, $0.size, $0.size] },
            shaped("shape.batch2", mustSucceed: false) { [2, $0.channels, $0.size, $0.size] },
            shaped("shape.channels", mustSucceed: false) { $0.shape($0.size, $0.size, channels: $0.channels + 1) },
            shaped("shape.rank3", mustSucceed: false) { [$0.channels, $0.size, $0.size] },
            work("shape.huge", mustSucceed: false) { probe in
                // Only the shape: nothing this large can be allocated.
                let side = probe.alignment << 40
                return "output_shape gave \(CheckData.shapeText(try probe.node.outputShape(for: probe.shape(side, side))))"
            },
            work("input.huge", mustSucceed: false) { probe in
                // About 4 MiB of input; no single allocation may exceed it.
                let side = max(probe.alignment, (Int((Double(1 << 20) / Double(probe.channels)).squareRoot()) / probe.alignment) * probe.alignment)
                let shape = probe.shape(side, side)
                return try CheckData.withAllocationLimit(shape.reduce(4, *)) {
                    "\(CheckData.shapeText(shape)) -> \(CheckData.shapeText(try apply(probe.node, shape).shape))"
                }
            },
            work("determinism", mustSucceed: true) { probe in
                let first = try apply(probe.node, probe.standard).values
                let again = try apply(try subject.transform(try subject.parameters()), probe.standard).values
                try CheckData.expectIdentical(first, again, "a second instance's output")
                try CheckData.expectIdentical(first, try apply(probe.node, probe.standard).values, "the same instance's second output")
                return "identical bytes from two instances and two calls"
            },
            work("threads", mustSucceed: true) { probe in
                let one = try CheckData.withThreads(1) { try apply(probe.node, probe.standard).values }
                let two = try CheckData.withThreads(2) { try apply(probe.node, probe.standard).values }
                try CheckData.expectIdentical(one, two, "output with 2 threads vs 1")
                return "identical bytes with 1 and 2 threads"
            },
        ]
        return cases
    }
}

/// No input shape the probe tried was accepted (not a failure by itself).
struct NoAcceptedInput: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}
