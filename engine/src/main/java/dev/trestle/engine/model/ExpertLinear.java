package dev.trestle.engine.model;

import dev.trestle.backends.cpu.CpuMatrix;

/**
 * Stacked expert matrices ({@code cols x rows x n_expert}) with an optional per-expert {@code .scale}.
 *
 * @param weight the 3-D matrix
 * @param scale  (n_expert) or null
 */
public record ExpertLinear(CpuMatrix weight, float[] scale) {
}
