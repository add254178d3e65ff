import CLIC

/// The C tables of the ABI 1.2 interfaces for Swift components
/// (lic.transform/3, lic.entropy-model/3, lic.quantizer/2, lic.regularizer/1).
extension Bridge {
    nonisolated(unsafe) static let transformV3Interface: UnsafeRawPointer = {
        let table = UnsafeMutablePointer<lic_transform_v3>.allocate(capacity: 1)
        table.initialize(to: lic_transform_v3(
            struct_size: UInt32(MemoryLayout<lic_transform_v3>.size),
            create: create, destroy: destroy,
            alignment: { instance in
                guard let transform = try? object(instance, as: (any DifferentiableTransformComponent).self) else { return 1 }
                return UInt32(clamping: max(1, transform.alignment))
            },
            output_shape: { instance, rank, input, output, error in
                reportingErrors(error) {
                    let transform = try object(instance, as: (any DifferentiableTransformComponent).self)
                    try fillShape(rank, input, output) { try transform.outputShape(for: $0) }
                }
            },
            apply: { instance, context, inputs, count, output, error in
                reportingErrors(error) {
                    let transform = try object(instance, as: (any DifferentiableTransformComponent).self)
                    let ops = try Bridge.ops()
                    guard let inputs, count >= 1, let output else { throw PluginError(.invalidArgument, "apply: no inputs or output") }
                    let tensors = try (0..<Int(count)).map { index in
                        guard let tensor = borrowed(inputs[index], ops) else {
                            throw PluginError(.invalidArgument, "apply: input \(index) is NULL")
                        }
                        return tensor
                    }
                    give(try transform.apply(tensors, context: CallContext(context)), to: output)
                }
            },
            halo: { instance in
                guard let transform = try? object(instance, as: (any DifferentiableTransformComponent).self) else { return -1 }
                return transform.halo.map { Int64($0) } ?? -1
            }))
        return UnsafeRawPointer(table)
    }()

    /// Hands every produced tensor to the caller's lic_entropy_outputs.
    static func give(_ result: EntropyOutputs, to outputs: UnsafeMutablePointer<lic_entropy_outputs>?) throws {
        guard let outputs, outputs.pointee.struct_size >= UInt32(MemoryLayout<lic_entropy_outputs>.size) else {
            throw PluginError(.invalidArgument, "missing or short lic_entropy_outputs")
        }
        func handOut(_ tensor: Tensor?) -> OpaquePointer? {
            guard let tensor else { return nil }
            tensor.ops.pointee.retain(tensor.handle)
            return tensor.handle
        }
        outputs.pointee.y_hat = handOut(result.yHat)
        outputs.pointee.likelihoods = handOut(result.likelihoods)
        outputs.pointee.means = handOut(result.means)
        outputs.pointee.scales = handOut(result.scales)
    }

    nonisolated(unsafe) static let entropyModelV3Interface: UnsafeRawPointer = {
        let table = UnsafeMutablePointer<lic_entropy_model_v3>.allocate(capacity: 1)
        table.initialize(to: lic_entropy_model_v3(
            struct_size: UInt32(MemoryLayout<lic_entropy_model_v3>.size),
            create: create, destroy: destroy,
            forward: { instance, context, y, condition, quantizer, outputs, error in
                reportingErrors(error) {
                    let model = try object(instance, as: (any LearnedEntropyModelComponent).self)
                    let ops = try Bridge.ops()
                    guard let input = borrowed(y, ops) else { throw PluginError(.invalidArgument, "forward: missing y") }
                    try give(model.forward(input, condition: borrowed(condition, ops), quantizer: QuantizerHandle(quantizer),
                                           context: CallContext(context)), to: outputs)
                }
            },
            auxiliary_loss: { instance, context, loss, error in
                reportingErrors(error) {
                    let model = try object(instance, as: (any LearnedEntropyModelComponent).self)
                    guard let loss else { throw PluginError(.invalidArgument, "auxiliary_loss: no output") }
                    loss.pointee = nil
                    if let value = try model.auxiliaryLoss(context: CallContext(context)) { give(value, to: loss) }
                }
            },
            prepare_coding: { instance, error in
                reportingErrors(error) { try object(instance, as: (any LearnedEntropyModelComponent).self).prepareCoding() }
            },
            encode: { instance, context, y, condition, quantizer, coding, outputs, error in
                reportingErrors(error) {
                    let model = try object(instance, as: (any LearnedEntropyModelComponent).self)
                    let ops = try Bridge.ops()
                    guard let input = borrowed(y, ops), let coding, let host = Bridge.host else {
                        throw PluginError(.invalidArgument, "encode: missing y or coding context")
                    }
                    try give(model.encode(input, condition: borrowed(condition, ops), quantizer: QuantizerHandle(quantizer),
                                          context: CallContext(context), coding: CodingContext(pointer: coding, host: host)), to: outputs)
                }
            },
            decode: { instance, context, rank, shape, condition, quantizer, coding, outputs, error in
                reportingErrors(error) {
                    let model = try object(instance, as: (any LearnedEntropyModelComponent).self)
                    let ops = try Bridge.ops()
                    guard let shape, rank >= 1, rank <= LIC_MAX_RANK, let coding, let host = Bridge.host else {
                        throw PluginError(.invalidArgument, "decode: missing shape or coding context")
                    }
                    let dims = (0..<Int(rank)).map { Int(shape[$0]) }
                    try give(model.decode(shape: dims, condition: borrowed(condition, ops), quantizer: QuantizerHandle(quantizer),
                                          context: CallContext(context), coding: CodingContext(pointer: coding, host: host)), to: outputs)
                }
            }))
        return UnsafeRawPointer(table)
    }()

    /// A quantizer scope as a C pointer: a retained box around the component's state.
    final class ScopeBox {
        let state: AnyObject?
        init(_ state: AnyObject?) { self.state = state }
    }

    static func scopeState(_ scope: UnsafeMutableRawPointer?) -> AnyObject? {
        scope.map { Unmanaged<ScopeBox>.fromOpaque($0).takeUnretainedValue().state } ?? nil
    }

    nonisolated(unsafe) static let quantizerV2Interface: UnsafeRawPointer = {
        let table = UnsafeMutablePointer<lic_quantizer_v2>.allocate(capacity: 1)
        table.initialize(to: lic_quantizer_v2(
            struct_size: UInt32(MemoryLayout<lic_quantizer_v2>.size),
            create: create, destroy: destroy,
            surrogate: { instance, context, y, means, output, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any TrainableQuantizerComponent).self)
                    let ops = try Bridge.ops()
                    guard let input = borrowed(y, ops), let output else { throw PluginError(.invalidArgument, "surrogate: missing y or output") }
                    give(try quantizer.surrogate(input, means: borrowed(means, ops), context: CallContext(context)), to: output)
                }
            },
            begin_scope: { instance, context, scope, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any TrainableQuantizerComponent).self)
                    guard let scope else { throw PluginError(.invalidArgument, "begin_scope: no output") }
                    // A stateless quantizer's scope is NULL (see lic_quantizer_v2.begin_scope).
                    scope.pointee = try quantizer.beginScope(context: CallContext(context)).map { Unmanaged.passRetained(ScopeBox($0)).toOpaque() }
                }
            },
            end_scope: { _, scope in
                guard let scope else { return }
                Unmanaged<ScopeBox>.fromOpaque(scope).release()
            },
            quantize: { instance, scope, context, batch, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any TrainableQuantizerComponent).self)
                    guard let batch else { throw PluginError(.invalidArgument, "quantize: no batch") }
                    try quantizer.quantize(QuantizeBatch(batch), scope: scopeState(scope), context: CallContext(context))
                }
            },
            dequantize: { instance, scope, context, symbols, means, count, values, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any TrainableQuantizerComponent).self)
                    guard symbols != nil || count == 0, values != nil || count == 0 else {
                        throw PluginError(.invalidArgument, "dequantize: missing arrays")
                    }
                    try quantizer.dequantize(UnsafeBufferPointer(start: symbols, count: count),
                                             means: means.map { UnsafeBufferPointer(start: $0, count: count) },
                                             into: UnsafeMutableBufferPointer(start: values, count: count),
                                             scope: scopeState(scope), context: CallContext(context))
                }
            },
            levels: { instance, scope, first, count, values, error in
                reportingErrors(error) {
                    let quantizer = try object(instance, as: (any TrainableQuantizerComponent).self)
                    guard let values else { throw PluginError(.invalidArgument, "levels: no output") }
                    let levels = try quantizer.levels(first: first, count: Int(count), scope: scopeState(scope))
                    guard levels.count == Int(count) else { throw PluginError(.internalError, "levels: \(levels.count) values for \(count)") }
                    for (index, level) in levels.enumerated() { values[index] = level }
                }
            },
            level_set: { instance, scope in
                (try? object(instance, as: (any TrainableQuantizerComponent).self))?.levelSet(scope: scopeState(scope)) ?? 0
            }))
        return UnsafeRawPointer(table)
    }()

    /// lic.regularizer/1 without fit_loss (the regularizer's own parameters,
    /// if any, are trained jointly with the codec).
    nonisolated(unsafe) static let regularizerInterface: UnsafeRawPointer = regularizerTable(alternating: false)
    /// lic.regularizer/1 with fit_loss: alternating updates.
    nonisolated(unsafe) static let alternatingRegularizerInterface: UnsafeRawPointer = regularizerTable(alternating: true)

    /// Both tables share `loss`; the alternating one adds `fit_loss`. The
    /// named tensors are borrowed for the call; each returned term is a new
    /// reference for the host. Called from the training thread.
    private static func regularizerTable(alternating: Bool) -> UnsafeRawPointer {
        let table = UnsafeMutablePointer<lic_regularizer_v1>.allocate(capacity: 1)
        table.initialize(to: lic_regularizer_v1(
            struct_size: UInt32(MemoryLayout<lic_regularizer_v1>.size),
            create: Bridge.create, destroy: Bridge.destroy,
            loss: { instance, context, tensors, term, error in
                reportingErrors(error) {
                    let regularizer = try Bridge.object(instance, as: (any RegularizerComponent).self)
                    guard let term else { throw PluginError(.invalidArgument, "loss: no output") }
                    term.pointee = nil
                    Bridge.give(try regularizer.loss(try Bridge.namedTensors(tensors), context: CallContext(context)), to: term)
                }
            },
            fit_loss: alternating ? { instance, context, tensors, loss, error in
                reportingErrors(error) {
                    let regularizer = try Bridge.object(instance, as: (any AlternatingRegularizerComponent).self)
                    guard let loss else { throw PluginError(.invalidArgument, "fit_loss: no output") }
                    loss.pointee = nil
                    if let value = try regularizer.fitLoss(try Bridge.namedTensors(tensors), context: CallContext(context)) { Bridge.give(value, to: loss) }
                }
            } : nil))
        return UnsafeRawPointer(table)
    }

    static func namedTensors(_ set: UnsafePointer<lic_named_tensors>?) throws -> NamedTensors {
        guard let set, set.pointee.struct_size >= UInt32(MemoryLayout<lic_named_tensors>.size) else {
            throw PluginError(.invalidArgument, "missing or short lic_named_tensors")
        }
        return NamedTensors(set: set, ops: try ops())
    }
}
