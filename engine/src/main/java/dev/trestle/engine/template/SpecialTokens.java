package dev.trestle.engine.template;

/**
 * The vocabulary's BOS/EOS texts as a template sees them, and whether tokenization adds them
 * itself: then a rendered prompt's leading BOS (trailing EOS) is dropped so it is not doubled.
 */
public record SpecialTokens(String bos, String eos, boolean addBos, boolean addEos) {
    public SpecialTokens {
        bos = bos == null ? "" : bos;
        eos = eos == null ? "" : eos;
    }
}
