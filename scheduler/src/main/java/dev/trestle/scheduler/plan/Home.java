package dev.trestle.scheduler.plan;

/**
 * Where one weight tensor lives: host RAM, one GPU, or (row split) a row slice on every GPU with the
 * gathered result on {@code gpu}, the main GPU.
 */
public record Home(int gpu, boolean rowSplit) {
    public static final Home CPU = new Home(-1, false);

    public static Home gpu(int index) {
        return new Home(index, false);
    }

    public boolean isCpu() {
        return gpu < 0;
    }
}
