package dev.trestle.backends.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.trestle.backends.cuda.GraphCache.Action;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class GraphCacheTest {
    private static final MemorySegment G1 = MemorySegment.ofAddress(0x1000);
    private static final MemorySegment G2 = MemorySegment.ofAddress(0x2000);

    @Test
    void eagerOnceThenCaptureThenReplayPerShape() {
        GraphCache c = new GraphCache(true, null);
        assertEquals(Action.EAGER, c.action(0, 1, true, 0));
        assertEquals(Action.CAPTURE, c.action(0, 1, true, 0));
        c.store(0, 1, G1);
        assertEquals(Action.REPLAY, c.action(0, 1, true, 0));
        assertSame(G1, c.get(0, 1));
        // another token count and another first layer are other shapes
        assertEquals(Action.EAGER, c.action(0, 2, true, 0));
        assertEquals(Action.EAGER, c.action(5, 1, true, 0));
        assertEquals(Action.CAPTURE, c.action(5, 1, true, 0));
        assertThrows(IllegalStateException.class, () -> c.get(5, 1));
    }

    @Test
    void prefillShapesAndRunsWithHostTransfersStayEager() {
        GraphCache c = new GraphCache(true, null);
        for (int i = 0; i < 3; i++) {
            assertEquals(Action.EAGER, c.action(0, GraphCache.MAX_TOKENS + 1, true, 0));
            assertEquals(Action.EAGER, c.action(0, 512, true, 0));
            assertEquals(Action.EAGER, c.action(3, 1, false, 0));
        }
        assertEquals(15, GraphCache.MAX_TOKENS);
        assertEquals(Action.EAGER, c.action(0, GraphCache.MAX_TOKENS, true, 0));
        assertEquals(Action.CAPTURE, c.action(0, GraphCache.MAX_TOKENS, true, 0));
    }

    @Test
    void movedScratchDropsEveryGraphAndStartsCountingAgain() {
        GraphCache c = new GraphCache(true, null);
        c.action(0, 1, true, 7);
        c.action(0, 1, true, 7);
        c.store(0, 1, G1);
        assertEquals(Action.REPLAY, c.action(0, 1, true, 7));
        assertTrue(c.stale().isEmpty());
        // a prefill grew the scratch: the graph holds freed addresses
        assertEquals(Action.EAGER, c.action(0, 1, true, 8));
        assertEquals(List.of(G1), c.stale());
        assertTrue(c.stale().isEmpty());
        assertEquals(0, c.size());
        assertEquals(Action.CAPTURE, c.action(0, 1, true, 8));
    }

    @Test
    void aFailedCaptureTurnsGraphsOffForGood() {
        GraphCache c = new GraphCache(true, null);
        c.action(0, 1, true, 0);
        c.action(0, 1, true, 0);
        c.store(0, 1, G1);
        c.action(4, 1, true, 0);
        assertEquals(Action.CAPTURE, c.action(4, 1, true, 0));
        assertEquals(List.of(G1), c.disable("capture failed: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"));
        assertFalse(c.enabled());
        assertEquals("capture failed: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", c.disabledReason());
        for (int i = 0; i < 3; i++) {
            assertEquals(Action.EAGER, c.action(0, 1, true, 0));
        }
        GraphCache off = new GraphCache(false, "turned off");
        off.action(0, 1, true, 0);
        assertEquals(Action.EAGER, off.action(0, 1, true, 0));
        assertEquals("turned off", off.disabledReason());
    }

    @Test
    void drainReturnsEveryStoredGraph() {
        GraphCache c = new GraphCache(true, null);
        c.store(0, 1, G1);
        c.store(0, 2, G2);
        assertEquals(2, c.drain().size());
        assertEquals(0, c.size());
    }
}
