package dev.trestle.engine.hub;

/** Receives a download's progress; called from the downloading thread. */
public interface DownloadProgress {

    /**
     * A transfer (or a resumed attempt) begins.
     *
     * @param total     bytes of the whole file, or -1 when unknown
     * @param resumedAt bytes already on disk from an earlier attempt
     */
    void started(String name, long total, long resumedAt);

    /** {@code done} bytes of the whole file are on disk now. */
    void advanced(long done);

    /** The attempt ended: completely when {@code ok}, else it was cut (and may be resumed). */
    void finished(long done, boolean ok);

    /** Reports nothing. */
    DownloadProgress NONE = new DownloadProgress() {
        @Override
        public void started(String name, long total, long resumedAt) {
        }

        @Override
        public void advanced(long done) {
        }

        @Override
        public void finished(long done, boolean ok) {
        }
    };
}
