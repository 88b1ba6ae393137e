package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.backends.type.GgmlType;
import dev.trestle.engine.gguf.GgufWriter;
import dev.trestle.testdata.SharedData;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trestle plan} and {@code trestle devices} through the real command line. */
class PlanCommandTest {
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    static String moe() {
        return SharedData.model("quant/qwen3moe-moe-q4_k_m.gguf").toString();
    }

    @Test
    void plansARealMoeFileOnSimulatedDevices() {
        Result r = run("plan", "-m", moe(), "--sim-devices", "cuda:RTX 5060 Ti:16GiB", "--sim-ram", "8GiB",
                "-c", "256", "--n-cpu-moe", "1", "-ctk", "q8_0", "-ctv", "q4_0", "-fa");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("CUDA0") && r.out().contains("RTX 5060 Ti"), r.out());
        assertTrue(r.out().contains("experts of layers 0"), r.out());
        assertTrue(r.out().contains("-ctk q8_0 -ctv q4_0"), r.out());
        assertTrue(r.out().contains("tokens/s"), r.out());
    }

    @Test
    void jsonHasEveryMemoryAndTheChosenFlags() throws Exception {
        Result r = run("plan", "-m", moe(), "--sim-devices", "cuda:A:8GiB,cuda:B:8GiB", "--sim-ram", "8GiB",
                "-c", "512", "-ngl", "all", "-ts", "3,1", "--json", "--bandwidth", "cuda0=400GB/s,cuda1=400GB/s,cpu=50GB/s");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(3, j.get("memories").size());
        assertEquals("CUDA1", j.get("memories").get(2).get("id").asText());
        assertTrue(j.get("flags").asText().contains("-ts 75,25"), j.get("flags").asText());
        assertTrue(j.get("tokensPerSecondCeilingEmptyContext").asDouble() > 0);
        assertEquals(400e9, j.get("perToken").get(1).get("bandwidthBytesPerSecond").asDouble());
    }

    @Test
    void aPlanThatDoesNotFitExitsWithShortfallAndFix() {
        Result r = run("plan", "-m", moe(), "--sim-devices", "cuda:Tiny:1GiB", "--sim-ram", "8GiB",
                "-ngl", "all", "--fit-target", "2048");
        assertEquals(3, r.code(), r.out());
        assertTrue(r.err().contains("CUDA0 (Tiny)") && r.err().contains("short by"), r.err());
        assertTrue(r.err().contains("fix: "), r.err());
    }

    @Test
    void badFlagsAreRejectedWithTheirName() {
        Result ts = run("plan", "-m", moe(), "--sim-devices", "cuda:A:8GiB,cuda:B:8GiB", "-ts", "1,1,1");
        assertEquals(1, ts.code());
        assertTrue(ts.err().contains("-ts has 3 values"), ts.err());
        Result neg = run("plan", "-m", moe(), "--sim-devices", "cuda:A:8GiB", "-ts", "-1");
        assertTrue(neg.code() != 0, neg.err());
        Result fa = run("plan", "-m", moe(), "-ctv", "q4_0", "-fa", "off");
        assertEquals(1, fa.code());
        assertTrue(fa.err().contains("flash attention"), fa.err());
        Result ot = run("plan", "-m", moe(), "--sim-devices", "cuda:A:8GiB", "-ot", "exps=CUDA3");
        assertTrue(ot.err().contains("no buffer named CUDA3") && ot.err().contains("CUDA0"), ot.err());
        Result sm = run("plan", "-m", moe(), "-sm", "diagonal");
        assertTrue(sm.err().contains("-sm"), sm.err());
    }

    @Test
    void devicesListsTheCpuAndEveryBackendStatus() {
        Result r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("id"), r.out());
        assertTrue(r.out().contains("CPU"), r.out());
        assertTrue(r.out().contains("cuda") && r.out().contains("vulkan"), r.out());
        Result sim = run("devices", "--sim-devices", "cuda:RTX 4060:8GiB,vulkan:RX 7800 XT:16GiB", "--sim-ram", "64GiB");
        assertTrue(sim.out().contains("CUDA0") && sim.out().contains("Vulkan0") && sim.out().contains("64.00 GiB"), sim.out());
    }

    @Test
    void plansA30GbFileFromItsHeader(@TempDir Path dir) {
        // a 32-layer, 64-expert model whose tensor table describes ~30 GB; the data section is a sparse hole
        GgufWriter w = new GgufWriter().putString("general.architecture", "qwen3moe").putString("general.name", "big")
                .putUint32("qwen3moe.block_count", 32).putUint32("qwen3moe.embedding_length", 4096)
                .putUint32("qwen3moe.attention.head_count", 32).putUint32("qwen3moe.attention.head_count_kv", 4)
                .putUint32("qwen3moe.expert_count", 64).putUint32("qwen3moe.expert_used_count", 8);
        w.tensor("token_embd.weight", GgmlType.Q4_K, new long[] {4096, 151936}, o -> { });
        for (int il = 0; il < 32; il++) {
            w.tensor("blk." + il + ".attn_q.weight", GgmlType.Q8_0, new long[] {4096, 4096}, o -> { });
            w.tensor("blk." + il + ".ffn_up_exps.weight", GgmlType.Q8_0, new long[] {4096, 1536, 64}, o -> { });
            w.tensor("blk." + il + ".ffn_down_exps.weight", GgmlType.Q8_0, new long[] {1536, 4096, 64}, o -> { });
        }
        Path file = dir.resolve("big.gguf");
        w.writeSparse(file);
        Result r = run("plan", "-m", file.toString(), "--sim-devices", "cuda:RTX 4090:24GiB", "--sim-ram", "64GiB",
                "-c", "16384");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("--n-cpu-moe"), r.out());
        System.out.println(r.out());
    }
}
