package dev.trestle.backends.spi;

import dev.trestle.backends.type.GgmlType;

/** A compute device a backend runs on: what it is, its memory, and which ops and types it supports. */
public interface Device {
    /** Free and total bytes of a device's memory. */
    record Memory(long free, long total) {
    }

    String name();

    DeviceType type();

    Memory memory();

    /** True when the device can run {@code op} on weights (or cache rows) stored as {@code type}. */
    boolean supportsOp(OpKind op, GgmlType type);
}
