import CLIC

/// The host's side of lic_call_context: what one computing call is for.
public struct CallContext: Sendable {
    public enum Mode: UInt32, Sendable {
        case train, eval, encode, decode

        var cValue: UInt32 {
            switch self {
            case .train: LIC_MODE_TRAIN.rawValue
            case .eval: LIC_MODE_EVAL.rawValue
            case .encode: LIC_MODE_ENCODE.rawValue
            case .decode: LIC_MODE_DECODE.rawValue
            }
        }
    }

    public var mode: Mode
    public var seed: UInt64 = 0
    public var step: Int = 0
    public var lambda: Double = 0
    /// nil: the model's only rate.
    public var rateLevel: Double?
    /// The part of the first input this call computes from: origin, size
    /// (the whole padded image unless tiled) and the halo it includes.
    public var width = 0, height = 0
    public var tileX = 0, tileY = 0, halo = 0

    public init(mode: Mode, seed: UInt64 = 0, step: Int = 0, lambda: Double = 0) {
        (self.mode, self.seed, self.step, self.lambda) = (mode, seed, step, lambda)
    }

    /// This context for one stage: the seed mixed with the stage's position,
    /// so stages never draw the same noise.
    func forStage(_ index: Int) -> CallContext {
        var context = self
        context.seed = (seed ^ 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1)) &* 0xBF58_476D_1CE4_E5B9
        return context
    }

    func withC<R>(_ body: (UnsafePointer<lic_call_context>) throws -> R) rethrows -> R {
        var context = lic_call_context()
        context.struct_size = UInt32(MemoryLayout<lic_call_context>.size)
        context.mode = mode.cValue
        context.seed = seed
        context.step = Int64(step)
        context.lambda = lambda
        context.rate_level = rateLevel ?? -1
        context.tile_x = Int64(tileX)
        context.tile_y = Int64(tileY)
        context.tile_width = Int64(width)
        context.tile_height = Int64(height)
        context.tile_halo = Int64(halo)
        return try body(&context)
    }
}
