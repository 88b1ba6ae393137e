package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuMatrix;
import dev.trestle.common.TrestleException;
import dev.trestle.engine.gguf.GgufFile;
import dev.trestle.engine.gguf.GgufTensorInfo;
import java.util.Arrays;

/** Reads named tensors from a GGUF file with shape checks; required ones fail with the tensor's name. */
public final class WeightLoader {
    private final GgufFile file;

    public WeightLoader(GgufFile file) {
        this.file = file;
    }

    public boolean has(TensorKind kind, int layer, String suffix) {
        return file.tensor(kind.name(layer, suffix)) != null;
    }

    /** A required matrix with the given ggml shape (cols, rows[, experts]). */
    public CpuMatrix matrix(TensorKind kind, int layer, long... shape) {
        CpuMatrix m = optionalMatrix(kind, layer, shape);
        if (m == null) {
            throw missing(kind.name(layer, "weight"));
        }
        return m;
    }

    public CpuMatrix optionalMatrix(TensorKind kind, int layer, long... shape) {
        String name = kind.name(layer, "weight");
        GgufTensorInfo t = file.tensor(name);
        if (t == null) {
            return null;
        }
        checkShape(t, shape);
        return new CpuMatrix(name, t.type(), file.tensorData(t), t.shape());
    }

    /** A projection with its optional bias and {@code .scale}. */
    public Linear linear(TensorKind kind, int layer, boolean biasFirst, long cols, long rows) {
        Linear l = optionalLinear(kind, layer, biasFirst, cols, rows);
        if (l == null) {
            throw missing(kind.name(layer, "weight"));
        }
        return l;
    }

    public Linear optionalLinear(TensorKind kind, int layer, boolean biasFirst, long cols, long rows) {
        CpuMatrix w = optionalMatrix(kind, layer, cols, rows);
        if (w == null) {
            return null;
        }
        float[] bias = optionalVector(kind, layer, "bias", rows);
        float[] scale = optionalVector(kind, layer, "scale", 1);
        return new Linear(w, bias, scale == null ? 1f : scale[0], biasFirst);
    }

    /** Expert stack with its optional per-expert {@code .scale}. */
    public ExpertLinear experts(TensorKind kind, int layer, long cols, long rows, long nExpert) {
        CpuMatrix w = matrix(kind, layer, cols, rows, nExpert);
        return new ExpertLinear(w, optionalVector(kind, layer, "scale", nExpert));
    }

    /** A required 1-D tensor (norm weights) as floats. */
    public float[] vector(TensorKind kind, int layer, long n) {
        float[] v = optionalVector(kind, layer, "weight", n);
        if (v == null) {
            throw missing(kind.name(layer, "weight"));
        }
        return v;
    }

    public float[] optionalVector(TensorKind kind, int layer, String suffix, long n) {
        String name = kind.name(layer, suffix);
        GgufTensorInfo t = file.tensor(name);
        if (t == null) {
            return null;
        }
        if (t.elements() != n) {
            throw new TrestleException("tensor " + name + " has " + t.elements() + " elements, expected " + n,
                    "the model file does not match its metadata");
        }
        float[] out = new float[(int) n];
        new CpuMatrix(name, t.type(), file.tensorData(t), new long[] {n}).getRow(0, out, 0);
        return out;
    }

    private static void checkShape(GgufTensorInfo t, long[] shape) {
        long[] actual = t.shape();
        long[] want = shape;
        int rank = Math.max(actual.length, want.length);
        for (int i = 0; i < rank; i++) {
            if (t.dim(i) != (i < want.length ? want[i] : 1)) {
                throw new TrestleException("tensor " + t.name() + " has shape " + t.shapeString() + ", expected "
                        + Arrays.toString(want), "the model file does not match its metadata");
            }
        }
    }

    private static TrestleException missing(String name) {
        return new TrestleException("required tensor " + name + " is missing", "the model file is incomplete");
    }
}
