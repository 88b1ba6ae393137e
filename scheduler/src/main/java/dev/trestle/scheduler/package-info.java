/**
 * The scheduler: device inventory, memory model and placement planner.
 *
 * <p>Placement rule, applied in this order (llama.cpp's, so its flags mean the same here):
 * <ol>
 *   <li>{@code -ngl N}: the last N repeating layers live on GPUs; N above the layer count puts the
 *       output head on a GPU too. Token embeddings always stay in host RAM (one row is read per token).
 *   <li>{@code -sm layer} (default): offloaded layers go to GPUs in {@code -ts} proportions of their
 *       bytes (weights placed on the GPU plus KV), default proportional to free memory;
 *       {@code -sm row}: every 2-D matrix of those layers is cut by rows (on quant-block boundaries),
 *       everything else on the main GPU ({@code -mg}); {@code -sm none}: all on the main GPU.
 *   <li>{@code --n-cpu-moe N} / {@code --cpu-moe}: the routed-expert tensors of the first N (all)
 *       layers live in host RAM; the rest of those layers stays on its GPU.
 *   <li>{@code -ot REGEX=BUFFER}: applied last, first matching rule wins.
 *   <li>KV cache and compute follow the layer; the CPU computes what lives in host RAM.
 * </ol>
 * {@code --fit} (default when -ngl is auto) searches, per context size from {@code -c} down to
 * {@code --fit-ctx}: -ngl from all layers down, and for each the smallest --n-cpu-moe that fits.
 *
 * <pre>{@code
 * ModelProfile profile = GgufProfiles.of(gguf);                 // engine side: header only
 * Inventory inv = Inventory.simulated("cuda:RTX 5060 Ti:16GiB", 64L << 30);
 * PlacementRequest req = PlacementRequest.defaults(ContextSettings.defaults()).withNCpuMoe(30);
 * Plan plan = Planner.plan(profile, inv, req);                  // throws with fixes when nothing fits
 * System.out.print(PlanReport.render(plan));
 * }</pre>
 */
package dev.trestle.scheduler;
