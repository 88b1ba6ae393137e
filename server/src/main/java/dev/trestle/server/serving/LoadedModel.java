package dev.trestle.server.serving;

import dev.trestle.engine.runtime.Context;
import dev.trestle.engine.runtime.Model;
import dev.trestle.engine.template.ChatTemplate;
import dev.trestle.engine.tokenizer.Tokenizer;

/**
 * A model ready to serve: weights, its one engine context, tokenizer, chat template and serving loop.
 *
 * @param alias id reported by /v1/models (--alias, else the file name)
 */
public record LoadedModel(String alias, Model model, Context context, Tokenizer tokenizer, ChatTemplate template,
                          ServingLoop loop) implements AutoCloseable {

    @Override
    public void close() {
        loop.close();
        context.close();
        model.close();
    }
}
