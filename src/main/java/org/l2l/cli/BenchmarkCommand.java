package org.l2l.cli;

import org.l2l.config.Check;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.l2l.meta.Seeds;
import org.l2l.meta.Unroll;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;
import org.l2l.meta.MetaAdam;
import org.l2l.meta.ProblemConfig;
import org.l2l.rule.RuleMap;
import org.l2l.rule.CoordinatewiseLstm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code l2l benchmark}: time per meta-step (one unroll plus the meta-update). */
@Command(name = "benchmark", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Time meta-steps: one unroll of --unroll-length steps with its meta-update.",
        "Prints the median, 10th and 90th percentile over --meta-steps timed meta-steps (after "
            + "--warmup untimed ones), the graph build time and the peak memory."})
final class BenchmarkCommand implements Callable<Integer> {

  @Mixin ProblemMixin problem;
  @Mixin KernelMixin kernel;

  @Option(names = "--unroll-length", paramLabel = "N", defaultValue = "20",
      description = "Steps per unroll (default: ${DEFAULT-VALUE}).")
  int unrollLength;

  @Option(names = "--meta-steps", paramLabel = "N", defaultValue = "50",
      description = "Timed meta-steps (default: ${DEFAULT-VALUE}).")
  int metaSteps;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "5",
      description = "Untimed meta-steps first (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "TensorFlow threads; 0 = TensorFlow's choice (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--profile", defaultValue = "false",
      description = "Then trace 5 more meta-steps and print where the time goes: the op types "
          + "with the most time per meta-step (summed over threads, so the total exceeds the "
          + "wall time).")
  boolean profile;

  @Option(names = "--compare-to", paramLabel = "K",
      description = "Then check this kernel against another (step, xla, fused or stock): the "
          + "meta-gradient of the first unroll from the same instance and the same initial "
          + "weights by both, their relative difference (L2 norm of the difference over the L2 "
          + "norm of the other's) and the largest absolute difference.")
  String compareTo;

  @Option(names = "--optimizee-steps", defaultValue = "false",
      description = "Then time optimizee steps without meta-training (an unroll's run divided by "
          + "--unroll-length): the learned rules and Adam, on the same graph machinery, "
          + "--meta-steps unrolls each.")
  boolean optimizeeSteps;

  @Override
  public Integer call() throws IOException {
    ProblemConfig problemConfig = problem.config();
    CoordinatewiseLstm.Config lstm = problem.lstm();
    CoordinatewiseLstm.Kernel lstmKernel = kernel.resolve();
    RuleMap rules = problem.rules();
    Check.positive("--unroll-length", unrollLength);
    Check.positive("--meta-steps", metaSteps);
    Check.nonNegative("--warmup", warmup);
    Check.nonNegative("--threads", threads);
    Problem p = problemConfig.create();
    List<RuleMap.Binding> bindings = rules.bind(p.params(),
        scope -> new CoordinatewiseLstm(lstm, lstmKernel, scope, threads), "problem " + p.name());
    Unroll.Options options = new Unroll.Options(unrollLength, false, false,
        MetaAdam.LEARNING_RATE_DEFAULT, 0, 1, threads);
    Instance instance = p.sample(Seeds.random(1, Seeds.Stream.TRAIN, 0));
    long t0 = System.nanoTime();
    try (Unroll u = new Unroll(p, bindings, options)) {
      double buildMs = (System.nanoTime() - t0) / 1e6;
      double[] ms = timeUnrolls(u, instance, true, 1);
      System.out.printf(Locale.ROOT, "problem %s, %d coordinates, unroll %d, threads %s, LSTM "
          + "kernel %s%n", p.name(), p.numCoordinates(), unrollLength,
          threads == 0 ? "default" : threads, lstmKernel.flag());
      System.out.printf(Locale.ROOT, "graph build %.0f ms; %d ops%n", buildMs,
          countOps(u));
      System.out.printf(Locale.ROOT, "meta-step: median %.2f ms, p10 %.2f ms, p90 %.2f ms "
          + "over %d%n", ms[metaSteps / 2], ms[metaSteps / 10], ms[metaSteps * 9 / 10],
          metaSteps);
      Long kb = BenchCommand.peakRssKb();
      System.out.printf(Locale.ROOT, "peak memory (VmHWM): %s%n", kb == null ? "unknown"
          : kb + " kB");
      if (profile) {
        profile(u, instance);
      }
    }
    if (compareTo != null) {
      CoordinatewiseLstm.Kernel other = KernelMixin.resolve(compareTo);
      List<List<float[]>> gradients = new java.util.ArrayList<>();
      for (CoordinatewiseLstm.Kernel k : List.of(lstmKernel, other)) {
        try (Unroll u = new Unroll(p, rules.bind(p.params(),
            scope -> new CoordinatewiseLstm(lstm, k, scope, threads), "problem " + p.name()),
            options)) {
          u.reset(instance);
          gradients.add(u.metaGradient(instance, 0));
        }
      }
      double num = 0;
      double den = 0;
      double worst = 0;
      for (int t = 0; t < gradients.get(0).size(); t++) {
        float[] a = gradients.get(0).get(t);
        float[] b = gradients.get(1).get(t);
        for (int i = 0; i < a.length; i++) {
          double d = (double) a[i] - b[i];
          num += d * d;
          den += (double) b[i] * b[i];
          worst = Math.max(worst, Math.abs(d));
        }
      }
      System.out.printf(Locale.ROOT, "meta-gradient, %s against %s: relative difference %.3g, "
          + "largest absolute difference %.3g (norm of %s's %.4g)%n", lstmKernel.flag(),
          other.flag(), Math.sqrt(num / den), worst, other.flag(), Math.sqrt(den));
    }
    if (optimizeeSteps) {
      Unroll.Options run = Unroll.Options.evaluation(unrollLength, threads);
      try (Unroll l2l = new Unroll(p, bindings, run);
          Unroll adam = new Unroll(p, org.l2l.rule.Rules.baseline("adam", 0.01), run)) {
        for (Unroll u : List.of(l2l, adam)) {
          double[] ms = optimizeeStepMs(u, p);
          System.out.printf(Locale.ROOT, "optimizee step (%s): median %.2f ms, p10 %.2f ms, "
              + "p90 %.2f ms over %d unrolls of %d%n", u == l2l ? "l2l" : "adam",
              ms[ms.length / 2], ms[ms.length / 10], ms[ms.length * 9 / 10], ms.length,
              unrollLength);
        }
      }
    }
    return 0;
  }

  /** Milliseconds per optimizee step: unrolls without a meta-step, sorted. */
  private double[] optimizeeStepMs(Unroll u, Problem p) {
    return timeUnrolls(u, p.sample(Seeds.random(1, Seeds.Stream.TEST, 0)), false,
        unrollLength);
  }

  /**
   * From a reset to {@code instance}: --warmup untimed, then --meta-steps timed runs of unroll 0
   * (with a meta-step if {@code train}), each divided by {@code divisor}; sorted milliseconds.
   */
  private double[] timeUnrolls(Unroll u, Instance instance, boolean train, int divisor) {
    u.reset(instance);
    double[] ms = new double[metaSteps];
    for (int i = -warmup; i < metaSteps; i++) {
      long s = System.nanoTime();
      if (train) {
        u.train(instance, 0);
      } else {
        u.run(instance, 0);
      }
      if (i >= 0) {
        ms[i] = (System.nanoTime() - s) / 1e6 / divisor;
      }
    }
    Arrays.sort(ms);
    return ms;
  }

  /** Traces meta-steps and prints the op types that take the most time. */
  private static void profile(Unroll u, Instance instance) {
    int runs = 5;
    Map<String, double[]> byType = new HashMap<>(); // type -> {microseconds, executions}
    Map<String, double[]> byGroup = new HashMap<>(); // type and name pattern -> same
    double total = 0;
    for (int r = 0; r < runs; r++) {
      org.tensorflow.proto.RunMetadata trace = u.traceTrain(instance, 0);
      for (var device : trace.getStepStats().getDevStatsList()) {
        for (var node : device.getNodeStatsList()) {
          var op = u.graph().operation(node.getNodeName());
          String type = op == null ? node.getNodeName() : op.type();
          double[] acc = byType.computeIfAbsent(type, k -> new double[2]);
          acc[0] += node.getAllEndRelMicros();
          acc[1]++;
          total += node.getAllEndRelMicros();
          // The node's name without its step numbers: where in the unroll it sits.
          String group = type + " " + node.getNodeName().replaceAll("_\\d+", "")
              .replaceAll("\\d+", "#");
          double[] g = byGroup.computeIfAbsent(group, k -> new double[2]);
          g[0] += node.getAllEndRelMicros();
          g[1]++;
        }
      }
    }
    List<Map.Entry<String, double[]>> rows = new ArrayList<>(byType.entrySet());
    rows.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
    System.out.printf(Locale.ROOT, "op time per meta-step (traced, mean of %d): %.1f ms in all%n",
        runs, total / runs / 1000);
    for (int i = 0; i < Math.min(15, rows.size()); i++) {
      var e = rows.get(i);
      System.out.printf(Locale.ROOT, "  %-28s %8.1f ms  %6.1f%%  %6.0f ops%n", e.getKey(),
          e.getValue()[0] / runs / 1000, 100 * e.getValue()[0] / total, e.getValue()[1] / runs);
    }
    rows = new ArrayList<>(byGroup.entrySet());
    rows.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
    System.out.println("by op type and place in the graph (step numbers as #):");
    for (int i = 0; i < Math.min(15, rows.size()); i++) {
      var e = rows.get(i);
      System.out.printf(Locale.ROOT, "  %8.1f ms %5.0f ops  %s%n", e.getValue()[0] / runs / 1000,
          e.getValue()[1] / runs, e.getKey());
    }
  }

  private static long countOps(Unroll u) {
    long n = 0;
    for (var it = u.graph().operations(); it.hasNext(); it.next()) {
      n++;
    }
    return n;
  }
}
