package dev.trestle.backends.spi;

import java.util.EnumSet;
import java.util.Set;

/** The op set the engine needs from a backend (ggml's op names where one exists). */
public enum OpKind {
    GET_ROWS, MUL_MAT, MUL_MAT_ID, ADD, MUL, SCALE, RMS_NORM, NORM, ROPE, SOFT_MAX, SOFTCAP, FLASH_ATTN_EXT,
    ATTN_PLAIN, SILU, GELU, SWIGLU, GEGLU, TOP_K, CPY, SET_ROWS;

    /** Ops that read a weight of some storage type (their support depends on it). */
    public static final Set<OpKind> WEIGHT_OPS = EnumSet.of(GET_ROWS, MUL_MAT, MUL_MAT_ID);
    /** Element-wise ops. */
    public static final Set<OpKind> ELEMENTWISE = EnumSet.of(ADD, MUL, SCALE, SILU, GELU, SWIGLU, GEGLU, SOFTCAP);
    /** Ops that produce indices. */
    public static final Set<OpKind> INDEX_OUTPUT = EnumSet.of(TOP_K);
}
