package org.l2l.cli;

import org.l2l.config.Check;

import org.l2l.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.l2l.io.Csv;
import org.l2l.io.LossPlot;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Evaluator;
import org.l2l.meta.Seeds;
import org.l2l.meta.Unroll;
import org.l2l.problem.Problem;
import org.l2l.meta.ProblemConfig;
import org.l2l.problem.ProblemType;
import org.l2l.rule.RuleMap;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.Rules;
import org.l2l.rule.UpdateRule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code l2l evaluate}: the learned optimizer against tuned baselines on held-out instances. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run a trained optimizer and the baselines on the same held-out instances.",
        "Baseline learning rates are tuned by grid search (1, 2, 5 per decade, 1e-4 .. 5) on separate instances for "
            + "the best mean final loss, unless given with --learning-rates.",
        "Writes OUT/losses.csv (optimizer,step,mean_loss,median_loss), OUT/losses.png and "
            + "OUT/tuning.csv, and prints the final losses."})
final class EvaluateCommand implements Callable<Integer> {

  @Mixin ProblemMixin problem;

  @Mixin KernelMixin kernel;

  @Option(names = "--optimizer", paramLabel = "PATH",
      description = "Trained optimizer: a run folder (checkpoints/NAME, its best optimizer) or an "
          + ".l2lw file. Without it only the baselines run.")
  Path optimizer;

  @Option(names = "--baselines", paramLabel = "LIST", split = ",",
      defaultValue = "sgd,nag,rmsprop,adam",
      description = "Baselines to compare, from sgd, nag, rmsprop, adam, or none "
          + "(default: ${DEFAULT-VALUE}).")
  List<String> baselines;

  @Option(names = "--learning-rates", paramLabel = "RULE=LR", split = ",",
      description = "Fixed learning rates instead of tuning, e.g. sgd=0.01,adam=0.1.")
  Map<String, Double> learningRates = new LinkedHashMap<>();

  @Option(names = "--num-steps", paramLabel = "N", defaultValue = "100",
      description = "Optimization steps per instance (default: ${DEFAULT-VALUE}).")
  int numSteps;

  @Option(names = "--instances", paramLabel = "N", defaultValue = "100",
      description = "Held-out test instances (default: ${DEFAULT-VALUE}).")
  int instances;

  @Option(names = "--tuning-instances", paramLabel = "N",
      description = "Instances for tuning each baseline's learning rate, drawn apart from the "
          + "test instances (default: as many as --instances).")
  Integer tuningInstances;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "7",
      description = "Seed of the test and tuning instances (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Output folder (default: results/PROBLEM).")
  Path out;

  @Option(names = "--tensorboard-dir", paramLabel = "DIR", defaultValue = "tensorboard",
      description = "Each optimizer's mean and median loss curve goes to "
          + "DIR/eval-OUTNAME/OPTIMIZER as scalars, so TensorBoard overlays them "
          + "(default: ${DEFAULT-VALUE}).")
  Path tensorboardDir;

  @Option(names = "--no-tensorboard", defaultValue = "false",
      description = "Write no TensorBoard events.")
  boolean noTensorboard;

  @Option(names = "--save-instances", defaultValue = "false",
      description = "Also write OUT/instances.csv (every test instance's loss at every step, one "
          + "row per optimizer and instance) and OUT/timing.csv (each optimizer's wall time: "
          + "tuning, and the test run per optimizee step).")
  boolean saveInstances;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "TensorFlow threads; 0 = TensorFlow's choice (default: ${DEFAULT-VALUE}).")
  int threads;

  /** The maximum unroll length used to run the evaluation (a divisor of --num-steps). */
  private static final int EVAL_UNROLL_MAX = 20;

  @Override
  public Integer call() throws IOException {
    ProblemConfig problemConfig = problem.config();
    Check.positive("--num-steps", numSteps);
    Check.positive("--instances", instances);
    int tuning = tuningInstances == null ? instances
        : Check.positive("--tuning-instances", tuningInstances);
    Check.nonNegative("--threads", threads);
    List<String> rules = new ArrayList<>();
    for (String b : baselines) {
      if (b.equals("none")) {
        continue;
      }
      Check.oneOf("--baselines", b, Rules.BASELINES);
      if (!rules.contains(b)) {
        rules.add(b);
      }
    }
    for (Map.Entry<String, Double> e : learningRates.entrySet()) {
      Check.oneOf("--learning-rates", e.getKey(), Rules.BASELINES);
      Check.positive("--learning-rates " + e.getKey() + "=", e.getValue());
    }
    CoordinatewiseLstm.Kernel lstmKernel = kernel.resolve();
    OptimizerFile.Loaded trained = null;
    if (optimizer != null) {
      trained = OptimizerFlag.load("--optimizer", optimizer).loaded();
    }
    if (trained == null && rules.isEmpty()) {
      throw new UserError("nothing to evaluate: give --optimizer or at least one baseline");
    }
    Path dir = out != null ? out : Path.of("results", problemConfig.name());
    Path events = tensorboardDir.resolve("eval-" + dir.toAbsolutePath().normalize()
        .getFileName());
    // Every output place is checked before the evaluation runs, and before anything is written.
    Folders.checkWritable(dir, "--out");
    if (!noTensorboard) {
      Folders.checkWritable(events, "--tensorboard-dir", tensorboardDir);
    }
    Problem p = problemConfig.create(new ProblemType.Context(true,
        line -> System.out.println(problemConfig.name() + ": " + line)));
    if (trained != null) {
      trained.rules().check(org.l2l.rule.RuleMap.groups(p.params()), "problem " + p.name());
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw UserError.flag("--out", dir, "cannot create that folder (" + e.getMessage()
          + ")");
    }
    int unrollLength = Evaluator.unrollLengthFor(numSteps, EVAL_UNROLL_MAX);
    Unroll.Options opts = Unroll.Options.evaluation(unrollLength, threads);
    Map<String, float[][]> results = new LinkedHashMap<>();
    Map<String, Double> chosen = new LinkedHashMap<>();
    List<List<Object>> tuningRows = new ArrayList<>();
    List<List<Object>> timingRows = new ArrayList<>();
    if (trained != null) {
      OptimizerFile.Loaded file = trained;
      List<RuleMap.Binding> bindings = trained.rules().bind(p.params(),
          scope -> file.learned(scope).rule(lstmKernel), "problem " + p.name());
      try (Unroll u = new Unroll(p, bindings, opts)) {
        u.setMetaParamValues(trained);
        System.out.printf(Locale.ROOT, "l2l: %d instances of %d steps%n", instances, numSteps);
        warmUp(u);
        long t0 = System.nanoTime();
        results.put("l2l", Evaluator.run(u, seed, Seeds.Stream.TEST, instances, numSteps, null));
        timingRows.add(timing("l2l", 0, System.nanoTime() - t0));
      }
    }
    for (String name : rules) {
      UpdateRule rule = Rules.baseline(name, learningRates.getOrDefault(name, 1.0));
      try (Unroll u = new Unroll(p, rule, opts)) {
        double lr;
        long t0 = System.nanoTime();
        if (learningRates.containsKey(name)) {
          lr = learningRates.get(name);
          warmUp(u);
        } else {
          lr = tune(u, name, tuning, tuningRows);
        }
        long t1 = System.nanoTime();
        chosen.put(name, lr);
        u.setLearningRate((float) lr);
        results.put(name, Evaluator.run(u, seed, Seeds.Stream.TEST, instances, numSteps, null));
        timingRows.add(timing(name, t1 - t0, System.nanoTime() - t1));
      }
    }
    write(dir, results, tuningRows);
    if (saveInstances) {
      writeInstances(dir, results, timingRows);
    }
    if (!noTensorboard) {
      writeEvents(events, results);
    }
    printTable(results, chosen, dir);
    return 0;
  }

  /** Steps averaged in the printed table's last column. */
  static final int LAST_STEPS = 10;

  private double tune(Unroll u, String name, int count, List<List<Object>> rows) {
    double best = Double.NaN;
    double bestLoss = Double.POSITIVE_INFINITY;
    double[] grid = Rules.learningRateGrid();
    for (double lr : grid) {
      u.setLearningRate((float) lr);
      float[][] losses = Evaluator.run(u, seed, Seeds.Stream.TUNING, count, numSteps, null);
      double loss = Evaluator.mean(losses, numSteps);
      rows.add(List.of(name, (float) lr, (float) loss));
      if (loss < bestLoss) {
        bestLoss = loss;
        best = lr;
      }
    }
    if (Double.isNaN(best)) {
      best = grid[0];
    }
    System.out.printf(Locale.ROOT, "%s: tuned learning rate %s (mean final loss %.4g on %d tuning "
        + "instances)%s%n", name, Csv.format((float) best), bestLoss, count,
        best == grid[0] || best == grid[grid.length - 1] ? " (at the edge of the grid)" : "");
    return best;
  }

  private void write(Path dir, Map<String, float[][]> results, List<List<Object>> tuningRows)
      throws IOException {
    Csv.Builder csv = Csv.builder("optimizer", "step", "mean_loss", "median_loss");
    Map<String, double[]> curves = new LinkedHashMap<>();
    for (Map.Entry<String, float[][]> e : results.entrySet()) {
      double[] curve = new double[numSteps + 1];
      for (int step = 0; step <= numSteps; step++) {
        double mean = Evaluator.mean(e.getValue(), step);
        curve[step] = mean;
        csv.row(e.getKey(), step, (float) mean, (float) Evaluator.median(e.getValue(), step));
      }
      curves.put(e.getKey(), curve);
    }
    csv.write(dir.resolve("losses.csv"));
    Csv.write(dir.resolve("tuning.csv"), List.of("optimizer", "learning_rate", "mean_final_loss"),
        tuningRows);
    LossPlot.writePng(dir.resolve("losses.png"), problem.type().name() + ": mean loss over "
        + instances + " held-out instances", curves, "step", "mean loss (log scale)");
  }

  /**
   * With --save-instances, one untimed unroll first, so that timing.csv leaves out
   * TensorFlow's one-time preparation of the graph (its first run); every instance is reset
   * from its own seed, so the results do not change.
   */
  private void warmUp(Unroll u) {
    if (saveInstances) {
      Evaluator.run(u, seed, Seeds.Stream.TEST, 1, u.unrollLength(), null);
    }
  }

  /** A row of timing.csv: tuning seconds, test seconds and milliseconds per optimizee step. */
  private List<Object> timing(String name, long tuningNanos, long testNanos) {
    return List.of(name, tuningNanos / 1e9, testNanos / 1e9,
        testNanos / 1e6 / ((double) instances * numSteps));
  }

  /** instances.csv (optimizer, instance, loss at step 0..N) and timing.csv. */
  private void writeInstances(Path dir, Map<String, float[][]> results,
      List<List<Object>> timingRows) throws IOException {
    List<String> header = new ArrayList<>(List.of("optimizer", "instance"));
    for (int step = 0; step <= numSteps; step++) {
      header.add("step_" + step);
    }
    Csv.Builder csv = Csv.builder(header);
    for (Map.Entry<String, float[][]> e : results.entrySet()) {
      for (int i = 0; i < e.getValue().length; i++) {
        List<Object> row = new ArrayList<>(List.of(e.getKey(), i));
        for (float loss : e.getValue()[i]) {
          row.add(loss);
        }
        csv.row(row.toArray());
      }
    }
    csv.write(dir.resolve("instances.csv"));
    Csv.write(dir.resolve("timing.csv"), List.of("optimizer", "tuning_seconds", "test_seconds",
        "ms_per_step"), timingRows);
  }

  private void writeEvents(Path root, Map<String, float[][]> results) {
    for (Map.Entry<String, float[][]> e : results.entrySet()) {
      Path run = root.resolve(e.getKey());
      try {
        if (Files.isDirectory(run)) {
          org.l2l.io.AtomicFiles.deleteRecursively(run); // a new evaluation replaces the old
        }
      } catch (IOException ex) {
        throw UserError.flag("--tensorboard-dir", tensorboardDir, "cannot replace " + run
            + " (" + ex.getMessage() + ")");
      }
      try (org.l2l.io.tensorboard.EventWriter w = new org.l2l.io.tensorboard.EventWriter(run)) {
        for (int step = 0; step <= numSteps; step++) {
          w.scalar("loss/mean", step, Evaluator.mean(e.getValue(), step));
          w.scalar("loss/median", step, Evaluator.median(e.getValue(), step));
        }
      }
    }
    System.out.println("TensorBoard: tensorboard --logdir " + root);
  }

  private void printTable(Map<String, float[][]> results, Map<String, Double> chosen, Path dir) {
    // Each step's loss is one minibatch's: the mean over the last steps is the steadier figure.
    int window = Math.min(LAST_STEPS, numSteps);
    int from = numSteps - window + 1;
    System.out.printf(Locale.ROOT, "%n%-10s %14s %14s %14s %16s%n", "optimizer", "learning rate",
        "mean@" + numSteps, "median@" + numSteps, "mean@" + from + "-" + numSteps);
    for (Map.Entry<String, float[][]> e : results.entrySet()) {
      Double lr = chosen.get(e.getKey());
      double sum = 0;
      for (int step = from; step <= numSteps; step++) {
        sum += Evaluator.mean(e.getValue(), step);
      }
      System.out.printf(Locale.ROOT, "%-10s %14s %14.6g %14.6g %16.6g%n", e.getKey(),
          lr == null ? "-" : Csv.format(lr.floatValue()),
          Evaluator.mean(e.getValue(), numSteps), Evaluator.median(e.getValue(), numSteps),
          sum / window);
    }
    System.out.println("\nwrote " + dir.resolve("losses.csv") + ", " + dir.resolve("losses.png")
        + ", " + dir.resolve("tuning.csv"));
  }
}
