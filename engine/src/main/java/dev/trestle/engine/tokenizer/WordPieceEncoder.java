package dev.trestle.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * BERT WordPiece (llama.cpp's {@code llm_tokenizer_wpm}): BERT's basic normalization splits the
 * text into words (whitespace, punctuation and CJK characters separate), then each word, prefixed
 * with U+2581, is covered greedily by the longest vocabulary tokens; a word that cannot be covered
 * becomes the unknown token.
 */
final class WordPieceEncoder {
    private final Vocabulary vocab;

    WordPieceEncoder(Vocabulary vocab) {
        this.vocab = vocab;
    }

    void encode(String text, IntList out) {
        for (String w : preprocess(text)) {
            String word = "\u2581" + w;
            int n = word.length();
            int before = out.size();
            for (int i = 0; i < n; i++) {
                boolean match = false;
                for (int j = Math.min(n, i + vocab.maxTokenChars); j > i; j--) {
                    int id = vocab.table.get(word, i, j);
                    if (id >= 0) {
                        out.add(id);
                        match = true;
                        i = j - 1;
                        break;
                    }
                }
                if (!match) {
                    out.truncate(before); // the whole word is unknown
                    break;
                }
            }
            if (out.size() == before && vocab.unk >= 0) {
                out.add(vocab.unk);
            }
        }
    }

    private List<String> preprocess(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (vocab.stripAccents) {
                cp = CodepointFlags.nfdFirst(cp);
            }
            int flags = CodepointFlags.of(cp);
            if ((flags & CodepointFlags.WHITESPACE) != 0) {
                flush(words, cur);
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || (flags & CodepointFlags.CONTROL) != 0) {
                continue;
            }
            if (vocab.stripAccents && (flags & CodepointFlags.ACCENT_MARK) != 0) {
                continue;
            }
            int c = vocab.lowercase ? CodepointFlags.toLower(cp) : cp;
            if ((flags & CodepointFlags.PUNCTUATION) != 0 || (cp < 0x7F && (flags & CodepointFlags.SYMBOL) != 0)
                    || CodepointFlags.isChineseChar(cp)) {
                flush(words, cur);
                words.add(Character.toString(c));
            } else {
                cur.appendCodePoint(c);
            }
        }
        flush(words, cur);
        return words;
    }

    private static void flush(List<String> words, StringBuilder cur) {
        if (!cur.isEmpty()) {
            words.add(cur.toString());
            cur.setLength(0);
        }
    }
}
