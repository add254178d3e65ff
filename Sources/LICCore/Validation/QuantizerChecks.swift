import CLIC
import LICTensor

/// Cases of a quantizer (lic.quantizer/1 and /2): quantize then dequantize
/// must agree (a /2 quantizer's reconstruction is what dequantize gives, bit
/// for bit, and its levels are the dequantized indices), odd and empty
/// batches, extreme values, the training surrogate, and the same bytes on
/// every run and thread count.
enum QuantizerChecks {
    static func calls(_ subject: CheckSubject, _ params: ParamSetStorage) throws -> QuantizerCalls {
        QuantizerCalls(try subject.quantizer(params), entry: subject.entry)
    }

    /// Quantizes `values` (with `means`), dequantizes the symbols and checks the agreement.
    @discardableResult
    static func roundTrip(_ q: QuantizerCalls, _ values: [Float], means: [Float]? = nil, scales: [Float]? = nil,
                          withRate: Bool = false) throws -> String {
        let (symbols, reconstruction) = try q.quantize(values, means: means, scales: scales, withRate: withRate)
        let decoded = try q.dequantize(symbols, means: means)
        if let reconstruction {
            try CheckData.expectIdentical(reconstruction, decoded, "dequantize vs quantize's reconstruction")
        }
        if values.allSatisfy(\.isFinite) { try CheckData.expectFinite(decoded, "dequantized values") }
        let shown = symbols.prefix(4).map(String.init).joined(separator: ", ")
        return "\(values.count) values -> symbols [\(shown)\(symbols.count > 4 ? ", ..." : "")], dequantize agrees"
    }

    static func smoke(_ subject: CheckSubject) -> (ParamSetStorage, [String: ParamValue]) throws -> String {
        { params, _ in try roundTrip(try calls(subject, params), CheckData.values(16, seed: 2, in: -6..<6)) }
    }

    static func cases(_ subject: CheckSubject) -> [CheckCase] {
        var made: Result<QuantizerCalls, any Error>?
        func base() throws -> QuantizerCalls {
            if made == nil { made = Result { try calls(subject, try subject.parameters()) } }
            return try made!.get()
        }
        func work(_ name: String, mustSucceed: Bool, _ body: @escaping (QuantizerCalls) throws -> String) -> CheckCase {
            CheckCase(name: name) {
                let q: QuantizerCalls
                do { q = try base() } catch { return .skip("no instance: \(error)") }
                return mustSucceed ? Expect.success { try body(q) } : Expect.successOrRefusal { try body(q) }
            }
        }
        let values = CheckData.values(64, seed: 2, in: -6..<6)
        let means = CheckData.values(64, seed: 4, in: -2..<2)
        var cases = [
            work("roundtrip", mustSucceed: true) { try roundTrip($0, values) },
            work("roundtrip.means", mustSucceed: true) { try roundTrip($0, values, means: means) },
            work("count.0", mustSucceed: false) { try roundTrip($0, []) },
            work("count.1", mustSucceed: true) { try roundTrip($0, [2.3]) },
            work("count.odd", mustSucceed: true) { try roundTrip($0, Array(values.prefix(13)), means: Array(means.prefix(13))) },
            work("values.extreme", mustSucceed: false) { q in
                try roundTrip(q, (0..<14).map { i in [0, 1e4, -1e4, 1e9, -1e9, 1e30, -1e30][i % 7] })
            },
            work("values.nonfinite", mustSucceed: false) { q in try roundTrip(q, [.nan, .infinity, -.infinity, 1, -.nan]) },
            work("input.huge", mustSucceed: false) { q in
                // 1 MiB of values; no single tensor allocation may exceed a quarter of it.
                let big = CheckData.values(1 << 18, seed: 6, in: -6..<6)
                return try CheckData.withAllocationLimit(1 << 18) { try roundTrip(q, big) }
            },
            work("determinism", mustSucceed: true) { q in
                let first = try q.quantize(values, means: means)
                let again = try calls(subject, try subject.parameters()).quantize(values, means: means)
                guard first.symbols == again.symbols else { throw CheckFailure("a second instance gave other symbols") }
                try CheckData.expectIdentical(first.reconstruction ?? [], again.reconstruction ?? [], "a second instance's reconstruction")
                guard try q.quantize(values, means: means).symbols == first.symbols else { throw CheckFailure("a second call gave other symbols") }
                return "identical symbols from two instances and two calls"
            },
            work("threads", mustSucceed: true) { q in
                let one = try CheckData.withThreads(1) { try q.quantize(values, means: means) }
                let two = try CheckData.withThreads(2) { try q.quantize(values, means: means) }
                guard one.symbols == two.symbols else { throw CheckFailure("symbols differ between 1 and 2 threads") }
                try CheckData.expectIdentical(one.reconstruction ?? [], two.reconstruction ?? [], "reconstruction with 2 threads vs 1")
                return "identical symbols with 1 and 2 threads"
            },
        ]
        guard subject.info.interfaceID == LIC_INTERFACE_QUANTIZER_2 else { return cases }
        let scales = CheckData.values(64, seed: 8, in: 0.1..<4)
        cases += [
            work("roundtrip.scales", mustSucceed: true) { try roundTrip($0, values, means: means, scales: scales) },
            work("roundtrip.rate", mustSucceed: true) { try roundTrip($0, values, means: means, scales: scales, withRate: true) },
            work("levels", mustSucceed: true) { q in
                // In a fresh scope, index k's level is what dequantize gives for k.
                let levels = try q.levels(first: -4, count: 9)
                var decoded: [Float] = []
                for k in Int32(-4)...4 { decoded += try q.dequantize([k]) }
                try CheckData.expectIdentical(levels, decoded, "levels(-4, 9) vs dequantize of -4 ... 4")
                return "levels [\(levels.map { "\($0)" }.joined(separator: ", "))] agree with dequantize"
            },
        ]
        for mode in [CallContext.Mode.train, .eval] {
            cases.append(work("surrogate.\(mode)", mustSucceed: true) { q in
                let y = try CheckData.tensor([1, 4, 3, 5], seed: 2, in: -6..<6), mu = try CheckData.tensor([1, 4, 3, 5], seed: 4, in: -2..<2)
                let out = try GradientMode.withoutGradients { try q.surrogate(y, means: mu, mode: mode) }
                guard out.shape == y.shape else { throw CheckFailure("surrogate gave \(CheckData.shapeText(out.shape)) for \(CheckData.shapeText(y.shape))") }
                try CheckData.expectFinite(out.values, "surrogate output")
                let again = try GradientMode.withoutGradients { try q.surrogate(y, means: mu, mode: mode) }
                try CheckData.expectIdentical(out.values, again.values, "a second call's surrogate (same seed)")
                return "\(CheckData.shapeText(out.shape)), finite, repeatable"
            })
        }
        return cases
    }
}
