"""constriction 0.5 on the same workload: its range coder and ANS coder with
a QuantizedGaussian model per symbol (vectorized calls), median of runs.
Prints one JSON object per coder."""
import json, os, sys, time
import numpy as np

try:
    import constriction
except ImportError:
    print(json.dumps({"skipped": "constriction is not installed (pip install constriction)"}))
    sys.exit(0)

data, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
scales = np.fromfile(os.path.join(data, "scales.f64"), dtype="<f8")
indexes = np.fromfile(os.path.join(data, "indexes.i32"), dtype="<i4")
symbols = np.fromfile(os.path.join(data, "symbols.i32"), dtype="<i4")
stds = scales[indexes].astype(np.float64)
means = np.zeros_like(stds)
bound = 1 << 15
symbols = np.clip(symbols, -bound, bound - 1).astype(np.int32)  # constriction has no escape
model = constriction.stream.model.QuantizedGaussian(-bound, bound - 1)

def bench(name, make_encoder, make_decoder, reverse):
    enc_times, dec_times, size = [], [], 0
    for _ in range(runs):
        t = time.perf_counter()
        encoder = make_encoder()
        if reverse:
            encoder.encode_reverse(symbols, model, means, stds)
        else:
            encoder.encode(symbols, model, means, stds)
        compressed = encoder.get_compressed()
        enc_times.append(time.perf_counter() - t)
        size = compressed.nbytes
        t = time.perf_counter()
        decoded = make_decoder(compressed).decode(model, means, stds)
        dec_times.append(time.perf_counter() - t)
        assert np.array_equal(decoded, symbols)
    n = len(symbols) / 1e6
    print(json.dumps({"coder": name, "encode_msym_s": n / float(np.median(enc_times)),
                      "decode_msym_s": n / float(np.median(dec_times)), "bytes": int(size)}))

bench("constriction range coder", constriction.stream.queue.RangeEncoder,
      constriction.stream.queue.RangeDecoder, reverse=False)
bench("constriction ANS", constriction.stream.stack.AnsCoder, constriction.stream.stack.AnsCoder, reverse=True)
