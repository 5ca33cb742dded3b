package org.l2l.repro;


import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import org.l2l.io.AtomicFiles;
import org.l2l.io.Csv;
import org.l2l.io.LossPlot;
import org.l2l.io.OptimizerFile;

/**
 * Writes {@code OUT/README.md}, {@code OUT/results.csv} and the figures from the finished steps.
 * Everything but the sections between {@link #TIMING} markers (wall-clock measurements) is a
 * function of the seeds: the same seeds give the same text.
 */
public final class Report {

  /** Opens a section of wall-clock measurements (they differ between runs). */
  public static final String TIMING = "<!-- timing -->";
  /** Closes it. */
  public static final String TIMING_END = "<!-- /timing -->";

  /** MNIST meta-training time of the shipped paper-settings optimizer (docs/experiments.md). */
  static final double PRETRAINED_MNIST_PAPER_SECONDS = 44 * 60 + 29;

  private final Path out;
  private final Plan plan;
  private final List<Plan.Experiment> chosen;
  private final Runner runner;
  private final StringBuilder md = new StringBuilder();
  private final Csv.Builder results = Csv.builder("comparison", "optimizer", "step", "mean",
      "median", "ci_low", "ci_high", "n");

  Report(Path out, Plan plan, List<Plan.Experiment> chosen, Runner runner) {
    this.out = out;
    this.plan = plan;
    this.chosen = chosen;
    this.runner = runner;
  }

  /** The pooled losses of one comparison: per optimizer, one row per instance (over seeds). */
  record Pooled(Map<String, List<double[]>> rows, Map<String, Map<Long, List<double[]>>> bySeed) {
    double[] at(String optimizer, int step) {
      List<double[]> r = rows.get(optimizer);
      double[] x = new double[r.size()];
      for (int i = 0; i < x.length; i++) {
        x[i] = r.get(i)[step];
      }
      return x;
    }
  }

  Pooled load(Plan.Comparison c) {
    Map<String, List<double[]>> rows = new LinkedHashMap<>();
    Map<String, Map<Long, List<double[]>>> bySeed = new LinkedHashMap<>();
    for (Plan.Source s : c.sources()) {
      long seed = Long.parseLong(s.step().substring(s.step().lastIndexOf("-s") + 2));
      Csv.Table t = Csv.read(runner.done(s.step()).resolve("instances.csv"));
      for (List<String> row : t.rows()) {
        String name = row.get(0);
        if (name.equals("l2l")) {
          if (s.l2lName() == null) {
            continue;
          }
          name = s.l2lName();
        } else if (!s.baselines()) {
          continue;
        }
        double[] losses = new double[row.size() - 2];
        for (int i = 0; i < losses.length; i++) {
          losses[i] = Double.parseDouble(row.get(i + 2));
        }
        rows.computeIfAbsent(name, k -> new ArrayList<>()).add(losses);
        bySeed.computeIfAbsent(name, k -> new LinkedHashMap<>())
            .computeIfAbsent(seed, k -> new ArrayList<>()).add(losses);
      }
    }
    return new Pooled(rows, bySeed);
  }

  private static String f(double x) {
    if (!Double.isFinite(x)) {
      return String.valueOf(x);
    }
    return String.format(Locale.ROOT, Math.abs(x) >= 1e-3 || x == 0 ? "%.4f" : "%.3g", x);
  }

  private static String ci(Stats.Interval i) {
    return Double.isNaN(i.low()) ? "n/a" : "[" + f(i.low()) + ", " + f(i.high()) + "]";
  }

  /** What one comparison shows at its horizon: the verdict line and the opening-table cell. */
  record Verdict(String agree, String ours) {}

  Verdict verdict(Plan.Comparison c, Pooled p) {
    int n = c.steps();
    List<String> names = new ArrayList<>(p.rows().keySet());
    names.sort((a, b) -> Double.compare(Stats.mean(p.at(a, n)), Stats.mean(p.at(b, n))));
    String lowest = names.get(0);
    String subject = c.subject();
    if (!p.rows().containsKey(subject)) {
      return new Verdict("n/a", "no results for " + subject);
    }
    Stats.Interval s = Stats.tInterval(p.at(subject, n));
    String ours = subject + " " + f(s.mean()) + " " + ci(s) + " (rank " + (names.indexOf(subject)
        + 1) + " of " + names.size() + "; lowest: " + lowest + " " + f(Stats.mean(p.at(lowest, n)))
        + ")";
    switch (c.claim()) {
      case "lowest" -> {
        if (subject.equals(lowest)) {
          String next = names.get(1);
          Stats.Interval d = Stats.pairedDifference(p.at(subject, n), p.at(next, n));
          if (Double.isNaN(d.low()) && Double.isFinite(s.mean())
              && !Double.isFinite(Stats.mean(p.at(next, n)))) {
            return new Verdict("yes", ours + "; " + next + " diverged on some instances");
          }
          return new Verdict(d.below0() ? "yes" : "tied", ours + "; minus " + next + ": "
              + f(d.mean()) + " " + ci(d));
        }
        Stats.Interval d = Stats.pairedDifference(p.at(subject, n), p.at(lowest, n));
        return new Verdict(d.above0() ? "no" : "tied", ours + "; minus " + lowest + ": "
            + f(d.mean()) + " " + ci(d));
      }
      case "last" -> {
        String last = names.get(names.size() - 1);
        return new Verdict(subject.equals(last) ? "yes" : "no", ours + "; highest: " + last);
      }
      case "not-below-rmsprop" -> {
        if (!p.rows().containsKey("rmsprop")) {
          return new Verdict("n/a", ours);
        }
        Stats.Interval d = Stats.pairedDifference(p.at(subject, n), p.at("rmsprop", n));
        return new Verdict(d.above0() ? "yes" : d.below0() ? "no" : "tied", ours
            + "; minus rmsprop: " + f(d.mean()) + " " + ci(d));
      }
      default -> {
        return new Verdict("-", ours);
      }
    }
  }

  /** Writes everything; returns the README's path. */
  Path write(List<String> commandLine) throws IOException {
    Path figures = out.resolve("figures");
    Files.createDirectories(figures);
    Map<Plan.Comparison, Pooled> loaded = new LinkedHashMap<>();
    for (Plan.Experiment e : chosen) {
      for (Plan.Comparison c : e.comparisons()) {
        loaded.put(c, load(c));
      }
    }
    md.append("# Reproducing \"Learning to learn by gradient descent by gradient descent\"\n\n");
    md.append("Written by `./l2l ").append(String.join(" ", commandLine)).append("` (scale `")
        .append(plan.scale().name()).append("`; test seeds ").append(plan.scale().seeds())
        .append(", the first also tunes the baselines' learning rates; meta-training seed 1). ")
        .append("OUT below is the `--out` folder. Every interval is a ")
        .append((int) (Stats.LEVEL * 100)).append("% Student-t confidence interval of a mean ")
        .append("over the test instances of all seeds; a difference between two optimizers is ")
        .append("paired by instance (all optimizers run on the same instances). Sections between ")
        .append("timing markers hold wall-clock measurements, which vary between runs; ")
        .append("everything else is the same for the same seeds on the same machine.\n\n");
    md.append("## Beside the paper\n\n");
    md.append("| experiment | the paper | this run, at the last step: mean [CI] | agrees? |\n");
    md.append("|---|---|---|---|\n");
    for (Map.Entry<Plan.Comparison, Pooled> e : loaded.entrySet()) {
      Plan.Comparison c = e.getKey();
      if (c.claim().equals("info")) {
        continue;
      }
      Verdict v = verdict(c, e.getValue());
      md.append("| ").append(c.title()).append(" | ").append(c.paper()).append(" | ")
          .append(v.ours()).append(" | ").append(v.agree()).append(" |\n");
    }
    md.append("\n\"tied\": the confidence interval of the difference includes 0.\n\n");
    for (Plan.Experiment e : chosen) {
      md.append("## ").append(e.title()).append("\n\n");
      for (Plan.Comparison c : e.comparisons()) {
        comparisonSection(c, loaded.get(c), figures);
      }
      switch (e.name()) {
        case "break-even" -> breakEven(loaded, figures);
        case "forget-bias" -> forgetGates(figures);
        case "meta-optimizer" -> md.append("Each meta-optimizer was tried with the learning rates ")
            .append(plan.scale().metaRates()).append(" for ").append(plan.scale().studyEpochs())
            .append(" epochs on the quadratics").append(plan.scale().studyMnistEpochs() > 0
                ? " and " + plan.scale().studyMnistEpochs() + " epochs on MNIST" : " (MNIST: "
                + "only at `--scale paper`)").append("; the run with the lowest best validation "
                + "loss of each was evaluated. Meta-SGD and meta-NAG ran with the meta-gradient "
                + "clipped to norm " + Plan.META_CLIP_NORM + " (`--clip-norm`): unclipped, their "
                + "steps scale with a meta-gradient whose norm reached 1e11 in the first epochs "
                + "on the quadratics, and they diverged at every rate tried (1e-5 and 1e-4); "
                + "meta-Adam and meta-RMSprop normalise their steps and ran unclipped. Runs that "
                + "diverged: ")
            .append(diverged("meta-")).append(".\n\n");
        default -> { }
      }
    }
    md.append("## Commands\n\nEach step ran the command's own code in-process, writing into "
        + "OUT/partial/ID and renamed to OUT/steps/ID when finished.\n\n```\n");
    for (Plan.Step s : Plan.stepsOf(chosen)) {
      JsonObject o = Runner.readJson(runner.done(s.id()).resolve(Runner.STEP_JSON));
      List<String> cmd = new ArrayList<>();
      for (var x : o.getAsJsonArray("command")) {
        cmd.add(x.getAsString());
      }
      md.append("./l2l ").append(relative(String.join(" ", cmd))).append("\n");
    }
    md.append("```\n");
    results.write(out.resolve("results.csv"));
    Path readme = out.resolve("README.md");
    AtomicFiles.writeString(readme, md.toString());
    return readme;
  }

  private String relative(String s) {
    return s.replace(out.toString(), "OUT");
  }

  private String diverged(String prefix) {
    List<String> ids = new ArrayList<>();
    for (Plan.Step s : Plan.stepsOf(chosen)) {
      if (s.id().startsWith(prefix) && s.kind() == Plan.Kind.TRAIN) {
        JsonObject o = Runner.readJson(runner.done(s.id()).resolve(Runner.STEP_JSON));
        if (o.get("status").getAsString().equals("diverged")) {
          ids.add(s.id());
        }
      }
    }
    return ids.isEmpty() ? "none" : String.join(", ", ids);
  }

  private void comparisonSection(Plan.Comparison c, Pooled p, Path figures) throws IOException {
    int n = c.steps();
    Map<String, double[]> curves = new LinkedHashMap<>();
    Map<String, double[]> low = new LinkedHashMap<>();
    Map<String, double[]> high = new LinkedHashMap<>();
    for (String name : p.rows().keySet()) {
      double[] m = new double[n + 1];
      double[] lo = new double[n + 1];
      double[] hi = new double[n + 1];
      for (int t = 0; t <= n; t++) {
        double[] x = p.at(name, t);
        m[t] = Stats.mean(x);
        lo[t] = Stats.quantile(x, 0.25);
        hi[t] = Stats.quantile(x, 0.75);
      }
      curves.put(name, m);
      low.put(name, lo);
      high.put(name, hi);
    }
    int count = p.rows().values().iterator().next().size();
    LossPlot.writePngWithBands(figures.resolve(c.id() + ".png"), c.title(), curves, low, high,
        "step", "mean loss over " + count + " instances (log); band: quartiles");
    md.append("### ").append(c.title()).append("\n\n");
    md.append("![").append(c.title()).append("](figures/").append(c.id()).append(".png)\n\n");
    TreeSet<Integer> steps = new TreeSet<>();
    for (int t : new int[] {n / 10, n / 5, n / 2, n, plan.scale().horizon()}) {
      if (t >= 1 && t <= n) {
        steps.add(t);
      }
    }
    md.append("Mean (median) loss over ").append(count).append(" instances (")
        .append(plan.scale().seeds().size()).append(" seeds); last column: the ")
        .append((int) (Stats.LEVEL * 100)).append("% interval of the mean at step ").append(n)
        .append(".\n\n| optimizer |");
    steps.forEach(t -> md.append(" step ").append(t).append(" |"));
    md.append(" CI at step ").append(n).append(" | per-seed means at step ").append(n)
        .append(" |\n|---|");
    steps.forEach(t -> md.append("---|"));
    md.append("---|---|\n");
    for (String name : p.rows().keySet()) {
      md.append("| ").append(name).append(" |");
      for (int t : steps) {
        double[] x = p.at(name, t);
        md.append(" ").append(f(Stats.mean(x))).append(" (").append(f(Stats.median(x)))
            .append(") |");
      }
      for (int t = 0; t <= n; t++) {
        double[] x = p.at(name, t);
        Stats.Interval i = Stats.tInterval(x);
        results.row(c.id(), name, t, i.mean(), Stats.median(x), i.low(), i.high(), i.n());
      }
      md.append(" ").append(ci(Stats.tInterval(p.at(name, n)))).append(" |");
      List<String> seedMeans = new ArrayList<>();
      p.bySeed().get(name).forEach((seed, rows) -> {
        double s = 0;
        for (double[] r : rows) {
          s += r[n];
        }
        seedMeans.add(seed + ": " + f(s / rows.size()));
      });
      md.append(" ").append(String.join(", ", seedMeans)).append(" |\n");
    }
    Verdict v = verdict(c, p);
    md.append("\nAt step ").append(n).append(": ").append(v.ours()).append(". The paper: ")
        .append(c.paper()).append(c.claim().equals("info") ? "." : "; agrees: " + v.agree() + ".")
        .append("\n\n");
  }

  /** The break-even section for the quadratic and MNIST comparisons. */
  private void breakEven(Map<Plan.Comparison, Pooled> loaded, Path figures) throws IOException {
    md.append(TIMING).append("\n\n");
    md.append("Cost of N trainings of H steps, to reach tuned Adam's mean loss at step H: "
        + "meta-train once, then run the LSTM for S steps each (the first step at which its mean "
        + "loss is at most Adam's at H), against tuning Adam's learning rate (the grid of 15 "
        + "rates on the tuning instances, measured), then running Adam for H steps each. "
        + "Per-step times are measured in the evaluation of the first seed (same graph "
        + "machinery for every optimizer). Break-even N = ceil((meta-train - tuning) / "
        + "(H t_adam - S t_lstm)).\n\n");
    md.append("| experiment | meta-train (s) | Adam tuning (s) | ms/step LSTM | ms/step Adam "
        + "| ms/step others | S / H | break-even trainings |\n|---|---|---|---|---|---|---|---|\n");
    StringBuilder images = new StringBuilder();
    for (String id : List.of("quadratic", "mnist")) {
      Plan.Comparison c = null;
      for (Plan.Comparison k : loaded.keySet()) {
        if (k.id().equals(id)) {
          c = k;
        }
      }
      if (c == null) {
        c = comparisonOf(id);
        if (c == null) {
          continue;
        }
        loaded.put(c, load(c));
      }
      Pooled p = loaded.get(c);
      int h = c.steps();
      String first = c.sources().get(0).step();
      Csv.Table timing = Csv.read(runner.done(first).resolve("timing.csv"));
      Map<String, double[]> t = new LinkedHashMap<>();
      for (List<String> row : timing.rows()) {
        t.put(row.get(0), new double[] {Double.parseDouble(row.get(1)),
            Double.parseDouble(row.get(3))});
      }
      double meta;
      String metaNote;
      String trainId = id + "-train";
      if (Files.isDirectory(runner.done(trainId))) {
        meta = Runner.readJson(runner.done(trainId).resolve(Runner.STEP_JSON)).get("seconds")
            .getAsDouble();
        metaNote = "measured";
      } else {
        meta = PRETRAINED_MNIST_PAPER_SECONDS;
        metaNote = "shipped optimizer: its recorded training time, docs/experiments.md";
      }
      double tune = t.get("adam")[0];
      double lstm = t.get("l2l")[1];
      double adam = t.get("adam")[1];
      double target = Stats.mean(p.at("adam", h));
      int s = -1;
      for (int k = 0; k <= h; k++) {
        if (Stats.mean(p.at("l2l", k)) <= target) {
          s = k;
          break;
        }
      }
      String others = String.format(Locale.ROOT, "sgd %.3f, nag %.3f, rmsprop %.3f",
          t.get("sgd")[1], t.get("nag")[1], t.get("rmsprop")[1]);
      String be;
      long breakEven = -1;
      if (s < 0) {
        be = "never: the LSTM does not reach Adam's loss within " + h + " steps";
      } else {
        double saved = (h * adam - s * lstm) / 1000;
        if (meta <= tune) {
          breakEven = 1;
        } else if (saved > 0) {
          breakEven = (long) Math.ceil((meta - tune) / saved);
        }
        be = breakEven < 0 ? "never: an LSTM training costs more than an Adam training"
            : String.valueOf(breakEven);
      }
      md.append(String.format(Locale.ROOT, "| %s | %.1f (%s) | %.1f | %.3f | %.3f | %s | %s | "
          + "%s |%n", id, meta, metaNote, tune, lstm, adam, others, s < 0 ? "- / " + h
          : s + " / " + h, be));
      int max = (int) Math.min(200, Math.max(10, breakEven > 0 ? 2 * breakEven : 10));
      double[] lstmCum = new double[max + 1];
      double[] adamCum = new double[max + 1];
      for (int k = 0; k <= max; k++) {
        lstmCum[k] = meta + k * (s < 0 ? h : s) * lstm / 1000;
        adamCum[k] = tune + k * h * adam / 1000;
      }
      Map<String, double[]> curves = new LinkedHashMap<>();
      curves.put("meta-train once, then the LSTM", lstmCum);
      curves.put("tune Adam, then Adam", adamCum);
      LossPlot.writePng(figures.resolve("break-even-" + id + ".png"), "Cumulative time, " + id,
          curves, "trainings", "seconds (log)");
      images.append("\n![break-even ").append(id).append("](figures/break-even-").append(id)
          .append(".png)\n");
    }
    md.append(images).append("\n").append(TIMING_END).append("\n\n");
  }

  private Plan.Comparison comparisonOf(String id) {
    for (Plan.Experiment e : plan.experiments()) {
      for (Plan.Comparison c : e.comparisons()) {
        if (c.id().equals(id) && c.sources().stream().allMatch(s ->
            Files.isDirectory(runner.done(s.step())))) {
          return c;
        }
      }
    }
    return null;
  }

  /** The trained forget gates: mean sigmoid(b_f + forget bias) per layer, and a figure. */
  private void forgetGates(Path figures) throws IOException {
    long seed = plan.scale().seeds().get(0);
    int instances = plan.scale().quadInstances();
    int steps = plan.scale().horizon();
    md.append("The forget gates of the trained optimizers. At rest (zero input and state): the "
        + "mean over units of sigmoid(b_f + forget bias), per layer, b_f the trained bias of "
        + "the forget gate (0 at the start, so the start is sigmoid(forget bias)). In use: the "
        + "mean of the forget gate's activation over units, coordinates, steps and instances "
        + "while the optimizer runs the test instances of seed " + seed + " (" + instances
        + " instances, " + steps + " steps; the LSTM run forward in plain Java from its "
        + "weights, which follows the graph's losses to 1e-5: ForgetGatesTest; quadratics "
        + "only). The weights' histograms over training are in OUT/tensorboard/ID "
        + "(`tensorboard --logdir OUT/tensorboard`).\n\n| run | forget bias | at the start "
        + "| at rest, layer 0 | at rest, layer 1 | in use, layer 0 | in use, layer 1 |\n"
        + "|---|---|---|---|---|---|---|\n");
    Map<String, double[]> curves = new LinkedHashMap<>();
    for (Plan.Step s : Plan.stepsOf(chosen)) {
      if (!s.id().startsWith("forget-") || s.kind() != Plan.Kind.TRAIN) {
        continue;
      }
      Path file = runner.done(s.id()).resolve("best").resolve(OptimizerFile.FILE_NAME);
      if (!Files.isRegularFile(file)) {
        file = runner.done(s.id()).resolve("latest").resolve(OptimizerFile.FILE_NAME);
      }
      OptimizerFile.TrainedRule rule = OptimizerFile.read(file).single();
      JsonObject config = rule.config();
      int h = config.get("hidden_size").getAsInt();
      int layers = config.get("layers").getAsInt();
      double fb = config.get("forget_bias").getAsDouble();
      List<Double> all = new ArrayList<>();
      md.append("| ").append(s.id()).append(" | ").append(fb).append(" | ")
          .append(f(sigmoid(fb))).append(" |");
      for (int l = 0; l < Math.min(2, layers); l++) {
        float[] bias = rule.values().get(2 * l + 1);
        double sum = 0;
        for (int j = h; j < 2 * h; j++) {
          double a = sigmoid(bias[j] + fb);
          sum += a;
          all.add(a);
        }
        md.append(" ").append(f(sum / h)).append(" |");
      }
      org.l2l.problem.Problem problem = org.l2l.meta.RunConfig.read(runner.done(s.id())
          .resolve("config.json")).problem().create();
      if (ForgetGates.applies(rule, problem)) {
        double[] inUse = ForgetGates.run(rule, problem, seed, instances, steps).meanPerLayer();
        for (int l = 0; l < Math.min(2, layers); l++) {
          md.append(" ").append(f(inUse[l])).append(" |");
        }
      } else {
        md.append(" n/a | n/a |");
      }
      md.append("\n");
      double[] sorted = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      curves.put("forget bias " + fb, sorted);
    }
    if (!curves.isEmpty()) {
      LossPlot.writePng(figures.resolve("forget-gates.png"), "Trained forget gates at rest, "
          + "units of both layers sorted", curves, "unit (sorted)", "sigmoid(b_f + bias) (log)");
      md.append("\n![forget gates](figures/forget-gates.png)\n\n");
    }
  }

  private static double sigmoid(double x) {
    return 1 / (1 + Math.exp(-x));
  }

}
