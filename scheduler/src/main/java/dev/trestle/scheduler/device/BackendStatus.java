package dev.trestle.scheduler.device;

/**
 * Whether a backend can be used on this machine, and why not when it cannot.
 *
 * @param kind      the backend
 * @param available true when its devices are listed in the inventory
 * @param detail    library and driver found, or the reason it is unavailable
 */
public record BackendStatus(DeviceKind kind, boolean available, String detail) {
}
