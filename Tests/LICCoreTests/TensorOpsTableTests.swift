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
