package dev.trestle.engine.template.jinja;

import java.util.List;

/** The syntax tree of a template: statements and expressions. */
sealed interface Node {

    /** Something a template body executes. */
    sealed interface Stmt extends Node {
    }

    /** Something that evaluates to a value; {@code pos} locates it in the source for errors. */
    sealed interface Expr extends Node {
        int pos();
    }

    // ---- statements

    record Text(String text) implements Stmt {
    }

    record Output(Expr expr) implements Stmt {
    }

    record If(List<Branch> branches, List<Stmt> otherwise) implements Stmt {
    }

    record Branch(Expr test, List<Stmt> body) {
    }

    record For(List<String> targets, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> otherwise,
               int pos) implements Stmt {
    }

    /** {@code set a = ...}, {@code set a, b = ...} or {@code set ns.attr = ...}. */
    record Set(List<String> targets, Expr object, Expr value, int pos) implements Stmt {
    }

    record SetBlock(String target, List<Stmt> body) implements Stmt {
    }

    record Macro(String name, List<Param> params, List<Stmt> body) implements Stmt {
    }

    record Param(String name, Expr defaultValue) {
    }

    record FilterBlock(String filter, List<Expr> args, List<Stmt> body, int pos) implements Stmt {
    }

    record Do(Expr expr) implements Stmt {
    }

    record Break() implements Stmt {
    }

    record Continue() implements Stmt {
    }

    // ---- expressions

    record Literal(Object value, int pos) implements Expr {
    }

    record Name(String name, int pos) implements Expr {
    }

    record ListLit(List<Expr> items, boolean tuple, int pos) implements Expr {
    }

    record DictLit(List<Expr> keys, List<Expr> values, int pos) implements Expr {
    }

    record Attr(Expr object, String name, int pos) implements Expr {
    }

    record Item(Expr object, Expr key, int pos) implements Expr {
    }

    record Slice(Expr object, Expr start, Expr stop, Expr step, int pos) implements Expr {
    }

    record Call(Expr callee, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int pos) implements Expr {
    }

    record Filter(Expr input, String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int pos)
            implements Expr {
    }

    record Test(Expr input, String name, List<Expr> args, boolean negated, int pos) implements Expr {
    }

    record Binary(String op, Expr left, Expr right, int pos) implements Expr {
    }

    record Unary(String op, Expr operand, int pos) implements Expr {
    }

    record Conditional(Expr test, Expr then, Expr otherwise, int pos) implements Expr {
    }
}
