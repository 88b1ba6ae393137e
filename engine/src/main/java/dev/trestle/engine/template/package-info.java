/**
 * Chat templates: a conversation (and its tools) to the prompt text a model expects, as
 * llama-server renders it with {@code --jinja}.
 *
 * <p>The server builds one {@link dev.trestle.engine.template.ChatTemplate} per model with
 * {@link dev.trestle.engine.template.ChatTemplates#forModel} ({@code --chat-template NAME|FILE},
 * else the GGUF's {@code tokenizer.chat_template}, else chatml), maps each OpenAI request to
 * {@link dev.trestle.engine.template.ChatMessage}s and {@link dev.trestle.engine.template.Tool}s,
 * and calls {@code render}; a {@link dev.trestle.engine.template.TemplateException} is the
 * client's fault (HTTP 400). {@link dev.trestle.engine.template.TemplateCaps} says what the
 * template can express ({@code chat_template_caps}).
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplates.forModel(gguf.metadata(), cli.chatTemplate);
 * String prompt = t.render(ChatMessage.listFromJson(body.get("messages")),
 *                          Tool.listFromJson(body.get("tools")), RenderOptions.defaults());
 * }</pre>
 *
 * <p>The Jinja engine itself is {@link dev.trestle.engine.template.jinja}.
 */
package dev.trestle.engine.template;
