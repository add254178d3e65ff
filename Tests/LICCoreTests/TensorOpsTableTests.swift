import CLIC
import Foundation
import Testing
@testable import LICCore
import LICTensor

/// The ABI 1.1 op table, called the way a C plugin calls it.
@Suite struct TensorOpsTableTests {
    let ops = TensorOpsTable.table.pointee

    func make(_ values: [Float], _ shape: [Int]) throws -> OpaquePointer {
        var out: OpaquePointer?
        let dims = shape.map(Int64.init)
        try expectOK { ops.create(UInt32(dims.count), dims, values, &out, $0) }
        return out!
    }

    func values(_ handle: OpaquePointer) throws -> [Float] {
        var view = lic_tensor_view()
        try expectOK { ops.view(handle, &view, $0) }
        let count = (0..<Int(view.rank)).reduce(1) { product, axis in
            product * Int(withUnsafeBytes(of: view.shape) { $0.load(fromByteOffset: axis * 8, as: Int64.self) })
        }
        return Array(UnsafeBufferPointer(start: view.data, count: count))
    }

    func expectOK(_ body: (UnsafeMutablePointer<lic_error>) -> lic_status) throws {
        var error = lic_error()
        error.struct_size = UInt32(MemoryLayout<lic_error>.size)
        let status = body(&error)
        let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard status == LIC_OK else { throw LICError("op failed: \(message)") }
    }

    @Test func elementwiseReductionAndShapeOps() throws {
        let a = try make([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]), b = try make([10], [1])
        defer { ops.release(a); ops.release(b) }
        var sum: OpaquePointer?, total: OpaquePointer?, shuffled: OpaquePointer?
        try expectOK { ops.binary(LIC_BINARY_ADD, a, b, &sum, $0) }
        #expect(try values(sum!) == [11, 12, 13, 14, 15, 16])
        try expectOK { ops.sum(sum, nil, 0, 0, &total, $0) }
        #expect(try values(total!) == [81])
        let four = try make([1, 2, 3, 4], [1, 4, 1, 1])
        try expectOK { ops.pixel_shuffle(four, 2, 0, &shuffled, $0) }
        #expect(try values(shuffled!) == [1, 2, 3, 4])
        [sum, total, shuffled, four].forEach { ops.release($0) }
    }

    @Test func errorsAreReportedNotThrownAcrossTheBoundary() throws {
        let a = try make([1, 2, 3], [3]), b = try make([1, 2], [2])
        defer { ops.release(a); ops.release(b) }
        var out: OpaquePointer?
        var error = lic_error()
        error.struct_size = UInt32(MemoryLayout<lic_error>.size)
        let status = ops.binary(LIC_BINARY_ADD, a, b, &out, &error)
        #expect(status != LIC_OK && out == nil && error.fill_count == 1)
        let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #expect(message.contains("cannot broadcast"))
        error = lic_error()
        #expect(ops.unary(lic_unary_op(rawValue: 999), 0, a, &out, &error) != LIC_OK && error.fill_count == 1)
    }

    /// One call expected to fail: its status, how often it filled the sink,
    /// the message, and what it left in the output.
    func failure(_ body: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<lic_error>) -> lic_status)
        -> (status: lic_status, fills: UInt32, message: String, out: OpaquePointer?) {
        var out = OpaquePointer(bitPattern: 0x40)  // a failed op must clear it
        var error = lic_error()
        error.struct_size = UInt32(MemoryLayout<lic_error>.size)
        let status = body(&out, &error)
        let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return (status, error.fill_count, message, out)
    }

    /// Shapes that fail before any memory is asked for: the plugin gets
    /// INVALID_ARGUMENT and one report, and the host does not abort.
    @Test func impossibleShapesAreInvalidArguments() {
        let shapes: [[Int64]] = [
            [1 << 31, 1 << 31],         // 2^62 elements: past maxElements (2^32)
            [(1 << 32) + 1],            // one element past maxElements
            [1 << 32, 1 << 32],         // 2^64: the product overflows
            [Int64.max, Int64.max, 2],  // overflows at once
            [4, -1],                    // a negative size
            [1, 1, 1, 1, 1, 1, 1, 1, 1],  // rank 9
        ]
        for shape in shapes {
            let result = failure { ops.create(UInt32(shape.count), shape, nil, $0, $1) }
            #expect(result.status == LIC_ERROR_INVALID_ARGUMENT, "\(shape)")
            #expect(result.fills == 1 && result.out == nil, "\(shape)")
            #expect(result.message.hasPrefix("shape error: "), "\(shape): \(result.message)")
        }
    }

    @Test func tensorErrorsMapToTheirStatus() {
        #expect(TensorOpsTable.status(for: TensorError.outOfMemory("refused")) == LIC_ERROR_OUT_OF_MEMORY)
        #expect(TensorOpsTable.status(for: TensorError.shape("bad")) == LIC_ERROR_INVALID_ARGUMENT)
        #expect(TensorOpsTable.status(for: TensorError.invalidArgument("bad")) == LIC_ERROR_INVALID_ARGUMENT)
        #expect(TensorOpsTable.status(for: TensorError.backend("dnnl_primitive_create")) == LIC_ERROR_INTERNAL)
        #expect(TensorOpsTable.status(for: LICError("from a custom op")) == LIC_ERROR_INTERNAL)
        // Through an op: a NULL tensor is the caller's mistake.
        #expect(failure { ops.unary(LIC_UNARY_EXP, 0, nil, $0, $1) }.status == LIC_ERROR_INVALID_ARGUMENT)
    }

    /// A plugin asking for more than the allocation limit (lowered to 1 GiB
    /// here) gets OUT_OF_MEMORY back, one report and no tensor - not an abort.
    @Test func aRefusedAllocationIsOutOfMemory() throws {
        let saved = TensorMemory.maxAllocationBytes
        TensorMemory.maxAllocationBytes = 1 << 30
        defer { TensorMemory.maxAllocationBytes = saved }
        for shape: [Int64] in [[1 << 29], [1 << 15, 1 << 14]] {
            let result = failure { ops.create(UInt32(shape.count), shape, nil, $0, $1) }
            #expect(result.status == LIC_ERROR_OUT_OF_MEMORY && result.fills == 1 && result.out == nil)
            #expect(result.message == "out of memory: cannot allocate 536870912 elements (2147483648 bytes)")
        }
    }

    /// A plugin registering a parameter whose shape overflows, or is over the
    /// allocation limit, gets an error status back for every initializer:
    /// no trap on the element count, no abort allocating the initial values.
    @Test func aHugeParameterIsAnErrorNotAnAbort() throws {
        let saved = TensorMemory.maxAllocationBytes
        TensorMemory.maxAllocationBytes = 1 << 30
        defer { TensorMemory.maxAllocationBytes = saved }
        let store = ParameterStore()
        let one: [Float] = [1]
        try TensorOpsTable.$parameterScope.withValue(.init(store: store, prefix: "stage")) {
            for initializer in [LIC_INIT_ZEROS, LIC_INIT_CONSTANT, LIC_INIT_UNIFORM, LIC_INIT_KAIMING_UNIFORM, LIC_INIT_VALUES] {
                let overflow: [Int64] = [1 << 40, 1 << 40]
                let refused = failure { ops.parameter("w", 2, overflow, initializer, 0, 1, 0, one, LIC_GROUP_MAIN, $0, $1) }
                #expect(refused.status == LIC_ERROR_INVALID_ARGUMENT && refused.fills == 1 && refused.out == nil, "\(refused.message)")
                let tooLarge: [Int64] = [1 << 29]
                let result = failure { ops.parameter("w", 1, tooLarge, initializer, 0, 1, 0, one, LIC_GROUP_MAIN, $0, $1) }
                #expect(result.status == LIC_ERROR_OUT_OF_MEMORY && result.fills == 1 && result.out == nil, "\(result.message)")
            }
            // The values of LIC_INIT_VALUES land in the parameter.
            var weight: OpaquePointer?
            try expectOK { ops.parameter("v", 1, [3], LIC_INIT_VALUES, 0, 0, 0, [1, 2, 3], LIC_GROUP_MAIN, &weight, $0) }
            #expect(try TensorOpsTable.tensor(weight).values == [1, 2, 3])
            ops.release(weight)
        }
        #expect(store.all.map(\.name) == ["stage/v"])
    }

    @Test func parametersRegisterUnderTheStageAndReceiveGradients() throws {
        let store = ParameterStore()
        var weight: OpaquePointer?
        try TensorOpsTable.$parameterScope.withValue(.init(store: store, prefix: "analysis")) {
            try expectOK { ops.parameter("scale", 1, [1], LIC_INIT_CONSTANT, 3, 0, 0, nil, LIC_GROUP_MAIN, &weight, $0) }
        }
        defer { ops.release(weight) }
        let parameter = try #require(store.parameter("analysis/scale"))
        // Outside a component's create, registration is refused.
        var stray: OpaquePointer?
        var error = lic_error()
        #expect(ops.parameter("x", 1, [1], LIC_INIT_ZEROS, 0, 0, 0, nil, LIC_GROUP_MAIN, &stray, &error) != LIC_OK)
        // loss = sum(x * scale): d loss / d scale = sum(x) = 6, computed through the op table.
        let x = try make([1, 2, 3], [3])
        var product: OpaquePointer?, loss: OpaquePointer?
        try expectOK { ops.binary(LIC_BINARY_MULTIPLY, x, weight, &product, $0) }
        try expectOK { ops.sum(product, nil, 0, 0, &loss, $0) }
        try TensorOpsTable.tensor(loss).backward()
        #expect(parameter.grad?.values == [6])
        [x, product, loss].forEach { ops.release($0) }
    }

    @Test func customOpsRunThePluginsKernels() throws {
        // f(x) = 2x with a C-convention forward and backward.
        let forward: lic_custom_forward_fn = { _, inputs, _, output, _ in
            let input = inputs![0]
            let count = Int(input.shape.0)
            for i in 0..<count { output!.pointee.data[i] = 2 * input.data[i] }
            return LIC_OK
        }
        let backward: lic_custom_backward_fn = { _, inputs, _, gradOutput, gradInputs, _ in
            let count = Int(inputs![0].shape.0)
            if let target = gradInputs![0].data { for i in 0..<count { target[i] = 2 * gradOutput!.pointee.data[i] } }
            return LIC_OK
        }
        let leaf = try Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        let handle = TensorOpsTable.handle(leaf)
        var out: OpaquePointer?
        var inputs: [OpaquePointer?] = [handle]
        try expectOK { error in
            inputs.withUnsafeMutableBufferPointer { list in
                ops.custom("double", list.baseAddress, 1, 1, [3], forward, backward, nil, nil, &out, error)
            }
        }
        #expect(try values(out!) == [2, 4, 6])
        try TensorOpsTable.tensor(out).sum().backward()
        #expect(leaf.grad?.values == [2, 2, 2])
        ops.release(out)
        ops.release(handle)
    }
}
