package org.l2l.cli;

import org.l2l.UserError;

import java.io.PrintWriter;
import java.util.List;
import org.l2l.meta.TrainConfig;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code l2l} command line. */
@Command(name = "l2l", mixinStandardHelpOptions = true, version = "l2l 0.1.0",
    description = {"Learning to learn by gradient descent by gradient descent "
        + "(Andrychowicz et al. 2016) in TensorFlow Java."},
    subcommands = {TrainCommand.class, EvaluateCommand.class, GraphCommand.class,
        InspectCommand.class, ExportCommand.class, BenchmarkCommand.class,
        BenchCommand.class, ReproduceCommand.class, ClusterCommand.class})
public final class Main implements Runnable {

  /** Exit code of a user's mistake. */
  public static final int EXIT_USAGE = 2;

  @Override
  public void run() {
    CommandLine.usage(this, System.out);
  }

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (for tests). */
  public static int execute(String... args) {
    return execute(new PrintWriter(System.err, true), args);
  }

  /** Runs the command line with errors going to {@code err}; returns the exit code. */
  public static int execute(PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new Main());
    // Settings declared in records (problems, the learned rule, meta-training) become options.
    for (String name : List.of("train", "evaluate", "benchmark", "graph")) {
      CommandSpec spec = cli.getSubcommands().get(name).getCommandSpec();
      RecordOptions.addProblemOptions(spec);
      if (!name.equals("evaluate")) {
        RecordOptions.addLstmOptions(spec);
        RecordOptions.addRulesOption(spec);
      }
      if (name.equals("train")) {
        RecordOptions.add(spec, TrainConfig.DEFAULTS);
      }
    }
    cli.setErr(err);
    cli.setParameterExceptionHandler((e, a) -> {
      PrintWriter w = e.getCommandLine().getErr();
      w.println("l2l: " + e.getMessage() + " (see '" + e.getCommandLine().getCommandSpec()
          .qualifiedName() + " --help')");
      w.flush();
      return EXIT_USAGE;
    });
    cli.setExecutionExceptionHandler((e, c, p) -> {
      Throwable cause = e;
      while (cause instanceof java.io.UncheckedIOException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof org.l2l.dist.Collectives.LostWorker) {
        c.getErr().println("l2l: " + cause.getMessage());
        c.getErr().flush();
        return org.l2l.dist.Collectives.EXIT_LOST_WORKER;
      }
      if (cause instanceof UserError) {
        c.getErr().println("l2l: " + cause.getMessage());
        c.getErr().flush();
        return EXIT_USAGE;
      }
      if (cause instanceof java.io.IOException) {
        c.getErr().println("l2l: " + cause);
        c.getErr().flush();
        return 1;
      }
      throw e;
    });
    return cli.execute(args);
  }
}
