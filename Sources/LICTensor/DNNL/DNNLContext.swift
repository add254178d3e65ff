// The thin oneDNN layer. Every oneDNN call of the toolkit lives in this folder
// (Sources/LICTensor/DNNL): it is written against the oneDNN 2.x C API (op
// descriptors, Debian 12's libdnnl 2.6.3), which oneDNN 3.0 removed, so a move
// to 3.x is this folder's work and nothing else's.
//
// Shape of the layer:
// - `DNNLContext.shared()`: the CPU engine and stream, and a cache of "plans"
//   (primitives + reorders + scratch buffers) keyed by a Hashable geometry.
//   Creating a oneDNN primitive costs 0.2-20 ms, executing one is what we want
//   to pay for, so each shape is set up once per process.
// - `DNNLArgument`: one primitive argument, bound to the caller's plain
//   (contiguous, PyTorch-layout) buffer per call and reordered to/from the
//   blocked layout the primitive chose (`format_tag_any`).
// - Convolution.swift, TransposedConvolution.swift, MatMul.swift: the public
//   operations over raw buffers.
import CDNNL
import Synchronization

/// Throws `TensorError.backend` naming `call` unless `status` is success.
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ call: @autoclosure () -> String) throws(TensorError) {
    if status != dnnl_success { throw TensorError.backend("\(call()) failed: \(dnnlStatusName(status))") }
}

func dnnlStatusName(_ status: dnnl_status_t) -> String {
    switch status.rawValue {
    case dnnl_success.rawValue: return "success"
    case dnnl_out_of_memory.rawValue: return "out of memory"
    case dnnl_invalid_arguments.rawValue: return "invalid arguments"
    case dnnl_unimplemented.rawValue: return "unimplemented (no implementation for these shapes/layouts)"
    case dnnl_iterator_ends.rawValue: return "iterator ends"
    case dnnl_runtime_error.rawValue: return "runtime error"
    case dnnl_not_required.rawValue: return "not required"
    default: return "status \(status.rawValue)"
    }
}

/// A cache key: the operation, its geometry, and the thread count the
/// primitive was created for (oneDNN fixes its work split at creation).
struct DNNLPlanKey<Geometry: Hashable & Sendable>: Hashable, Sendable {
    var operation: String
    var geometry: Geometry
    var threads: Int
}

/// A type-erased `DNNLPlanKey`; Sendable because every key it is made from is.
struct DNNLCacheKey: Hashable, @unchecked Sendable {
    let base: AnyHashable
    init<Geometry: Hashable & Sendable>(_ key: DNNLPlanKey<Geometry>) { base = AnyHashable(key) }
}

/// Process-wide oneDNN state: one CPU engine, one stream, the plan cache.
final class DNNLContext: @unchecked Sendable {
    // The engine and stream are created once and never change; oneDNN CPU
    // streams execute synchronously on the calling thread, and the plan
    // locks keep one plan from running twice at once.
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    private let plans = Mutex<[DNNLCacheKey: any AnyObject & Sendable]>([:])

    private static let instance: Result<DNNLContext, TensorError> = Result { () throws(TensorError) in try DNNLContext() }

    /// The shared context; throws if oneDNN cannot create a CPU engine.
    static func shared() throws(TensorError) -> DNNLContext { try instance.get() }

    private init() throws(TensorError) {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create(cpu)")
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        guard let engine, let stream else { throw TensorError.backend("dnnl_engine_create/dnnl_stream_create returned no object") }
        self.engine = engine
        self.stream = stream
    }

    /// The plan cached for `key`, made by `make` on first use. Creation runs
    /// outside the cache lock (it can take milliseconds); if two threads race
    /// on the same new key, the first plan stored wins.
    func plan<Geometry: Hashable & Sendable, Plan: AnyObject & Sendable>(
        _ operation: String, _ geometry: Geometry, threads: Int, make: () throws(TensorError) -> Plan
    ) throws(TensorError) -> Plan {
        let key = DNNLCacheKey(DNNLPlanKey(operation: operation, geometry: geometry, threads: threads))
        if let existing = plans.withLock({ $0[key] }) as? Plan { return existing }
        let made = try make()
        let stored = plans.withLock { table -> any AnyObject & Sendable in
            if let existing = table[key] { return existing }
            table[key] = made
            return made
        }
        guard let result = stored as? Plan else {
            throw TensorError.backend("plan cache: entry for \(operation) has an unexpected type")
        }
        return result
    }

    /// Number of cached plans (primitives with their reorders and buffers).
    var cachedPlanCount: Int { plans.withLock { $0.count } }

    /// Drops every cached plan and the blocked-layout buffers they own.
    func clearCache() { plans.withLock { $0.removeAll() } }

    /// Waits for the stream (CPU: returns at once; kept for other engines).
    func wait() throws(TensorError) {
        try dnnlCheck(dnnl_stream_wait(stream), "dnnl_stream_wait")
    }
}

// MARK: - Memory descriptors

enum DNNLMemory {
    static func dims(_ values: [Int]) -> [dnnl_dim_t] { values.map { dnnl_dim_t($0) } }

    /// A float32 descriptor with a format tag (`dnnl_format_tag_any` lets the primitive choose).
    static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t) throws(TensorError) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = DNNLMemory.dims(dims)
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), d, dnnl_f32, tag),
                      "dnnl_memory_desc_init_by_tag(\(dims))")
        return md
    }

    /// A float32 descriptor with explicit strides (in elements).
    static func desc(_ dims: [Int], strides: [Int]) throws(TensorError) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = DNNLMemory.dims(dims), s = DNNLMemory.dims(strides)
        try dnnlCheck(dnnl_memory_desc_init_by_strides(&md, Int32(dims.count), d, dnnl_f32, s),
                      "dnnl_memory_desc_init_by_strides(\(dims), \(strides))")
        return md
    }

    /// Plain contiguous row-major ("abcd...") layout.
    static func plain(_ dims: [Int]) throws(TensorError) -> dnnl_memory_desc_t {
        var strides = [Int](repeating: 1, count: dims.count)
        var s = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) { strides[i] = s; s *= dims[i] }
        return try desc(dims, strides: strides)
    }

    static func any(_ dims: [Int]) throws(TensorError) -> dnnl_memory_desc_t { try desc(dims, dnnl_format_tag_any) }

    /// The memory descriptor a primitive descriptor chose for `query`.
    static func query(_ pd: dnnl_primitive_desc_t, _ query: dnnl_query_t, _ index: Int32 = 0,
                      _ what: String) throws(TensorError) -> dnnl_memory_desc_t {
        guard let md = dnnl_primitive_desc_query_md(pd, query, index) else {
            throw TensorError.backend("dnnl_primitive_desc_query_md(\(what)) returned no descriptor")
        }
        return md.pointee
    }

    static func implementationName(_ pd: dnnl_primitive_desc_t) -> String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else { return "?" }
        return String(cString: name)
    }
}

// MARK: - Primitive descriptors and primitives

/// An owned primitive descriptor.
final class DNNLPrimitiveDesc {
    let handle: dnnl_primitive_desc_t
    init(opDesc: UnsafeRawPointer, engine: dnnl_engine_t, hint: DNNLPrimitiveDesc?, what: String) throws(TensorError) {
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, opDesc, nil, engine, hint?.handle), "dnnl_primitive_desc_create(\(what))")
        guard let pd else { throw TensorError.backend("dnnl_primitive_desc_create(\(what)) returned no descriptor") }
        handle = pd
    }
    init(reorderFrom src: dnnl_memory_desc_t, to dst: dnnl_memory_desc_t, engine: dnnl_engine_t) throws(TensorError) {
        var pd: dnnl_primitive_desc_t?
        var s = src, d = dst
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &s, engine, &d, engine, nil), "dnnl_reorder_primitive_desc_create")
        guard let pd else { throw TensorError.backend("dnnl_reorder_primitive_desc_create returned no descriptor") }
        handle = pd
    }
    deinit { dnnl_primitive_desc_destroy(handle) }

    func memoryDesc(_ query: dnnl_query_t, _ index: Int32 = 0, _ what: String) throws(TensorError) -> dnnl_memory_desc_t {
        try DNNLMemory.query(handle, query, index, what)
    }
    var implementationName: String { DNNLMemory.implementationName(handle) }
}

/// An owned primitive.
final class DNNLPrimitive {
    let handle: dnnl_primitive_t
    init(_ pd: DNNLPrimitiveDesc, what: String) throws(TensorError) {
        var p: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&p, pd.handle), "dnnl_primitive_create(\(what))")
        guard let p else { throw TensorError.backend("dnnl_primitive_create(\(what)) returned no primitive") }
        handle = p
    }
    deinit { dnnl_primitive_destroy(handle) }

    func execute(_ stream: dnnl_stream_t, _ args: [dnnl_exec_arg_t], what: String) throws(TensorError) {
        let status = args.withUnsafeBufferPointer { dnnl_primitive_execute(handle, stream, Int32($0.count), $0.baseAddress) }
        try dnnlCheck(status, "dnnl_primitive_execute(\(what))")
    }
}

/// An owned memory object: either bound to caller buffers per call
/// (`allocate: false`) or owning a library-allocated buffer.
final class DNNLMemoryObject {
    let handle: dnnl_memory_t
    init(_ md: dnnl_memory_desc_t, engine: dnnl_engine_t, allocate: Bool) throws(TensorError) {
        var m: dnnl_memory_t?
        var desc = md
        // DNNL_MEMORY_ALLOCATE is ((void *)(size_t)-1), a macro Swift cannot import.
        let handle = allocate ? UnsafeMutableRawPointer(bitPattern: UInt.max) : nil
        try dnnlCheck(dnnl_memory_create(&m, &desc, engine, handle), "dnnl_memory_create")
        guard let m else { throw TensorError.backend("dnnl_memory_create returned no memory") }
        self.handle = m
    }
    deinit { dnnl_memory_destroy(handle) }

    func bind(_ pointer: UnsafeMutableRawPointer) throws(TensorError) {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, pointer), "dnnl_memory_set_data_handle")
    }
}

/// One argument of a primitive. `user` has the plain layout and is bound to
/// the caller's buffer on each call; `working` has the layout the primitive
/// chose. When the two differ, a cached reorder primitive and a buffer owned
/// by `working` sit between them (weights are reordered on every call since
/// they change every training step; the reorder primitive and the buffer are
/// reused).
final class DNNLArgument {
    enum Direction { case input, output }
    let argument: Int32
    let direction: Direction
    let user: DNNLMemoryObject
    let working: DNNLMemoryObject
    let reorder: DNNLPrimitive?
    private let reorderArgs: [dnnl_exec_arg_t]

    init(_ argument: Int32, _ direction: Direction, plain: dnnl_memory_desc_t, chosen: dnnl_memory_desc_t,
         engine: dnnl_engine_t) throws(TensorError) {
        self.argument = argument
        self.direction = direction
        var p = plain, c = chosen
        user = try DNNLMemoryObject(plain, engine: engine, allocate: false)
        if dnnl_memory_desc_equal(&p, &c) != 0 {
            working = user
            reorder = nil
            reorderArgs = []
        } else {
            working = try DNNLMemoryObject(chosen, engine: engine, allocate: true)
            let (from, to) = direction == .input ? (plain, chosen) : (chosen, plain)
            let pd = try DNNLPrimitiveDesc(reorderFrom: from, to: to, engine: engine)
            reorder = try DNNLPrimitive(pd, what: "reorder")
            let (src, dst) = direction == .input ? (user, working) : (working, user)
            reorderArgs = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: src.handle),
                           dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dst.handle)]
        }
    }

    var execArg: dnnl_exec_arg_t { dnnl_exec_arg_t(arg: argument, memory: working.handle) }
    var needsReorder: Bool { reorder != nil }

    /// Binds the caller's buffer; for inputs, reorders it into the working layout.
    func bindInput(_ pointer: UnsafeRawPointer, stream: dnnl_stream_t) throws(TensorError) {
        try user.bind(UnsafeMutableRawPointer(mutating: pointer))
        if let reorder { try reorder.execute(stream, reorderArgs, what: "reorder in") }
    }

    /// Binds the caller's output buffer (written by `finishOutput`, or by the primitive directly).
    func bindOutput(_ pointer: UnsafeMutableRawPointer) throws(TensorError) {
        try user.bind(pointer)
    }

    /// For outputs: reorders the primitive's result into the caller's buffer.
    func finishOutput(stream: dnnl_stream_t) throws(TensorError) {
        if let reorder { try reorder.execute(stream, reorderArgs, what: "reorder out") }
    }
}

/// A cached primitive with its arguments. The lock keeps two threads from
/// using the same plan's working buffers at once.
final class DNNLPlan: @unchecked Sendable {
    let lock = Mutex<Void>(())
    let name: String
    let primitive: DNNLPrimitive
    let arguments: [DNNLArgument]
    let implementation: String
    // Kept alive for the primitive's lifetime (backward passes reference the
    // forward hint descriptor).
    private let descriptors: [DNNLPrimitiveDesc]
    private let execArgs: [dnnl_exec_arg_t]

    init(name: String, pd: DNNLPrimitiveDesc, keep: [DNNLPrimitiveDesc], arguments: [DNNLArgument]) throws(TensorError) {
        self.name = name
        primitive = try DNNLPrimitive(pd, what: name)
        self.arguments = arguments
        implementation = pd.implementationName
        descriptors = [pd] + keep
        execArgs = arguments.map(\.execArg)
    }

    /// Runs the plan on caller buffers, given in the order of `arguments`
    /// (inputs as `UnsafeRawPointer`, outputs as `UnsafeMutableRawPointer`;
    /// nil only where the plan has no such argument).
    func run(_ context: DNNLContext, inputs: [UnsafeRawPointer], outputs: [UnsafeMutableRawPointer]) throws(TensorError) {
        try lock.withLock { _ throws(TensorError) in
            var i = 0, o = 0
            for argument in arguments {
                switch argument.direction {
                case .input:
                    try argument.bindInput(inputs[i], stream: context.stream); i += 1
                case .output:
                    try argument.bindOutput(outputs[o]); o += 1
                }
            }
            try primitive.execute(context.stream, execArgs, what: name)
            for argument in arguments where argument.direction == .output {
                try argument.finishOutput(stream: context.stream)
            }
            try context.wait()
        }
    }
}
