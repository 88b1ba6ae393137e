package dev.trestle.backends.spi;

/** Kind of compute device (ggml's backend device types). */
public enum DeviceType {
    CPU, GPU, ACCEL
}
