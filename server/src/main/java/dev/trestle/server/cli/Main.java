package dev.trestle.server.cli;

import dev.trestle.common.TrestleException;
import java.io.PrintWriter;
import picocli.CommandLine;

/** Entry point of the {@code trestle} command. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this directly). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(out, err);
        return cl.execute(args);
    }

    /** The configured picocli command tree. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new TrestleCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof TrestleException te) {
                commandLine.getErr().println("error: " + te.getMessage());
                if (te.fix() != null) {
                    commandLine.getErr().println("fix: " + te.fix());
                }
                commandLine.getErr().flush();
                return te.exitCode();
            }
            throw ex;
        });
        return cl;
    }
}
