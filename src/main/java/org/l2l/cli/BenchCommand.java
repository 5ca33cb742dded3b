package org.l2l.cli;

import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.l2l.UserError;
import org.l2l.config.Check;
import org.l2l.meta.Seeds;
import org.l2l.meta.TrainConfig;
import org.l2l.meta.Unroll;
import org.l2l.problem.Instance;
import org.l2l.problem.MnistProblem;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemType;
import org.l2l.problem.QuadraticProblem;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Preprocessing;
import org.l2l.rule.RuleMap;
import org.l2l.rule.Rules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code l2l bench}: the project's standard speed measurements, one JSON line each on standard
 * output. Every measurement runs in a child JVM of its own (the same java binary and class path,
 * with the hidden option {@code --child NAME}), so that its peak memory (VmHWM) is its own.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"The project's standard speed measurements, one JSON line each.",
        "Keys: name, median_ms, min_ms, max_ms, runs, threads, peak_rss_mb (MiB, null off "
        + "Linux), lstm_kernel; epochs_per_second_mnist adds value (epochs/s, 1000 / "
        + "median_ms), graph_build_mnist first_step_median_ms. Each measurement runs in a JVM "
        + "of its own, so that its peak memory is its own. 2-layer LSTM of 20 units, "
        + "--lstm-kernel auto, seed 1. What each one times: docs/performance.md."})
final class BenchCommand implements Callable<Integer> {

  /** The measurements, in the order they run. */
  static final List<String> NAMES = List.of("meta_step_quadratic_1", "meta_step_quadratic_128",
      "meta_step_mnist", "optimizee_step_mnist_l2l", "optimizee_step_mnist_adam",
      "graph_build_mnist", "epochs_per_second_mnist");

  /** Timed repetitions without --runs: meta-steps, optimizee unrolls. */
  static final int RUNS_DEFAULT = 20;
  /** Timed repetitions without --runs of the slow units: graph builds, epochs. */
  static final int RUNS_DEFAULT_SLOW = 5;
  /** Untimed meta-steps or unrolls before the timed ones: at least this many... */
  static final int WARMUP_STEPS = 5;
  /**
   * ...and at least this long, so that the JVM has compiled the run loop: on one quadratic (about
   * 1 ms a meta-step) 5 warm-up steps left the timed ones 2-3 times slower than later ones.
   */
  static final long WARMUP_NANOS = 2_000_000_000L;
  /** Unrolls of the paper. */
  static final int UNROLL = TrainConfig.UNROLL_LENGTH_DEFAULT;
  /** Steps per instance (an epoch), as meta-training's default. */
  static final int NUM_STEPS = TrainConfig.NUM_STEPS_DEFAULT;
  static final long SEED = 1;
  /** Adam's learning rate in optimizee_step_mnist_adam (as benchmark --optimizee-steps). */
  static final double ADAM_LEARNING_RATE = 0.01;

  @Spec CommandSpec spec;

  @Option(names = "--runs", paramLabel = "N",
      description = "Timed repetitions per measurement: meta-steps, optimizee unrolls, graph "
          + "builds or epochs (default: " + RUNS_DEFAULT + "; graph builds and epochs "
          + RUNS_DEFAULT_SLOW + "). Warm-up runs come first and are not timed (meta-steps "
          + "and unrolls: at least 5 and at least 2 s of them).")
  Integer runs;

  @Option(names = "--only", paramLabel = "NAME", split = ",",
      description = "Only these measurements: meta_step_quadratic_1, meta_step_quadratic_128, "
          + "meta_step_mnist, optimizee_step_mnist_l2l, optimizee_step_mnist_adam, "
          + "graph_build_mnist, epochs_per_second_mnist (default: all, in this order).")
  List<String> only;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
      description = "TensorFlow threads; 0 = TensorFlow's choice (default: ${DEFAULT-VALUE}).")
  int threads;

  @Mixin
  KernelMixin kernel;

  /** In a child JVM: run this one measurement here and print its line. */
  @Option(names = "--child", hidden = true, paramLabel = "NAME")
  String child;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (runs != null) {
      Check.positive("--runs", runs);
    }
    Check.nonNegative("--threads", threads);
    CoordinatewiseLstm.Kernel lstmKernel = kernel.resolve();
    if (child != null) {
      Check.oneOf("--child", child, NAMES);
      System.out.println(measure(child, runsOf(child), threads, lstmKernel).toString());
      System.out.flush();
      return 0;
    }
    List<String> chosen = chosen();
    PrintWriter err = spec.commandLine().getErr();
    for (String name : chosen) {
      int code = runChild(name, err);
      if (code != 0) {
        if (code != Main.EXIT_USAGE) { // a usage error has already been printed as one line
          err.println("l2l: bench: measurement " + name + " failed (exit code " + code + ")");
          err.flush();
        }
        return code == Main.EXIT_USAGE ? code : 1;
      }
    }
    return 0;
  }

  /** The measurements asked for, checked, in the order given, without repeats. */
  private List<String> chosen() {
    if (only == null) {
      return NAMES;
    }
    Set<String> out = new LinkedHashSet<>();
    for (String name : only) {
      out.add(Check.oneOf("--only", name.trim(), NAMES));
    }
    return List.copyOf(out);
  }

  private int runsOf(String name) {
    if (runs != null) {
      return runs;
    }
    return name.equals("graph_build_mnist") || name.equals("epochs_per_second_mnist")
        ? RUNS_DEFAULT_SLOW : RUNS_DEFAULT;
  }

  // ---------------------------------------------------------------------------------------------
  // Parent: one child JVM per measurement.

  /** Runs {@code name} in a child JVM; copies its standard output and error; its exit code. */
  private int runChild(String name, PrintWriter err) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(jvmOptions());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "bench", "--child", name, "--runs", Integer.toString(runsOf(name)), "--threads",
        Integer.toString(threads), "--lstm-kernel", kernel.kernel));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putIfAbsent("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    p.getOutputStream().close();
    Thread errors = new Thread(() -> copy(p.getErrorStream(), err), "bench-child-stderr");
    errors.setDaemon(true);
    errors.start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        System.out.println(line);
        System.out.flush();
      }
    }
    int code = p.waitFor();
    errors.join();
    return code;
  }

  private static void copy(java.io.InputStream in, PrintWriter to) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in,
        StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        synchronized (to) {
          to.println(line);
          to.flush();
        }
      }
    } catch (IOException e) {
      // the child is gone; its exit code tells
    }
  }

  /** This JVM's java binary. */
  static String javaBinary() {
    Path home = Path.of(System.getProperty("java.home"), "bin");
    for (String exe : List.of("java", "java.exe")) {
      if (Files.isRegularFile(home.resolve(exe))) {
        return home.resolve(exe).toString();
      }
    }
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** This JVM's heap, stack and -D settings (L2L_JAVA_OPTS), not agents or debuggers. */
  static List<String> jvmOptions() {
    List<String> out = new ArrayList<>();
    try {
      for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (a.startsWith("-Xmx") || a.startsWith("-Xms") || a.startsWith("-Xss")
            || (a.startsWith("-D") && !a.startsWith("-Djava.class.path"))) {
          out.add(a);
        }
      }
    } catch (RuntimeException | LinkageError e) {
      // no management module: the child runs with the JVM's defaults
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Child: one measurement.

  /** Runs one measurement in this JVM; its JSON line. */
  static JsonObject measure(String name, int runs, int threads,
      CoordinatewiseLstm.Kernel kernel) {
    double[] ms;
    double[] firstSteps = null;
    switch (name) {
      case "meta_step_quadratic_1" -> ms = metaSteps(quadratic(1, "gaussian"),
          quadraticLstm(), kernel, runs, threads);
      case "meta_step_quadratic_128" -> ms = metaSteps(quadratic(128, "uniform"),
          quadraticLstm(), kernel, runs, threads);
      case "meta_step_mnist" -> ms = metaSteps(mnist(), mnistLstm(), kernel, runs, threads);
      case "optimizee_step_mnist_l2l", "optimizee_step_mnist_adam" -> {
        Problem p = mnist();
        List<RuleMap.Binding> rule = name.endsWith("_l2l") ? lstm(p, mnistLstm(), kernel, threads)
            : RuleMap.all(p.params(), Rules.baseline("adam", ADAM_LEARNING_RATE));
        ms = optimizeeSteps(p, rule, runs, threads);
      }
      case "graph_build_mnist" -> {
        firstSteps = new double[runs];
        ms = graphBuilds(mnist(), mnistLstm(), kernel, runs, threads, firstSteps);
      }
      case "epochs_per_second_mnist" -> ms = epochs(mnist(), mnistLstm(), kernel, runs,
          threads);
      default -> throw UserError.flag("--child", name, "unknown; allowed: "
          + String.join(", ", NAMES));
    }
    Arrays.sort(ms);
    JsonObject o = new JsonObject();
    o.addProperty("name", name);
    o.addProperty("median_ms", round(median(ms)));
    o.addProperty("min_ms", round(ms[0]));
    o.addProperty("max_ms", round(ms[ms.length - 1]));
    o.addProperty("runs", ms.length);
    o.addProperty("threads", threads);
    Double rss = peakRssMb();
    if (rss == null) {
      o.add("peak_rss_mb", com.google.gson.JsonNull.INSTANCE);
    } else {
      o.addProperty("peak_rss_mb", rss);
    }
    if (name.equals("epochs_per_second_mnist")) {
      o.addProperty("value", round(1000 / median(ms)));
    }
    if (firstSteps != null) {
      Arrays.sort(firstSteps);
      o.addProperty("first_step_median_ms", round(median(firstSteps)));
    }
    if (!name.endsWith("_adam")) {
      o.addProperty("lstm_kernel", kernel.flag());
    }
    return o;
  }

  static Problem quadratic(int batch, String distribution) {
    return QuadraticProblem.TYPE.create(new QuadraticProblem.Config(batch,
        QuadraticProblem.DIMS_DEFAULT, distribution), ProblemType.Context.QUIET);
  }

  /** The MNIST MLP with the problem's defaults (data in data/mnist, fetched when absent). */
  static Problem mnist() {
    return MnistProblem.TYPE.create(MnistProblem.TYPE.defaults(), ProblemType.Context.QUIET);
  }

  /** 2 x 20 LSTM, log-and-sign-paper (p 10), output scale 0.1. */
  static CoordinatewiseLstm.Config quadraticLstm() {
    return new CoordinatewiseLstm.Config(CoordinatewiseLstm.LAYERS_DEFAULT,
        CoordinatewiseLstm.HIDDEN_SIZE_DEFAULT, CoordinatewiseLstm.FORGET_BIAS_DEFAULT, 0.1,
        Preprocessing.LOG_AND_SIGN_PAPER, Preprocessing.P_PAPER);
  }

  /** The MNIST problem's LSTM defaults (the same 2 x 20 LSTM and preprocessing). */
  static CoordinatewiseLstm.Config mnistLstm() {
    return RecordOptions.lstmDefaults(MnistProblem.TYPE);
  }

  static List<RuleMap.Binding> lstm(Problem p, CoordinatewiseLstm.Config config,
      CoordinatewiseLstm.Kernel kernel, int threads) {
    return RuleMap.DEFAULT.bind(p.params(), scope -> new CoordinatewiseLstm(config, kernel,
        scope, threads), "problem " + p.name());
  }

  /** Meta-training's unroll: unroll 20, first-order, meta-Adam's default rate, seed 1. */
  static Unroll.Options training(int threads) {
    return new Unroll.Options(UNROLL, false, false, TrainConfig.META_LEARNING_RATE_DEFAULT, 0,
        SEED, threads);
  }

  /**
   * Milliseconds per meta-step ({@link Unroll#train}), as meta-training runs them: a new
   * instance every {@code NUM_STEPS / UNROLL} unrolls.
   */
  static double[] metaSteps(Problem p, CoordinatewiseLstm.Config config,
      CoordinatewiseLstm.Kernel kernel, int runs, int threads) {
    try (Unroll u = new Unroll(p, lstm(p, config, kernel, threads), training(threads))) {
      return timeUnrolls(u, p, Seeds.Stream.TRAIN, runs, true, 1);
    }
  }

  /** Milliseconds per optimizee step: an unroll without meta-step divided by its length. */
  static double[] optimizeeSteps(Problem p, List<RuleMap.Binding> rule, int runs, int threads) {
    try (Unroll u = new Unroll(p, rule, Unroll.Options.evaluation(UNROLL, threads))) {
      return timeUnrolls(u, p, Seeds.Stream.TEST, runs, false, UNROLL);
    }
  }

  private static double[] timeUnrolls(Unroll u, Problem p, Seeds.Stream stream, int runs,
      boolean train, int divisor) {
    int perInstance = NUM_STEPS / UNROLL;
    double[] ms = new double[runs];
    Instance instance = null;
    long warmUntil = System.nanoTime() + WARMUP_NANOS;
    int timed = 0;
    for (int n = 0; timed < runs; n++) {
      int k = n % perInstance;
      if (k == 0) {
        instance = p.sample(Seeds.random(SEED, stream, n / perInstance));
        u.reset(instance);
      }
      long s = System.nanoTime();
      boolean warmUp = n < WARMUP_STEPS || s < warmUntil; // once false, false from then on
      if (train) {
        u.train(instance, k);
      } else {
        u.run(instance, k);
      }
      if (!warmUp) {
        ms[timed++] = (System.nanoTime() - s) / 1e6 / divisor;
      }
    }
    return ms;
  }

  /**
   * Milliseconds to build meta-training's unroll (graph and session: {@code new Unroll}), after
   * one untimed build; {@code firstSteps} gets each build's first meta-step, which includes
   * TensorFlow's one-time preparation of the graph.
   */
  static double[] graphBuilds(Problem p, CoordinatewiseLstm.Config config,
      CoordinatewiseLstm.Kernel kernel, int runs, int threads, double[] firstSteps) {
    double[] ms = new double[runs];
    Instance instance = p.sample(Seeds.random(SEED, Seeds.Stream.TRAIN, 0));
    for (int i = -1; i < runs; i++) {
      long s = System.nanoTime();
      try (Unroll u = new Unroll(p, lstm(p, config, kernel, threads), training(threads))) {
        long built = System.nanoTime();
        u.reset(instance);
        long r = System.nanoTime();
        u.train(instance, 0);
        long done = System.nanoTime();
        if (i >= 0) {
          ms[i] = (built - s) / 1e6;
          firstSteps[i] = (done - r) / 1e6;
        }
      }
    }
    return ms;
  }

  /**
   * Milliseconds per meta-training epoch, as MetaTrainer runs one without evaluation: sample an
   * instance, reset, {@code NUM_STEPS / UNROLL} meta-steps; after one untimed epoch.
   */
  static double[] epochs(Problem p, CoordinatewiseLstm.Config config,
      CoordinatewiseLstm.Kernel kernel, int runs, int threads) {
    double[] ms = new double[runs];
    try (Unroll u = new Unroll(p, lstm(p, config, kernel, threads), training(threads))) {
      for (int e = 0; e <= runs; e++) {
        long s = System.nanoTime();
        Instance instance = p.sample(Seeds.random(SEED, Seeds.Stream.TRAIN, e + 1));
        u.reset(instance);
        for (int k = 0; k < NUM_STEPS / UNROLL; k++) {
          u.train(instance, k);
        }
        if (e > 0) {
          ms[e - 1] = (System.nanoTime() - s) / 1e6;
        }
      }
    }
    return ms;
  }

  /** The median of sorted values (the mean of the middle two for an even count). */
  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double round(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  /** This process's peak resident memory (VmHWM) in MiB; null where /proc is absent. */
  static Double peakRssMb() {
    Long kb = peakRssKb();
    return kb == null ? null : Math.round(kb / 1024.0 * 10) / 10.0;
  }

  /** This process's peak resident memory (VmHWM) in kB; null where /proc is absent. */
  static Long peakRssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.substring(6).replace("kB", "").trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return null;
  }
}
