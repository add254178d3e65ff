import CLIC
import LICPluginKit

/// Learned components: differentiable, computed with the host's tensor ops.
@c public func lic_plugin_entry(_ abi: UInt32, _ host: UnsafePointer<lic_host_services>?) -> UnsafePointer<lic_plugin_library>? {
    PluginLibrary.entry(abi: abi, host: host, name: "LIC learned components", components: [
        .differentiableTransform(GDNTransform.self, id: "lic.transform.gdn",
                                 description: "Balle conv/GDN analysis (4 x conv stride 2 + GDN) or, inverse, transposed-conv/IGDN synthesis",
                                 params: GDNTransform.schema),
        .differentiableTransform(HyperTransform.self, id: "lic.transform.hyper",
                                 description: "Hyperprior analysis (y -> z) or, inverse, synthesis (z_hat -> entropy parameters)",
                                 params: HyperTransform.schema),
        .differentiableTransform(GainTransform.self, id: "lic.transform.gain",
                                 description: "Gain units (Cui et al. 2021): a learned per-channel gain per rate level (or, inverse, the decoder's inverse gain), interpolated between levels; variable rate in one model",
                                 params: GainTransform.schema),
        .learnedEntropyModel(FactorizedPrior.self, id: "lic.entropy.factorized",
                             description: "Factorized prior: a learned CDF per channel, quantiles fitted by an auxiliary loss",
                             params: FactorizedPrior.schema),
        .learnedEntropyModel(GaussianConditional.self, id: "lic.entropy.gaussian",
                             description: "Gaussian conditional (scale or mean-scale), coded by the host over a 64-scale table ladder",
                             params: GaussianConditional.schema),
        .learnedEntropyModel(Checkerboard.self, id: "lic.entropy.checkerboard",
                             description: "Checkerboard context model (He 2021): anchors from the hyperprior, the rest also from a 5x5 context over decoded anchors",
                             params: Checkerboard.schema),
        .learnedEntropyModel(Autoregressive.self, id: "lic.entropy.autoregressive",
                             description: "Spatial autoregressive context model (Minnen 2018): mask-A 5x5 context over decoded latents plus the hyperprior, coded wavefront by wavefront",
                             params: Autoregressive.schema),
        .learnedEntropyModel(ChannelWise.self, id: "lic.entropy.channelwise",
                             description: "Channel-wise autoregressive context model (Minnen & Singh 2020): slices coded in order, each from the hyperprior and earlier slices, with latent residual prediction",
                             params: ChannelWise.schema),
        .trainableQuantizer(TrellisQuantizer.self, id: "lic.quantizer.tcq",
                            description: "Trellis-coded (dependent) quantization, 4 (VVC) or 8 (ECM) states, Viterbi with Gaussian rates",
                            params: TrellisQuantizer.schema),
        .regularizer(CorrelationRegularizer.self, id: CorrelationRegularizer.id,
                     description: "Correlation loss (Ali et al.): squared norm of the masked k x k spatial correlation map of (y - mu) / sigma",
                     params: CorrelationRegularizer.schema),
        .regularizer(ConditionalEntropyRegularizer.self, id: ConditionalEntropyRegularizer.id,
                     description: "-H(X | X_hat) under an auxiliary Gaussian source model q(x | x_hat) fitted in alternation (Zhang et al. 2024)",
                     params: ConditionalEntropyRegularizer.schema),
        .regularizer(CausalContextRegularizer.self, id: CausalContextRegularizer.id,
                     description: "Causal Context Adjustment loss (Han et al. 2024): main minus auxiliary (one context slice less) channel-wise model bits, plus the auxiliary model's fitting term",
                     params: CausalContextRegularizer.schema),
    ])
}
