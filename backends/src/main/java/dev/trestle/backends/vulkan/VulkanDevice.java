package dev.trestle.backends.vulkan;

import static org.lwjgl.system.MemoryStack.stackPush;
import static org.lwjgl.vulkan.VK10.*;

import dev.trestle.common.TrestleException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.vulkan.*;

/**
 * A logical Vulkan device with one compute queue. Dispatches are recorded into one command buffer, separated by
 * compute-to-compute barriers, and submitted by {@link #flush()} (or implicitly by a read, or by a write while
 * recorded work is pending). Several instances may be opened on the same physical device: each is an
 * independent "GPU" for layer splits in tests. Not thread-safe.
 */
public final class VulkanDevice implements AutoCloseable {
    /** Push-constant bytes every pipeline layout reserves (the guaranteed minimum). */
    static final int PUSH_BYTES = 128;
    private static final int SETS_PER_POOL = 2048;
    private static final int MAX_BINDINGS = 6;

    private final VulkanDeviceInfo info;
    private final VkDevice device;
    private final VkQueue queue;
    private final long commandPool;
    private final VkCommandBuffer cmd;
    private final long fence;
    private final long descriptorPool;
    private final int deviceType;     // memory type for device buffers
    private final boolean hostVisible;
    private final boolean integerDot; // shaderIntegerDotProduct enabled on this device
    private final boolean float16;    // shaderFloat16 and storageBuffer16BitAccess enabled
    private final int stagingType;    // host-visible memory type for staging
    private final Map<String, Pipeline> pipelines = new HashMap<>();
    private final List<GpuBuffer> live = new ArrayList<>();
    private final GpuBuffer dummy;
    private GpuBuffer staging;
    private boolean recording;
    private final List<RecordedCommands> recordings = new ArrayList<>();
    private RecordedCommands capture;  // open capture: dispatches go there instead of cmd
    private boolean captureFailed;     // the last capture was ended early by a host read, write or flush
    private int setsUsed;
    private long dispatches;

    /** A compiled compute pipeline and its layouts. */
    record Pipeline(long pipeline, long layout, long setLayout, long module, int bindings) {
    }

    private VulkanDevice(VulkanInstance vi, int index) {
        this.info = vi.devices().get(index);
        VkPhysicalDevice pd = vi.physical(index);
        try (MemoryStack stack = stackPush()) {
            VkDeviceQueueCreateInfo.Buffer qci = VkDeviceQueueCreateInfo.calloc(1, stack);
            qci.get(0).sType$Default().queueFamilyIndex(info.computeQueueFamily()).pQueuePriorities(stack.floats(1f));
            java.util.Set<String> available = DeviceQuery.extensions(pd);
            List<String> wanted = new ArrayList<>();
            if (available.contains("VK_KHR_portability_subset")) {
                wanted.add("VK_KHR_portability_subset"); // required on MoltenVK
            }
            // integer dot product (matmul_q's USE_DOT4): enabled when the device reports the feature and lists the
            // extension (the instance asks for Vulkan 1.2, so 1.3 core alone does not allow it)
            VkPhysicalDeviceShaderIntegerDotProductFeatures dot = null;
            if (available.contains("VK_KHR_shader_integer_dot_product")) {
                VkPhysicalDeviceShaderIntegerDotProductFeatures q = VkPhysicalDeviceShaderIntegerDotProductFeatures
                        .calloc(stack).sType$Default();
                VkPhysicalDeviceFeatures2 f2 = VkPhysicalDeviceFeatures2.calloc(stack).sType$Default().pNext(q.address());
                VK11.vkGetPhysicalDeviceFeatures2(pd, f2);
                if (q.shaderIntegerDotProduct()) {
                    dot = q;
                    wanted.add("VK_KHR_shader_integer_dot_product");
                }
            }
            integerDot = dot != null;
            PointerBuffer exts = null;
            if (!wanted.isEmpty()) {
                exts = stack.mallocPointer(wanted.size());
                for (String x : wanted) {
                    exts.put(stack.UTF8(x));
                }
                exts.flip();
            }
            VkDeviceCreateInfo ci = VkDeviceCreateInfo.calloc(stack).sType$Default().pQueueCreateInfos(qci)
                    .ppEnabledExtensionNames(exts);
            // optional features, chained: integer dot product (matmul_q's USE_DOT4), then the fp16 kernel variants'
            // 16-bit storage loads and float16 arithmetic
            long chain = 0;
            if (dot != null) {
                dot.pNext(0);
                chain = dot.address();
            }
            float16 = info.float16() && info.storage16();
            if (float16) {
                VkPhysicalDeviceVulkan12Features f12 = VkPhysicalDeviceVulkan12Features.calloc(stack).sType$Default()
                        .shaderFloat16(true).pNext(chain);
                VkPhysicalDeviceVulkan11Features f11 = VkPhysicalDeviceVulkan11Features.calloc(stack).sType$Default()
                        .storageBuffer16BitAccess(true).pNext(f12.address());
                chain = f11.address();
            }
            if (chain != 0) {
                ci.pNext(chain);
            }
            PointerBuffer pp = stack.mallocPointer(1);
            VulkanCheck.check(vkCreateDevice(pd, ci, null, pp), "vkCreateDevice");
            device = new VkDevice(pp.get(0), pd, ci);
            vkGetDeviceQueue(device, info.computeQueueFamily(), 0, pp);
            queue = new VkQueue(pp.get(0), device);

            LongBuffer lb = stack.mallocLong(1);
            VkCommandPoolCreateInfo pci = VkCommandPoolCreateInfo.calloc(stack).sType$Default()
                    .flags(VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT).queueFamilyIndex(info.computeQueueFamily());
            VulkanCheck.check(vkCreateCommandPool(device, pci, null, lb), "vkCreateCommandPool");
            commandPool = lb.get(0);
            VkCommandBufferAllocateInfo ai = VkCommandBufferAllocateInfo.calloc(stack).sType$Default()
                    .commandPool(commandPool).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1);
            VulkanCheck.check(vkAllocateCommandBuffers(device, ai, pp), "vkAllocateCommandBuffers");
            cmd = new VkCommandBuffer(pp.get(0), device);
            VulkanCheck.check(vkCreateFence(device, VkFenceCreateInfo.calloc(stack).sType$Default(), null, lb),
                    "vkCreateFence");
            fence = lb.get(0);
            descriptorPool = newDescriptorPool();

            VkPhysicalDeviceMemoryProperties mem = VkPhysicalDeviceMemoryProperties.malloc(stack);
            vkGetPhysicalDeviceMemoryProperties(pd, mem);
            int dev = -1;
            int devHost = -1;
            int host = -1;
            for (int i = 0; i < mem.memoryTypeCount(); i++) {
                int f = mem.memoryTypes(i).propertyFlags();
                boolean local = (f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) != 0;
                boolean visible = (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0
                        && (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
                if (local && dev < 0) {
                    dev = i;
                }
                if (local && visible && devHost < 0) {
                    devHost = i;
                }
                if (visible && host < 0) {
                    host = i;
                }
            }
            // Prefer plain device-local memory on discrete GPUs; where every device-local type is host
            // visible (UMA, lavapipe) map it and skip staging.
            boolean onlyHostVisibleLocal = dev >= 0 && devHost == dev;
            this.deviceType = dev >= 0 ? dev : host;
            this.hostVisible = onlyHostVisibleLocal || dev < 0;
            this.stagingType = host;
            if (deviceType < 0 || stagingType < 0) {
                throw new TrestleException("Vulkan device " + info.name() + " has no usable memory type",
                        "use another device");
            }
        }
        dummy = allocate(16);
    }

    private long newDescriptorPool() {
        try (MemoryStack stack = stackPush()) {
            VkDescriptorPoolSize.Buffer sizes = VkDescriptorPoolSize.calloc(1, stack);
            sizes.get(0).type(VK_DESCRIPTOR_TYPE_STORAGE_BUFFER).descriptorCount(SETS_PER_POOL * MAX_BINDINGS);
            VkDescriptorPoolCreateInfo dpi = VkDescriptorPoolCreateInfo.calloc(stack).sType$Default()
                    .maxSets(SETS_PER_POOL).pPoolSizes(sizes);
            LongBuffer lb = stack.mallocLong(1);
            VulkanCheck.check(vkCreateDescriptorPool(device, dpi, null, lb), "vkCreateDescriptorPool");
            return lb.get(0);
        }
    }

    /** Opens physical device {@code index} of the shared instance. */
    public static VulkanDevice open(int index) {
        VulkanInstance vi = VulkanInstance.get();
        if (index < 0 || index >= vi.devices().size()) {
            throw new TrestleException("Vulkan device " + index + " does not exist (" + vi.devices().size()
                    + " found)", "run `trestle devices` to list them");
        }
        return new VulkanDevice(vi, index);
    }

    /** True when shaders may use the integer dot product instructions (GL_EXT_integer_dot_product). */
    public boolean integerDotEnabled() {
        return integerDot;
    }

    public VulkanDeviceInfo info() {
        return info;
    }

    /** True when shaderFloat16 and storageBuffer16BitAccess are enabled (the fp16 kernel variants may run). */
    public boolean float16() {
        return float16;
    }

    /** Dispatches recorded since the device was opened (for reports). */
    public long dispatches() {
        return dispatches;
    }

    // ---- buffers --------------------------------------------------------------------------------------

    /** A storage buffer of at least {@code bytes} (contents undefined). */
    public GpuBuffer allocate(long bytes) {
        long size = Math.max(16, (bytes + 15) & ~15L);
        return allocate(size, deviceType, hostVisible);
    }

    private GpuBuffer allocate(long size, int memType, boolean map) {
        try (MemoryStack stack = stackPush()) {
            VkBufferCreateInfo bi = VkBufferCreateInfo.calloc(stack).sType$Default().size(size)
                    .usage(VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT
                            | VK_BUFFER_USAGE_TRANSFER_DST_BIT)
                    .sharingMode(VK_SHARING_MODE_EXCLUSIVE);
            LongBuffer lb = stack.mallocLong(1);
            VulkanCheck.check(vkCreateBuffer(device, bi, null, lb), "vkCreateBuffer");
            long buf = lb.get(0);
            VkMemoryRequirements req = VkMemoryRequirements.malloc(stack);
            vkGetBufferMemoryRequirements(device, buf, req);
            if ((req.memoryTypeBits() & (1 << memType)) == 0) {
                vkDestroyBuffer(device, buf, null);
                throw new TrestleException("Vulkan buffer cannot use memory type " + memType, "use another device");
            }
            VkMemoryAllocateInfo mi = VkMemoryAllocateInfo.calloc(stack).sType$Default().allocationSize(req.size())
                    .memoryTypeIndex(memType);
            int r = vkAllocateMemory(device, mi, null, lb);
            if (r != VK_SUCCESS) {
                vkDestroyBuffer(device, buf, null);
                throw new TrestleException("Vulkan device " + info.name() + " is out of memory allocating "
                        + size + " bytes (VkResult " + r + ")", "lower -ngl or -c, or use -ctk/-ctv q8_0");
            }
            long mem = lb.get(0);
            VulkanCheck.check(vkBindBufferMemory(device, buf, mem, 0), "vkBindBufferMemory");
            MemorySegment mapped = null;
            if (map) {
                PointerBuffer pp = stack.mallocPointer(1);
                VulkanCheck.check(vkMapMemory(device, mem, 0, VK_WHOLE_SIZE, 0, pp), "vkMapMemory");
                mapped = MemorySegment.ofAddress(pp.get(0)).reinterpret(size);
            }
            GpuBuffer g = new GpuBuffer(this, buf, mem, size, mapped);
            live.add(g);
            return g;
        }
    }

    void free(GpuBuffer b) {
        if (live.remove(b)) {
            flush();
            if (b.mapped != null) {
                vkUnmapMemory(device, b.memory);
            }
            vkDestroyBuffer(device, b.buffer, null);
            vkFreeMemory(device, b.memory, null);
        }
    }

    void write(GpuBuffer b, long dst, MemorySegment src) {
        if (dst < 0 || dst + src.byteSize() > b.size) {
            throw new IndexOutOfBoundsException("write of " + src.byteSize() + " bytes at " + dst + " into " + b.size);
        }
        flush(); // recorded work may still read the old contents
        if (b.mapped != null) {
            MemorySegment.copy(src, 0, b.mapped, dst, src.byteSize());
            return;
        }
        GpuBuffer s = staging(src.byteSize());
        MemorySegment.copy(src, 0, s.mapped, 0, src.byteSize());
        copy(s, 0, b, dst, src.byteSize());
    }

    void read(GpuBuffer b, long src, MemorySegment dst) {
        if (src < 0 || src + dst.byteSize() > b.size) {
            throw new IndexOutOfBoundsException("read of " + dst.byteSize() + " bytes at " + src + " from " + b.size);
        }
        flush();
        if (b.mapped != null) {
            MemorySegment.copy(b.mapped, src, dst, 0, dst.byteSize());
            return;
        }
        GpuBuffer s = staging(dst.byteSize());
        copy(b, src, s, 0, dst.byteSize());
        MemorySegment.copy(s.mapped, 0, dst, 0, dst.byteSize());
    }

    private GpuBuffer staging(long bytes) {
        if (staging == null || staging.size < bytes) {
            if (staging != null) {
                staging.close();
            }
            staging = allocate(Math.max(bytes, 1 << 20), stagingType, true);
        }
        return staging;
    }

    private void copy(GpuBuffer from, long fromOff, GpuBuffer to, long toOff, long bytes) {
        try (MemoryStack stack = stackPush()) {
            begin();
            VkBufferCopy.Buffer region = VkBufferCopy.calloc(1, stack);
            region.get(0).srcOffset(fromOff).dstOffset(toOff).size(bytes);
            vkCmdCopyBuffer(cmd, from.buffer, to.buffer, region);
        }
        flush();
    }

    // ---- pipelines and dispatch -----------------------------------------------------------------------

    Pipeline pipeline(String shader, List<String> defines, int bindings) {
        String key = shader + defines;
        Pipeline p = pipelines.get(key);
        if (p != null) {
            return p;
        }
        byte[] spv = ShaderLibrary.spirv(shader, defines);
        try (MemoryStack stack = stackPush()) {
            ByteBuffer code = stack.malloc(spv.length);
            code.put(spv).flip();
            LongBuffer lb = stack.mallocLong(1);
            VulkanCheck.check(vkCreateShaderModule(device, VkShaderModuleCreateInfo.calloc(stack).sType$Default()
                    .pCode(code), null, lb), "vkCreateShaderModule");
            long module = lb.get(0);
            VkDescriptorSetLayoutBinding.Buffer b = VkDescriptorSetLayoutBinding.calloc(bindings, stack);
            for (int i = 0; i < bindings; i++) {
                b.get(i).binding(i).descriptorType(VK_DESCRIPTOR_TYPE_STORAGE_BUFFER).descriptorCount(1)
                        .stageFlags(VK_SHADER_STAGE_COMPUTE_BIT);
            }
            VulkanCheck.check(vkCreateDescriptorSetLayout(device, VkDescriptorSetLayoutCreateInfo.calloc(stack)
                    .sType$Default().pBindings(b), null, lb), "vkCreateDescriptorSetLayout");
            long setLayout = lb.get(0);
            VkPushConstantRange.Buffer pcr = VkPushConstantRange.calloc(1, stack);
            pcr.get(0).stageFlags(VK_SHADER_STAGE_COMPUTE_BIT).offset(0).size(PUSH_BYTES);
            VulkanCheck.check(vkCreatePipelineLayout(device, VkPipelineLayoutCreateInfo.calloc(stack).sType$Default()
                    .pSetLayouts(stack.longs(setLayout)).pPushConstantRanges(pcr), null, lb), "vkCreatePipelineLayout");
            long layout = lb.get(0);
            VkComputePipelineCreateInfo.Buffer cpi = VkComputePipelineCreateInfo.calloc(1, stack);
            cpi.get(0).sType$Default().layout(layout).stage(VkPipelineShaderStageCreateInfo.calloc(stack).sType$Default()
                    .stage(VK_SHADER_STAGE_COMPUTE_BIT).module(module).pName(stack.UTF8("main")));
            VulkanCheck.check(vkCreateComputePipelines(device, VK_NULL_HANDLE, cpi, null, lb),
                    "vkCreateComputePipelines(" + key + ")");
            p = new Pipeline(lb.get(0), layout, setLayout, module, bindings);
            pipelines.put(key, p);
            return p;
        }
    }

    private void begin() {
        if (!recording) {
            try (MemoryStack stack = stackPush()) {
                VulkanCheck.check(vkBeginCommandBuffer(cmd, VkCommandBufferBeginInfo.calloc(stack).sType$Default()
                        .flags(VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)), "vkBeginCommandBuffer");
            }
            recording = true;
        }
    }

    /**
     * Records one dispatch of {@code p} over {@code buffers} (binding order; null binds a dummy) with the push
     * constants {@code push}, followed by a barrier so the next dispatch sees its writes.
     */
    void dispatch(Pipeline p, GpuBuffer[] buffers, ByteBuffer push, int gx, int gy, int gz) {
        if (gx == 0 || gy == 0 || gz == 0) {
            return;
        }
        VkCommandBuffer cmd;
        long pool;
        if (capture != null) {
            // a recording keeps its sets for re-submission: pools are its own, added as they fill
            if (capture.pools.isEmpty() || capture.setsInPool == SETS_PER_POOL) {
                capture.pools.add(newDescriptorPool());
                capture.setsInPool = 0;
            }
            capture.setsInPool++;
            capture.dispatches++;
            cmd = capture.cmd;
            pool = capture.pools.getLast();
        } else {
            if (setsUsed == SETS_PER_POOL) {
                flush();
            }
            begin();
            setsUsed++;
            cmd = this.cmd;
            pool = descriptorPool;
        }
        try (MemoryStack stack = stackPush()) {
            LongBuffer lb = stack.mallocLong(1);
            VulkanCheck.check(vkAllocateDescriptorSets(device, VkDescriptorSetAllocateInfo.calloc(stack).sType$Default()
                    .descriptorPool(pool).pSetLayouts(stack.longs(p.setLayout())), lb),
                    "vkAllocateDescriptorSets");
            long set = lb.get(0);
            VkWriteDescriptorSet.Buffer writes = VkWriteDescriptorSet.calloc(p.bindings(), stack);
            for (int i = 0; i < p.bindings(); i++) {
                GpuBuffer g = i < buffers.length && buffers[i] != null ? buffers[i] : dummy;
                VkDescriptorBufferInfo.Buffer bi = VkDescriptorBufferInfo.calloc(1, stack);
                bi.get(0).buffer(g.buffer).offset(0).range(Math.min(g.size, info.maxStorageBufferRange()));
                writes.get(i).sType$Default().dstSet(set).dstBinding(i).descriptorType(VK_DESCRIPTOR_TYPE_STORAGE_BUFFER)
                        .pBufferInfo(bi).descriptorCount(1);
            }
            vkUpdateDescriptorSets(device, writes, null);
            vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline());
            vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout(), 0, stack.longs(set), null);
            vkCmdPushConstants(cmd, p.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push);
            vkCmdDispatch(cmd, gx, gy, gz);
            VkMemoryBarrier.Buffer mb = VkMemoryBarrier.calloc(1, stack);
            mb.get(0).sType$Default().srcAccessMask(VK_ACCESS_SHADER_WRITE_BIT)
                    .dstAccessMask(VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, mb,
                    null, null);
            if (capture == null) {
                dispatches++; // a recording's dispatches count when it runs
            }
        }
    }

    /** Submits recorded work and waits for it. */
    public void flush() {
        if (capture != null) {
            abortRecording();
        }
        if (!recording) {
            return;
        }
        endCommands(cmd);
        recording = false;
        submitAndWait(cmd);
        VulkanCheck.check(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");
        VulkanCheck.check(vkResetDescriptorPool(device, descriptorPool, 0), "vkResetDescriptorPool");
        setsUsed = 0;
    }

    private void endCommands(VkCommandBuffer cb) {
        try (MemoryStack stack = stackPush()) {
            // make shader and transfer writes visible to host reads after the fence
            VkMemoryBarrier.Buffer mb = VkMemoryBarrier.calloc(1, stack);
            mb.get(0).sType$Default().srcAccessMask(VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT)
                    .dstAccessMask(VK_ACCESS_HOST_READ_BIT);
            vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                    VK_PIPELINE_STAGE_HOST_BIT, 0, mb, null, null);
            VulkanCheck.check(vkEndCommandBuffer(cb), "vkEndCommandBuffer");
        }
    }

    private void submitAndWait(VkCommandBuffer cb) {
        try (MemoryStack stack = stackPush()) {
            VkSubmitInfo si = VkSubmitInfo.calloc(stack).sType$Default().pCommandBuffers(stack.pointers(cb));
            VulkanCheck.check(vkQueueSubmit(queue, si, fence), "vkQueueSubmit");
            VulkanCheck.check(vkWaitForFences(device, fence, true, Long.MAX_VALUE), "vkWaitForFences");
            VulkanCheck.check(vkResetFences(device, fence), "vkResetFences");
        }
    }

    // ---- reusable recordings ----------------------------------------------------------------------------

    /**
     * Captures the following dispatches into a command buffer of their own that {@link #submit} can run again
     * (pending work is submitted first). A host read or write, or a flush, before {@link #endRecording} ends the
     * capture early: what was captured runs then, in order, and the capture yields nothing.
     */
    public void beginRecording() {
        flush();
        try (MemoryStack stack = stackPush()) {
            PointerBuffer pp = stack.mallocPointer(1);
            VkCommandBufferAllocateInfo ai = VkCommandBufferAllocateInfo.calloc(stack).sType$Default()
                    .commandPool(commandPool).level(VK_COMMAND_BUFFER_LEVEL_PRIMARY).commandBufferCount(1);
            VulkanCheck.check(vkAllocateCommandBuffers(device, ai, pp), "vkAllocateCommandBuffers");
            RecordedCommands r = new RecordedCommands(this, new VkCommandBuffer(pp.get(0), device));
            VulkanCheck.check(vkBeginCommandBuffer(r.cmd, VkCommandBufferBeginInfo.calloc(stack).sType$Default()),
                    "vkBeginCommandBuffer");
            recordings.add(r);
            capture = r;
            captureFailed = false;
        }
    }

    /** True while a capture is open. */
    public boolean isRecording() {
        return capture != null;
    }

    /**
     * Ends the capture. Returns the recording, not yet run (submit it), or null when the capture was ended early
     * (its work has run).
     */
    public RecordedCommands endRecording() {
        if (capture == null) {
            if (!captureFailed) {
                throw new IllegalStateException("no recording in progress");
            }
            captureFailed = false;
            return null;
        }
        RecordedCommands r = capture;
        capture = null;
        endCommands(r.cmd);
        r.ended = true;
        return r;
    }

    private void abortRecording() {
        RecordedCommands r = capture;
        capture = null;
        captureFailed = true;
        endCommands(r.cmd);
        submitAndWait(r.cmd);
        dispatches += r.dispatches;
        release(r);
    }

    /** Runs a recording again and waits for it (pending work is submitted first). */
    public void submit(RecordedCommands r) {
        if (r.device != this || !r.ended) {
            throw new IllegalArgumentException("not a finished recording of this device");
        }
        flush();
        submitAndWait(r.cmd);
        dispatches += r.dispatches;
    }

    void release(RecordedCommands r) {
        if (!recordings.remove(r)) {
            return;
        }
        // every submission waited for its fence, so the buffer is not in flight
        vkFreeCommandBuffers(device, commandPool, r.cmd);
        for (long pool : r.pools) {
            vkDestroyDescriptorPool(device, pool, null);
        }
        r.pools.clear();
    }

    @Override
    public void close() {
        flush();
        vkDeviceWaitIdle(device);
        for (RecordedCommands r : List.copyOf(recordings)) {
            release(r);
        }
        for (GpuBuffer b : List.copyOf(live)) {
            b.close();
        }
        for (Pipeline p : pipelines.values()) {
            vkDestroyPipeline(device, p.pipeline(), null);
            vkDestroyPipelineLayout(device, p.layout(), null);
            vkDestroyDescriptorSetLayout(device, p.setLayout(), null);
            vkDestroyShaderModule(device, p.module(), null);
        }
        pipelines.clear();
        vkDestroyDescriptorPool(device, descriptorPool, null);
        vkDestroyFence(device, fence, null);
        vkDestroyCommandPool(device, commandPool, null);
        vkDestroyDevice(device, null);
    }

    static ByteBuffer push(MemoryStack stack, int words) {
        return stack.calloc(4 * words);
    }

}
