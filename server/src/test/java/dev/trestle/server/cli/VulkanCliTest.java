package dev.trestle.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trestle.testdata.SharedData;
import dev.trestle.testdata.VulkanTestDevice;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code trestle devices} and {@code trestle run -ngl 99} on the Vulkan backend (lavapipe in CI). */
class VulkanCliTest {
    private record Out(int code, String out, String err) {
    }

    private static Out run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Main.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
        return new Out(code, o.toString(), e.toString());
    }

    @Test
    void devicesListsTheVulkanDevice() {
        VulkanTestDevice.require();
        Out r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Vulkan0"), r.out());
        assertTrue(r.out().contains("vulkan  available"), r.out());
    }

    @Test
    void runOnVulkanPrintsTheReferenceText() throws Exception {
        VulkanTestDevice.require();
        String stories = SharedData.model("stories260K.gguf").toString();
        JsonNode ref = new ObjectMapper().readTree(SharedData.reference("greedy/stories260K.json").toFile());
        String prompt = ref.get("prompt_text").asText();
        Out gpu = run("run", "-m", stories, "-ngl", "99", "-p", prompt, "-n", "16", "--temp", "0", "-c", "256");
        assertEquals(0, gpu.code(), gpu.err());
        assertTrue(gpu.out().startsWith(prompt + ref.get("generated_text_pieces").asText()), gpu.out());
        // the acceptance command: the same text as the CPU
        Out a = run("run", "-m", stories, "-ngl", "99", "-p", "Once upon a time", "-n", "32", "--temp", "0");
        Out cpu = run("run", "-m", stories, "-ngl", "0", "-p", "Once upon a time", "-n", "32", "--temp", "0");
        assertEquals(0, a.code(), a.err());
        assertEquals(cpu.out().lines().findFirst().orElseThrow(), a.out().lines().findFirst().orElseThrow());
        VulkanTestDevice.assertValidationClean();
    }

    @Test
    void moePlacementFlagsReachTheEngine() throws Exception {
        VulkanTestDevice.require();
        String moe = SharedData.model("synthetic/stories260K-moe4top2-synthetic.gguf").toString();
        JsonNode ref = new ObjectMapper().readTree(
                SharedData.reference("greedy/stories260K-moe4top2-synthetic.json").toFile());
        String prompt = ref.get("prompt_ids").toString().replaceAll("[\\[\\] ]", "");
        String want = ref.get("generated_ids").toString().replaceAll("[\\[\\] ]", "");
        for (String[] flags : new String[][] {{"-ngl", "99"}, {"-ngl", "99", "--cpu-moe"}, {"-ngl", "99", "--n-cpu-moe", "1"},
                {"-ngl", "99", "-ot", "exps=CPU"}}) {
            String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("run", "-m", moe, "--prompt-ids",
                    prompt, "-n", "16", "-c", "256", "--temp", "0", "--json"), java.util.Arrays.stream(flags)).toArray(String[]::new);
            Out r = run(args);
            assertEquals(0, r.code(), String.join(" ", flags) + ": " + r.err());
            JsonNode out = new ObjectMapper().readTree(r.out());
            assertEquals(want, out.get("generated_ids").toString().replaceAll("[\\[\\] ]", ""), String.join(" ", flags));
        }
        // a non-expert tensor away from its layer's device is refused, naming the tensor
        Out bad = run("run", "-m", moe, "--prompt-ids", prompt, "-n", "2", "-ngl", "99", "-ot", "blk\\.0\\.attn_q=CPU");
        assertEquals(1, bad.code(), bad.out());
        assertTrue(bad.err().contains("blk.0.attn_q.weight"), bad.err());
    }

    @Test
    void plannerRefusesRowSplitOnVulkan() {
        String moe = SharedData.model("synthetic/stories260K-moe4top2-synthetic.gguf").toString();
        Out row = run("plan", "-m", moe, "--sim-devices", "vulkan:A:8GiB,vulkan:B:8GiB", "--sim-ram", "8GiB", "-ngl", "99",
                "-sm", "row");
        assertEquals(1, row.code(), row.out());
        assertTrue(row.err().contains("-sm row") && row.err().contains("Vulkan0"), row.err());
        Out layer = run("plan", "-m", moe, "--sim-devices", "vulkan:A:8GiB,vulkan:B:8GiB", "--sim-ram", "8GiB", "-ngl",
                "99", "-sm", "layer");
        assertEquals(0, layer.code(), layer.err());
        Out cuda = run("plan", "-m", moe, "--sim-devices", "cuda:A:8GiB,cuda:B:8GiB", "--sim-ram", "8GiB", "-ngl", "99",
                "-sm", "row");
        assertEquals(0, cuda.code(), cuda.err());
    }
}
