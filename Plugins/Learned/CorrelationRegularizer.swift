import CLIC
import LICPluginKit

/// The correlation loss of Ali et al. ("Towards Efficient Image Compression
/// Without Autoregressive Models"): on the unquantized latent y,
/// n = (y - mu) / sigma with the entropy stage's published `<latent>.means`
/// and `<latent>.scales`; for every offset o of a k x k window,
/// C[o] = mean over positions p of n[p] * n[p + o] (no mean subtracted,
/// stride 1); L = || C * Mask ||_F^2. Computed with host ops (shifted
/// slices and products), so the gradient reaches y, mu and sigma.
final class CorrelationRegularizer: RegularizerComponent {
    static let id = "lic.regularizer.correlation"
    static let schema: [ParamSpec] = [
        .string("latent", default: "y",
                "The latent (unquantized); mu and sigma are its entropy stage's '<latent>.means' / '<latent>.scales' (mu = 0 when the model publishes no means)"),
        .int("window", default: 5, range: 1...15, "k, the odd side of the correlation window (5: the extent of the 5x5 context models the loss replaces)"),
        .enumeration("border", ["overlap", "valid", "zeros"], default: "overlap",
                     "Which positions an offset averages over: every pair inside the latent (overlap), only centres whose whole window fits (valid), or all with zero padding (zeros)"),
        .enumeration("channels", ["average-map", "average-loss"], default: "average-map",
                     "One k x k map averaged over channels, then its norm (average-map); or the norm of each channel's map, averaged (average-loss)"),
        .enumeration("mask", ["point", "none"], default: "point", "Zero only the centre (self-correlation) of the map, or nothing"),
    ]

    enum Border: String { case overlap, valid, zeros }

    let latent: String
    let radius: Int
    let border: Border
    let perChannel: Bool
    let maskCentre: Bool

    init(params: Params, host: Host) throws {
        latent = try params.string("latent")
        let window = Int(try params.int("window"))
        guard window % 2 == 1 else { throw PluginError(.invalidArgument, "\(Self.id): window = \(window) is even; it must be odd") }
        radius = window / 2
        border = Border(rawValue: try params.string("border"))!
        perChannel = try params.string("channels") == "average-loss"
        maskCentre = try params.string("mask") == "point"
    }

    func loss(_ tensors: NamedTensors, context: CallContext) throws -> Tensor {
        let y = try tensors.required(latent, by: Self.id)
        let shape = try y.shape
        guard shape.count == 4, shape.allSatisfy({ $0 > 0 }) else {
            throw PluginError(.invalidArgument, "\(Self.id): latent '\(latent)' has shape \(shape), not a non-empty [N, C, H, W]")
        }
        let scales = try tensors.required(latent + ".scales", by: Self.id)
        let means = tensors[latent + ".means"]
        for (name, tensor) in [("scales", scales), ("means", means)] {
            if let tensor, try tensor.shape != shape {
                throw PluginError(.invalidArgument, "\(Self.id): '\(latent).\(name)' has shape \(try tensor.shape), the latent \(shape)")
            }
        }
        let (h, w) = (shape[2], shape[3])
        if border == .valid, h <= 2 * radius || w <= 2 * radius {
            throw PluginError(.invalidArgument,
                              "\(Self.id): latent \(h)x\(w) has no position whose \(2 * radius + 1)x\(2 * radius + 1) window fits (border = \"valid\"); use border = \"overlap\" or a smaller window")
        }
        let n = try (means.map { try y - $0 } ?? y) / scales
        let base = border == .zeros ? try n.padded([(0, 0), (0, 0), (radius, radius), (radius, radius)]) : n
        var total: Tensor?
        for dy in -radius...radius {
            for dx in -radius...radius where !(maskCentre && dy == 0 && dx == 0) {
                guard let c = try correlation(base, dy, dx, h, w) else { continue }
                let squared = try c.squared()
                total = try total.map { try $0 + squared } ?? squared
            }
        }
        // No offset has a pair (a 1x1 latent with the point mask): the term is 0.
        guard let total else { return try y.scalar(0) }
        return perChannel ? try total.mean() : total
    }

    /// C[o] for offset (dy, dx): one value, or one per channel [1, C, 1, 1];
    /// nil when no pair of positions lies that far apart.
    private func correlation(_ base: Tensor, _ dy: Int, _ dx: Int, _ h: Int, _ w: Int) throws -> Tensor? {
        // (start of the centres, start of the shifted values, length) along one axis.
        func span(_ d: Int, _ size: Int) -> (Int, Int, Int) {
            switch border {
            case .overlap: (max(0, -d), max(0, d), size - Swift.abs(d))
            case .valid: (radius, radius + d, size - 2 * radius)
            case .zeros: (radius, radius + d, size)   // in the padded latent
            }
        }
        let (rows, columns) = (span(dy, h), span(dx, w))
        guard rows.2 > 0, columns.2 > 0 else { return nil }
        let centres = try base.sliced(axis: 2, start: rows.0, length: rows.2).sliced(axis: 3, start: columns.0, length: columns.2)
        let shifted = try base.sliced(axis: 2, start: rows.1, length: rows.2).sliced(axis: 3, start: columns.1, length: columns.2)
        let product = try centres * shifted
        return perChannel ? try product.mean(axes: [0, 2, 3]) : try product.mean()
    }
}
