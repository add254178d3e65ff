extension Tensor {
    /// Generalized divisive normalization (Balle et al.) on x [N, C, H, W]:
    /// y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2), or with `inverse`
    /// y_i = x_i * sqrt(...). beta [C] and gamma [C, C] are used as given (the
    /// caller applies its non-negativity reparametrization). The channel mix
    /// runs as a 1x1 convolution on oneDNN; the tape differentiates through
    /// x, beta and gamma.
    public func gdn(beta: Tensor, gamma: Tensor, inverse: Bool = false) throws -> Tensor {
        guard rank == 4 else { throw TensorError.shape("gdn needs NCHW, got \(shape)") }
        let channels = shape[1]
        guard beta.count == channels, gamma.shape == [channels, channels] else {
            throw TensorError.shape("gdn: beta \(beta.shape) and gamma \(gamma.shape) for \(channels) channels")
        }
        let norm = try squared().conv2d(gamma.reshaped([channels, channels, 1, 1]), bias: beta.reshaped([channels]))
        return try self * (inverse ? norm.sqrt() : norm.rsqrt())
    }
}
