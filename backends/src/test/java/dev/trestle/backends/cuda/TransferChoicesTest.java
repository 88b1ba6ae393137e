package dev.trestle.backends.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The plain-Java choices of the CUDA backend: copy routes between GPUs and the prefill GEMM path. */
class TransferChoicesTest {
    @Test
    void peerRoutes() {
        // one GPU opened twice shares its primary context: a device-to-device copy, whatever peer access says
        assertEquals(PeerLink.Route.SAME_CONTEXT, PeerLink.route(true, false, false));
        assertEquals(PeerLink.Route.PEER, PeerLink.route(false, true, false));
        assertEquals(PeerLink.Route.HOST, PeerLink.route(false, false, false));
        // trestle.cuda.p2p=host forces the pinned-host path, also on one GPU opened twice (the GPU check's case)
        assertEquals(PeerLink.Route.HOST, PeerLink.route(false, true, true));
        assertEquals(PeerLink.Route.HOST, PeerLink.route(true, false, true));
    }

    @Test
    void gemmPathBySize() {
        // without the library: always the own kernel
        assertEquals(GemmPath.WMMA, GemmPath.choose(512, 4096, 4096, false));
        // wide batches over big matrices: cuBLAS
        assertEquals(GemmPath.CUBLAS, GemmPath.choose(512, 4096, 4096, true));
        assertEquals(GemmPath.CUBLAS, GemmPath.choose(GemmPath.CUBLAS_MIN_TOKENS, 1024, 1024, true));
        // narrow batches, or small matrices (the 260K-parameter test models): the own kernel
        assertEquals(GemmPath.WMMA, GemmPath.choose(GemmPath.CUBLAS_MIN_TOKENS - 1, 4096, 4096, true));
        assertEquals(GemmPath.WMMA, GemmPath.choose(512, 512, 64, true));
        assertEquals(GemmPath.WMMA, GemmPath.choose(512, 1023, 1024, true));
    }
}
