package dev.trestle.nativ.cuda;

import dev.trestle.common.TrestleException;

/** CUDA cannot be used on this machine: no driver, a driver too old, or no device. The message says which. */
public final class CudaUnavailableException extends TrestleException {
    public CudaUnavailableException(String message, String fix) {
        super(message, fix);
    }
}
