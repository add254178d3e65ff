// The thin oneDNN layer. Every oneDNN call of the toolkit lives in this folder
// (Sources/LICTensor/DNNL): it is written against the oneDNN 2.x C API (op
// descriptors, Debian 12's libdnnl 2.6.3), which oneDNN 3.0 removed, so a move
// to 3.x is this folder's work and nothing else's.
//
// Shape of the layer:
// - `DNNLContext.shared()`: the CPU engine and stream, and a cache of "plans"
//   (primitives + reorders; their scratch and blocked-layout buffers are
//   lent per run by `DNNLScratchpads`) keyed by a Hashable
//   geometry. Creating a oneDNN primitive costs 0.2-20 ms, executing one is
//   what we want to pay for, so each shape is set up once per process.
// - Plans are shared by every thread, and Swift concurrency runs work on any
//   thread, so a plan is routinely created on one thread and run on another.
//   Every primitive is therefore created with a user-managed scratchpad
//   (`DNNLScratchpads`): oneDNN's default, library-managed scratchpad is a
//   buffer per *thread*, sized when a primitive is created and looked up on
//   the thread that executes it, so a primitive run on a thread other than
//   its creator used that thread's buffer - none (a NULL base: SIGSEGV inside
//   libdnnl) or one sized for other primitives (heap corruption). oneDNN
//   documents that such primitives must run on the thread that created them.
// - `DNNLArgument`: one primitive argument, bound to the caller's plain
//   (contiguous, PyTorch-layout) buffer per call and reordered to/from the
//   blocked layout the primitive chose (`format_tag_any`).
// - Convolution.swift, TransposedConvolution.swift, MatMul.swift: the public
//   operations over raw buffers.
import CDNNL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
    /// Scratch memory lent to each plan run.
    let scratchpads = DNNLScratchpads()
    private let plans = Mutex(PlanCache())

    /// The plans, least recently used first out past `planCacheLimit`. A plan
    /// holds primitives only (JIT code, tens of KB); the blocked-layout
    /// buffers its arguments work in are borrowed per run from `scratchpads`,
    /// so memory follows the largest single run, not the number of shapes seen
    /// (a large image coded in tiles of a few shapes, many image sizes through lic.h).
    struct PlanCache {
        struct Entry {
            var plan: DNNLPlan
            var lastUse: UInt64
        }
        var entries: [DNNLCacheKey: Entry] = [:]
        var clock: UInt64 = 0

        mutating func use(_ key: DNNLCacheKey) -> DNNLPlan? {
            guard let plan = entries[key]?.plan else { return nil }
            clock += 1
            entries[key]!.lastUse = clock
            return plan
        }

        /// Stores `plan` (the first stored wins a race) and evicts the least recently used past `limit`.
        mutating func store(_ plan: DNNLPlan, for key: DNNLCacheKey, limit: Int) -> DNNLPlan {
            if let existing = use(key) { return existing }
            clock += 1
            entries[key] = Entry(plan: plan, lastUse: clock)
            while entries.count > max(limit, 1),
                  let oldest = entries.filter({ $0.key != key }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
                // A plan another thread is running stays alive until that run ends (it holds a reference).
                entries[oldest.key] = nil
            }
            return plan
        }
    }

    /// Plans kept: a training step of mbt2018-mean needs about 60 (forward and
    /// backward of every layer), a tiled 4K image about 100.
    static let planCacheLimit = 512

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
    func plan<Geometry: Hashable & Sendable>(
        _ operation: String, _ geometry: Geometry, threads: Int, make: () throws(TensorError) -> DNNLPlan
    ) throws(TensorError) -> DNNLPlan {
        let key = DNNLCacheKey(DNNLPlanKey(operation: operation, geometry: geometry, threads: threads))
        if let existing = plans.withLock({ $0.use(key) }) { return existing }
        let made = try make()
        return plans.withLock { $0.store(made, for: key, limit: Self.planCacheLimit) }
    }

    /// Number of cached plans (primitives with their reorders and buffers).
    var cachedPlanCount: Int { plans.withLock { $0.entries.count } }

    /// Drops every cached plan and the idle scratch buffers.
    func clearCache() {
        plans.withLock { $0 = PlanCache() }
        scratchpads.dropIdle()
    }

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

/// The attributes every primitive descriptor is created with: a
/// user-managed scratchpad, so that a primitive can run on any thread (see
/// the top of this file). oneDNN copies the attributes into the descriptor.
private func withPrimitiveAttributes<R>(_ body: (dnnl_primitive_attr_t) throws(TensorError) -> R) throws(TensorError) -> R {
    var attr: dnnl_primitive_attr_t?
    try dnnlCheck(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
    guard let attr else { throw TensorError.backend("dnnl_primitive_attr_create returned no attributes") }
    defer { dnnl_primitive_attr_destroy(attr) }
    try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
                  "dnnl_primitive_attr_set_scratchpad_mode(user)")
    return try body(attr)
}

/// An owned primitive descriptor (always with a user-managed scratchpad).
final class DNNLPrimitiveDesc {
    let handle: dnnl_primitive_desc_t
    init(opDesc: UnsafeRawPointer, engine: dnnl_engine_t, hint: DNNLPrimitiveDesc?, what: String) throws(TensorError) {
        var pd: dnnl_primitive_desc_t?
        try withPrimitiveAttributes { (attr) throws(TensorError) in
            try dnnlCheck(dnnl_primitive_desc_create(&pd, opDesc, attr, engine, hint?.handle), "dnnl_primitive_desc_create(\(what))")
        }
        guard let pd else { throw TensorError.backend("dnnl_primitive_desc_create(\(what)) returned no descriptor") }
        handle = pd
    }
    init(reorderFrom src: dnnl_memory_desc_t, to dst: dnnl_memory_desc_t, engine: dnnl_engine_t) throws(TensorError) {
        var pd: dnnl_primitive_desc_t?
        var s = src, d = dst
        try withPrimitiveAttributes { (attr) throws(TensorError) in
            try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &s, engine, &d, engine, attr), "dnnl_reorder_primitive_desc_create")
        }
        guard let pd else { throw TensorError.backend("dnnl_reorder_primitive_desc_create returned no descriptor") }
        handle = pd
    }
    deinit { dnnl_primitive_desc_destroy(handle) }

    func memoryDesc(_ query: dnnl_query_t, _ index: Int32 = 0, _ what: String) throws(TensorError) -> dnnl_memory_desc_t {
        try DNNLMemory.query(handle, query, index, what)
    }
    var implementationName: String { DNNLMemory.implementationName(handle) }
}

/// An owned primitive, with the memory object its scratchpad is bound through.
final class DNNLPrimitive {
    let handle: dnnl_primitive_t
    /// Bytes of scratch memory each execution needs (0: none).
    let scratchpadBytes: Int
    /// Bound to a buffer from `DNNLScratchpads` before each execution; nil when none is needed.
    private let scratchpad: DNNLMemoryObject?

    init(_ pd: DNNLPrimitiveDesc, what: String) throws(TensorError) {
        // A library-managed scratchpad belongs to the creating thread; plans run on any thread.
        var attr: const_dnnl_primitive_attr_t?
        var mode = dnnl_scratchpad_mode_library
        try dnnlCheck(dnnl_primitive_desc_get_attr(pd.handle, &attr), "dnnl_primitive_desc_get_attr(\(what))")
        try dnnlCheck(dnnl_primitive_attr_get_scratchpad_mode(attr, &mode), "dnnl_primitive_attr_get_scratchpad_mode(\(what))")
        guard mode == dnnl_scratchpad_mode_user else {
            throw TensorError.backend("\(what): the primitive descriptor has a library-managed scratchpad")
        }
        if let md = dnnl_primitive_desc_query_md(pd.handle, dnnl_query_scratchpad_md, 0),
           dnnl_memory_desc_get_size(md) > 0 {
            scratchpadBytes = dnnl_memory_desc_get_size(md)
            scratchpad = try DNNLMemoryObject(md.pointee, engine: try Self.engine(of: pd), allocate: false)
        } else {
            scratchpadBytes = 0
            scratchpad = nil
        }
        var p: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&p, pd.handle), "dnnl_primitive_create(\(what))")
        guard let p else { throw TensorError.backend("dnnl_primitive_create(\(what)) returned no primitive") }
        handle = p
    }
    deinit { dnnl_primitive_destroy(handle) }

    private static func engine(of pd: DNNLPrimitiveDesc) throws(TensorError) -> dnnl_engine_t {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_primitive_desc_query(pd.handle, dnnl_query_engine, 0, &engine), "dnnl_primitive_desc_query(engine)")
        guard let engine else { throw TensorError.backend("dnnl_primitive_desc_query(engine) returned no engine") }
        return engine
    }

    /// `args` plus the scratchpad argument, when the primitive has one.
    func withScratchpad(_ args: [dnnl_exec_arg_t]) -> [dnnl_exec_arg_t] {
        guard let scratchpad else { return args }
        return args + [dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad.handle)]
    }

    /// Points the scratchpad at `buffer` (at least `scratchpadBytes` bytes), for the next executions.
    func bindScratchpad(_ buffer: UnsafeMutableRawPointer?) throws(TensorError) {
        guard let scratchpad else { return }
        guard let buffer else { throw TensorError.backend("no scratch memory bound for a primitive that needs \(scratchpadBytes) bytes") }
        try scratchpad.bind(buffer)
    }

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
/// chose. When the two differ, a cached reorder primitive sits between them
/// and `working` is bound to a slice of the buffer the run borrows (weights
/// are reordered on every call since they change every training step).
final class DNNLArgument {
    enum Direction { case input, output }
    let argument: Int32
    let direction: Direction
    let user: DNNLMemoryObject
    let working: DNNLMemoryObject
    let reorder: DNNLPrimitive?
    private let reorderArgs: [dnnl_exec_arg_t]
    /// Bytes of the working buffer a run lends this argument (0 when it works in the caller's buffer).
    let workingBytes: Int

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
            workingBytes = 0
        } else {
            workingBytes = dnnl_memory_desc_get_size(&c)
            working = try DNNLMemoryObject(chosen, engine: engine, allocate: false)
            let (from, to) = direction == .input ? (plain, chosen) : (chosen, plain)
            let pd = try DNNLPrimitiveDesc(reorderFrom: from, to: to, engine: engine)
            let reorder = try DNNLPrimitive(pd, what: "reorder")
            self.reorder = reorder
            let (src, dst) = direction == .input ? (user, working) : (working, user)
            reorderArgs = reorder.withScratchpad([dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: src.handle),
                                                  dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: dst.handle)])
        }
    }

    var execArg: dnnl_exec_arg_t { dnnl_exec_arg_t(arg: argument, memory: working.handle) }
    var needsReorder: Bool { reorder != nil }

    /// Points the working layout at `pointer` (`workingBytes` bytes) for this run.
    func bindWorking(_ pointer: UnsafeMutableRawPointer) throws(TensorError) {
        if reorder != nil { try working.bind(pointer) }
    }

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
/// running the same plan's memory objects at once; the plan may run on any
/// thread (its scratchpads and working buffers are lent per run, not per thread).
final class DNNLPlan: @unchecked Sendable {
    let lock = Mutex<Void>(())
    let name: String
    let primitive: DNNLPrimitive
    let arguments: [DNNLArgument]
    let implementation: String
    /// The primitive and the reorders, each with its scratchpad (they run one
    /// after another, so one buffer of the largest size serves them all).
    private let primitives: [DNNLPrimitive]
    /// Bytes of scratch memory the primitives need (0: none).
    let scratchpadBytes: Int
    /// Where each argument's working buffer starts in a run's borrowed buffer
    /// (after the scratchpad; page-aligned), and the bytes a run borrows.
    private let workingOffsets: [Int]
    let borrowedBytes: Int
    // Kept alive for the primitive's lifetime (backward passes reference the
    // forward hint descriptor).
    private let descriptors: [DNNLPrimitiveDesc]
    private let execArgs: [dnnl_exec_arg_t]

    init(name: String, pd: DNNLPrimitiveDesc, keep: [DNNLPrimitiveDesc], arguments: [DNNLArgument]) throws(TensorError) {
        self.name = name
        let primitive = try DNNLPrimitive(pd, what: name)
        self.primitive = primitive
        self.arguments = arguments
        implementation = pd.implementationName
        descriptors = [pd] + keep
        primitives = [primitive] + arguments.compactMap(\.reorder)
        scratchpadBytes = primitives.map(\.scratchpadBytes).max() ?? 0
        var offset = Self.pageAligned(scratchpadBytes)
        var offsets: [Int] = []
        for argument in arguments {
            offsets.append(offset)
            offset += Self.pageAligned(argument.workingBytes)
        }
        workingOffsets = offsets
        borrowedBytes = offset
        execArgs = primitive.withScratchpad(arguments.map(\.execArg))
    }

    /// Runs the plan on caller buffers, given in the order of `arguments`
    /// (inputs as `UnsafeRawPointer`, outputs as `UnsafeMutableRawPointer`;
    /// nil only where the plan has no such argument).
    private static func pageAligned(_ bytes: Int) -> Int { (bytes + 4095) & ~4095 }

    func run(_ context: DNNLContext, inputs: [UnsafeRawPointer], outputs: [UnsafeMutableRawPointer]) throws(TensorError) {
        try lock.withLock { _ throws(TensorError) in
            // One borrowed buffer: the scratchpad, then each argument's blocked-layout copy.
            let borrowed = borrowedBytes > 0 ? try context.scratchpads.borrow(bytes: borrowedBytes) : nil
            defer { if let borrowed { context.scratchpads.giveBack(borrowed) } }
            for primitive in primitives { try primitive.bindScratchpad(scratchpadBytes > 0 ? borrowed?.pointer : nil) }
            if let borrowed {
                for (argument, offset) in zip(arguments, workingOffsets) { try argument.bindWorking(borrowed.pointer + offset) }
            }
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

// MARK: - Scratchpads

/// Scratch memory for plan runs (the primitives' `dnnl_scratchpad_mode_user`
/// scratchpads and the blocked-layout copies of their arguments), lent to one
/// run at a time: a run borrows a buffer of at least the size it needs and
/// gives it back when it ends. Buffers are kept for reuse (no page faults per
/// call), so the memory held is about (runs at once) x (largest run).
final class DNNLScratchpads: @unchecked Sendable {
    /// Page-aligned memory (`PageBlocks`), as oneDNN allocates its own scratchpads.
    final class Buffer: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let bytes: Int
        init(bytes: Int) throws(TensorError) {
            guard let raw = PageBlocks.shared.allocate(bytes) else {
                throw TensorError.outOfMemory("cannot allocate a \(bytes)-byte oneDNN scratch buffer")
            }
            pointer = raw
            self.bytes = bytes
        }
        deinit { PageBlocks.shared.free(pointer) }
    }

    private let idle = Mutex<[Buffer]>([])

    /// A buffer of at least `bytes` bytes, for the caller alone until `giveBack`.
    func borrow(bytes: Int) throws(TensorError) -> Buffer {
        let reused = idle.withLock { buffers -> Buffer? in
            // The smallest that fits; else drop the largest (it is replaced by a bigger one).
            if let index = buffers.indices.filter({ buffers[$0].bytes >= bytes }).min(by: { buffers[$0].bytes < buffers[$1].bytes }) {
                return buffers.remove(at: index)
            }
            if let largest = buffers.indices.max(by: { buffers[$0].bytes < buffers[$1].bytes }) { buffers.remove(at: largest) }
            return nil
        }
        if let reused { return reused }
        return try Buffer(bytes: bytes)
    }

    func giveBack(_ buffer: Buffer) { idle.withLock { $0.append(buffer) } }

    /// Frees the buffers not lent out.
    func dropIdle() { idle.withLock { $0.removeAll() } }

    /// Buffers not lent out, and their bytes (for tests).
    var idleBuffers: (count: Int, bytes: Int) { idle.withLock { ($0.count, $0.reduce(0) { $0 + $1.bytes }) } }
}
