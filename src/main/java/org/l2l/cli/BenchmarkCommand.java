package org.l2l.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.l2l.meta.Seeds;
import org.l2l.meta.Unroll;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemOptions;
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
  @Mixin LstmMixin lstm;

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

  @Override
  public Integer call() throws IOException {
    ProblemOptions problemOptions = problem.options();
    CoordinatewiseLstm rule = new CoordinatewiseLstm(lstm.config(problemOptions.name()));
    Check.positive("--unroll-length", unrollLength);
    Check.positive("--meta-steps", metaSteps);
    Check.nonNegative("--warmup", warmup);
    Check.nonNegative("--threads", threads);
    Problem p = problemOptions.create();
    long t0 = System.nanoTime();
    try (Unroll u = new Unroll(p, rule, new Unroll.Options(unrollLength, false, false, 0.001, 0,
        1, threads))) {
      double buildMs = (System.nanoTime() - t0) / 1e6;
      Instance instance = p.sample(Seeds.random(1, Seeds.Stream.TRAIN, 0));
      u.reset(instance);
      double[] ms = new double[metaSteps];
      for (int i = -warmup; i < metaSteps; i++) {
        long s = System.nanoTime();
        u.train(instance, 0);
        if (i >= 0) {
          ms[i] = (System.nanoTime() - s) / 1e6;
        }
      }
      Arrays.sort(ms);
      System.out.printf(Locale.ROOT, "problem %s, %d coordinates, unroll %d, threads %s%n",
          p.name(), p.numCoordinates(), unrollLength, threads == 0 ? "default" : threads);
      System.out.printf(Locale.ROOT, "graph build %.0f ms; %d ops%n", buildMs,
          countOps(u));
      System.out.printf(Locale.ROOT, "meta-step: median %.2f ms, p10 %.2f ms, p90 %.2f ms "
          + "over %d%n", ms[metaSteps / 2], ms[metaSteps / 10], ms[metaSteps * 9 / 10],
          metaSteps);
      System.out.printf(Locale.ROOT, "peak memory (VmHWM): %s%n", peakMemory());
    }
    return 0;
  }

  private static long countOps(Unroll u) {
    long n = 0;
    for (var it = u.graph().operations(); it.hasNext(); it.next()) {
      n++;
    }
    return n;
  }

  private static String peakMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return line.substring(6).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: no figure
    }
    return "unknown";
  }
}
