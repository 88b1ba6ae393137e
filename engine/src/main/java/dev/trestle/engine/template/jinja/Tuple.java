package dev.trestle.engine.template.jinja;

import java.util.AbstractList;
import java.util.List;

/** An immutable Python tuple: {@code (a, b)} literals and the pairs {@code items()} yields. */
final class Tuple extends AbstractList<Object> {
    private final Object[] items;

    Tuple(List<?> items) {
        this.items = items.toArray();
    }

    Tuple(Object a, Object b) {
        this.items = new Object[] {a, b};
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
