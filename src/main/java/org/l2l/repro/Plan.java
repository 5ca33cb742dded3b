package org.l2l.repro;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.l2l.UserError;

/**
 * What {@code reproduce} runs at a scale: the experiments, each a list of steps (meta-train,
 * evaluate with tuning, evaluate with the tuned rates on further seeds) and the comparisons its
 * report section is made of. Steps are shared between experiments by id.
 *
 * <p>Arguments may hold references resolved when the step runs: {@code @step:ID} (the folder of
 * finished step ID), {@code @best:ID+ID...} (of those train steps, the one with the lowest best
 * validation loss) and {@code @lr:ID} (the baselines' learning rates tuned by evaluate step ID).
 */
public final class Plan {

  /** What a step runs. */
  public enum Kind { TRAIN, EVALUATE }

  /**
   * One step: a {@code train} or {@code evaluate} command without its output flags.
   *
   * @param estimate the estimated seconds on 2 cores (for the ETA)
   */
  public record Step(String id, Kind kind, List<String> args, double estimate) {}

  /**
   * Where the rows of a comparison come from: the optimizers of an evaluate step, "l2l" renamed
   * to {@code l2lName}; baselines only if {@code baselines}.
   */
  public record Source(String step, String l2lName, boolean baselines) {}

  /**
   * Optimizers compared on the same instances (pooled over the test seeds).
   *
   * @param id file-name stem of its figure
   * @param subject the learned optimizer the paper's claim is about
   * @param steps the horizon
   * @param claim the paper's claim: "lowest" (the subject lowest) or "last" (every baseline
   *     beats it)
   * @param paper the paper's numbers or words
   */
  public record Comparison(String id, String title, String subject, int steps, String claim,
      String paper, List<Source> sources) {}

  /** An experiment: its steps (with those it depends on) and comparisons. */
  public record Experiment(String name, String title, List<Step> steps,
      List<Comparison> comparisons) {}

  /** The experiment names in report order. */
  public static final List<String> NAMES = List.of("quadratic", "mnist", "generalisation", "conv",
      "break-even", "meta-optimizer", "forget-bias", "horizon");

  /**
   * Estimated cost of an evaluation on 2 cores (measured at the tiny scale and by
   * {@code ./l2l bench}): milliseconds per optimizee step of the learned optimizer and of a
   * baseline; seconds to start the command (data) and per optimizer (its graph, first runs).
   */
  record Cost(double l2lMs, double baselineMs, double startSeconds, double perOptimizer) {}

  private static final Cost QUAD_MS = new Cost(0.25, 0.1, 0.5, 1.0);
  private static final Cost MNIST_MS = new Cost(4.5, 1.3, 2, 1.3);
  private static final Cost MNIST_VARIANT_MS = new Cost(6, 2, 2, 1.5);
  private static final Cost CONV_MS = new Cost(36, 36, 2, 5);
  /** Estimated seconds per meta-training epoch of 100 steps. */
  private static final double QUAD_EPOCH_S = 0.015;
  private static final double MNIST_EPOCH_S = 2.5;
  private static final double CONV_EPOCH_S = 18;
  /** Seconds to start a meta-training: JVM, graphs, data. */
  private static final double START_S = 5;
  private static final double MNIST_START_S = 15;
  /** Grid points of evaluate's learning-rate tuning. */
  private static final int GRID = 15;

  private final Scale scale;
  private final Map<String, Step> steps = new LinkedHashMap<>();
  private final List<Experiment> experiments = new ArrayList<>();

  /** The plan of every experiment at {@code scale}. */
  public Plan(Scale scale) {
    this.scale = scale;
    build();
  }

  public Scale scale() {
    return scale;
  }

  public List<Experiment> experiments() {
    return experiments;
  }

  /** The experiments named in {@code only} (null or empty: all), in report order. */
  public List<Experiment> select(List<String> only) {
    if (only == null || only.isEmpty()) {
      return experiments;
    }
    for (String n : only) {
      if (!NAMES.contains(n)) {
        throw UserError.flag("--only", n, "no such experiment; allowed: "
            + String.join(", ", NAMES));
      }
    }
    return experiments.stream().filter(e -> only.contains(e.name())).toList();
  }

  /** The steps of {@code chosen}, each once, in order. */
  public static List<Step> stepsOf(List<Experiment> chosen) {
    Map<String, Step> out = new LinkedHashMap<>();
    for (Experiment e : chosen) {
      e.steps().forEach(s -> out.putIfAbsent(s.id(), s));
    }
    return List.copyOf(out.values());
  }

  private Step step(String id, Kind kind, double estimate, String... args) {
    return steps.computeIfAbsent(id, k -> new Step(id, kind, List.of(args), estimate));
  }

  /** The meta-gradient clipping of the meta-optimizer study's meta-SGD and meta-NAG runs. */
  static final double META_CLIP_NORM = 1;

  /** a then b, as an array of train flags. */
  private static String[] flags(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all.toArray(String[]::new);
  }

  private static String num(double x) {
    String s = String.format(Locale.ROOT, "%s", x);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }

  /** Extra train flags at the tiny scale (short horizons and unrolls). */
  private List<String> tinyTrain() {
    return scale.name().equals("tiny") ? List.of("--num-steps", "" + scale.horizon(),
        "--unroll-length", "5", "--eval-instances", "2", "--checkpoint-every", "1") : List.of();
  }

  private Step train(String id, double epochSeconds, int epochs, double startSeconds,
      String... args) {
    List<String> a = new ArrayList<>(List.of(args));
    a.addAll(List.of("--epochs", "" + epochs, "--seed", "1"));
    a.addAll(tinyTrain());
    return step(id, Kind.TRAIN, startSeconds + epochs * epochSeconds * scale.horizon() / 100.0,
        a.toArray(String[]::new));
  }

  /**
   * Evaluate steps over every test seed: the first tunes the baselines on {@code tuning}
   * instances (unless {@code fixedRates}), the others reuse its rates. With {@code baselines}
   * false only the optimizer runs.
   */
  private List<Step> evals(String id, List<String> problem, String optimizer, int numSteps,
      int instances, int tuning, boolean baselines, String fixedRates, Cost cost) {
    List<Step> out = new ArrayList<>();
    String first = id + "-s" + scale.seeds().get(0);
    for (long seed : scale.seeds()) {
      List<String> a = new ArrayList<>(problem);
      if (optimizer != null) {
        a.addAll(List.of("--optimizer", optimizer));
      }
      a.addAll(List.of("--num-steps", "" + numSteps, "--instances", "" + instances, "--seed",
          "" + seed));
      boolean tunes = false;
      if (!baselines) {
        a.addAll(List.of("--baselines", "none"));
      } else if (fixedRates != null) {
        a.addAll(List.of("--learning-rates", fixedRates));
      } else if (out.isEmpty()) {
        a.addAll(List.of("--tuning-instances", "" + tuning));
        tunes = true;
      } else {
        a.addAll(List.of("--learning-rates", "@lr:" + first));
      }
      // Test instances, one untimed unroll of warm-up each, and the tuning grid.
      double l2lSteps = optimizer != null ? instances * numSteps + 20 : 0;
      double baselineSteps = (baselines ? 4.0 * (instances * numSteps + 20) : 0)
          + (tunes ? 4.0 * GRID * tuning * numSteps : 0);
      int optimizers = (optimizer != null ? 1 : 0) + (baselines ? 4 : 0);
      out.add(step(id + "-s" + seed, Kind.EVALUATE, cost.startSeconds()
          + optimizers * cost.perOptimizer() + (l2lSteps * cost.l2lMs() + baselineSteps * cost.baselineMs()) / 1000,
          a.toArray(String[]::new)));
    }
    return out;
  }

  private List<Source> sources(List<Step> evals, String l2lName, boolean baselines) {
    return evals.stream().map(s -> new Source(s.id(), l2lName, baselines)).toList();
  }

  private static List<Source> concat(List<Source> a, List<Source> b) {
    List<Source> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private void build() {
    int h = scale.horizon();
    List<String> quad = List.of("--problem", "quadratic");
    List<String> mnist = List.of("--problem", "mnist");
    List<String> conv = List.of("--problem", "conv", "--dataset", "fashion-mnist");

    // Quadratics, Fig. 4 left.
    Step q = train("quadratic-train", QUAD_EPOCH_S, scale.quadEpochs(), START_S,
        "--problem", "quadratic");
    List<Step> qEvals = evals("quadratic-eval", quad, "@step:" + q.id(), h,
        scale.quadInstances(), scale.quadTuning(), true, null, QUAD_MS);
    List<Step> qSteps = new ArrayList<>(List.of(q));
    qSteps.addAll(qEvals);
    Comparison qc = new Comparison("quadratic", "Quadratics (Fig. 4, left): 10-dim, " + h
        + " steps", "l2l", h, "lowest", "LSTM lowest at step 100: about 0.04-0.05; ADAM and "
        + "RMSprop 0.05-0.07, NAG about 0.08, SGD about 0.2 (read off the plot)",
        sources(qEvals, "l2l", true));
    experiments.add(new Experiment("quadratic", "Quadratic functions (Fig. 4, left)", qSteps,
        List.of(qc)));

    // MNIST, Fig. 4: the paper's settings (trained or shipped) beside the shipped fine-tuned one.
    String paperOpt;
    List<Step> mSteps = new ArrayList<>();
    if (scale.mnistEpochs() > 0) {
      Step m = train("mnist-train", MNIST_EPOCH_S, scale.mnistEpochs(), MNIST_START_S,
          "--problem", "mnist", "--eval-every", "50", "--eval-instances", "20");
      mSteps.add(m);
      paperOpt = "@step:" + m.id();
    } else {
      paperOpt = "checkpoints/pretrained/mnist-paper";
    }
    String fineTuned = "checkpoints/pretrained/mnist";
    List<Step> mEvals = evals("mnist-eval", mnist, paperOpt, h, scale.mnistInstances(),
        scale.mnistTuning(), true, null, MNIST_MS);
    List<Step> mftEvals = evals("mnist-finetuned-eval", mnist, fineTuned, h,
        scale.mnistInstances(), 0, false, null, MNIST_MS);
    mSteps.addAll(mEvals);
    if (scale.mnistFineTuned()) {
      mSteps.addAll(mftEvals);
    }
    Comparison mc = new Comparison("mnist", "MNIST (Fig. 4): 20 sigmoid units, " + h
        + " steps", "l2l", h, "lowest", "LSTM falls fastest and ends below ADAM, RMSprop and "
        + "NAG; SGD worst", concat(sources(mEvals, "l2l", true), scale.mnistFineTuned()
            ? sources(mftEvals, "l2l fine-tuned (200 steps; log loss)", false) : List.of()));
    experiments.add(new Experiment("mnist", "MNIST (Fig. 4)", mSteps, List.of(mc)));

    // Generalisation, Fig. 5.
    List<Step> gSteps = new ArrayList<>(mSteps.subList(0, scale.mnistEpochs() > 0 ? 1 : 0));
    List<Comparison> gc = new ArrayList<>();
    String[][] variants = {{"units40", "--hidden-units", "40", "40 hidden units", "lowest",
        "LSTM wins"}, {"layers2", "--hidden-layers", "2", "2 hidden layers", "lowest",
        "LSTM wins by a wide margin"}, {"relu", "--activation", "relu", "ReLU activations",
        "last", "LSTM fails: every baseline beats it"}};
    for (String[] v : variants) {
      List<String> problem = new ArrayList<>(mnist);
      problem.addAll(List.of(v[1], v[2]));
      List<Step> e = evals("generalisation-" + v[0] + "-eval", problem, paperOpt, h,
          scale.mnistInstances(), scale.mnistTuning(), true, null, MNIST_VARIANT_MS);
      gSteps.addAll(e);
      gc.add(new Comparison("generalisation-" + v[0], "MNIST, " + v[3] + " (Fig. 5), " + h
          + " steps", "l2l", h, v[4], v[5], sources(e, "l2l", true)));
    }
    experiments.add(new Experiment("generalisation", "Generalisation to other networks (Fig. 5)",
        gSteps, gc));

    // Convolutional network, Fig. 6, on Fashion-MNIST.
    List<Step> cSteps = new ArrayList<>();
    String convOpt;
    if (scale.convEpochs() > 0) {
      Step c = train("conv-train", CONV_EPOCH_S, scale.convEpochs(), MNIST_START_S, "--problem",
          "conv", "--dataset", "fashion-mnist", "--eval-every", "25", "--eval-instances", "5",
          "--checkpoint-every", "25");
      cSteps.add(c);
      convOpt = "@step:" + c.id();
    } else {
      convOpt = "checkpoints/pretrained/conv-fashion-mnist";
    }
    List<Step> cEvals = evals("conv-eval", conv, convOpt, h, scale.convInstances(),
        scale.convTuning(), true, scale.convTuning() == 0 ? CONV_RATES : null, CONV_MS);
    cSteps.addAll(cEvals);
    experiments.add(new Experiment("conv", "Convolutional network on Fashion-MNIST (Fig. 6)",
        cSteps, List.of(new Comparison("conv", "Conv net, Fashion-MNIST (Fig. 6 analogue), " + h
            + " steps", "l2l", h, "lowest", "LSTM optimizers beat every baseline on CIFAR-10",
            sources(cEvals, "l2l", true)))));

    // Break-even: from the quadratic and MNIST steps.
    List<Step> bSteps = new ArrayList<>(qSteps);
    bSteps.addAll(mSteps);
    experiments.add(new Experiment("break-even", "Wall-clock break-even", bSteps, List.of()));

    // Meta-optimizer study.
    List<Step> moSteps = new ArrayList<>(qSteps);
    List<Comparison> moc = new ArrayList<>();
    List<Source> moQuad = new ArrayList<>(sources(qEvals, "l2l", true));
    List<Source> moMnist = new ArrayList<>(sources(mEvals, "l2l", true));
    if (scale.studyMnistEpochs() > 0) {
      moSteps.addAll(mSteps);
    }
    for (Map.Entry<String, List<Double>> e : scale.metaRates().entrySet()) {
      // The meta-gradient's norm reaches 1e11 in the first epochs on the quadratics (the untrained
      // LSTM's steps blow the loss up): meta-SGD and meta-NAG, whose steps scale with it, diverged
      // at every rate tried, so they run with the meta-gradient clipped to norm META_CLIP_NORM.
      boolean clip = e.getKey().equals("sgd") || e.getKey().equals("nag");
      for (String problem : scale.studyMnistEpochs() > 0 ? List.of("quadratic", "mnist")
          : List.of("quadratic")) {
        boolean isMnist = problem.equals("mnist");
        List<String> runs = new ArrayList<>();
        for (double lr : e.getValue()) {
          String id = "meta-" + e.getKey() + (clip ? "-clipped" : "") + "-" + problem + "-"
              + num(lr);
          List<String> args = new ArrayList<>(List.of("--meta-optimizer", e.getKey(),
              "--meta-learning-rate", num(lr)));
          if (clip) {
            args.addAll(List.of("--clip-norm", num(META_CLIP_NORM)));
          }
          Step t = isMnist
              ? train(id, MNIST_EPOCH_S, scale.studyMnistEpochs(), MNIST_START_S, flags(List.of(
                  "--problem", "mnist", "--eval-every", "50", "--eval-instances", "20"), args))
              : train(id, QUAD_EPOCH_S, scale.studyEpochs(), START_S, flags(List.of("--problem",
                  "quadratic"), args));
          moSteps.add(t);
          runs.add(t.id());
        }
        List<Step> ev = evals("meta-" + e.getKey() + "-" + problem + "-eval",
            isMnist ? mnist : quad, "@best:" + String.join("+", runs), h,
            isMnist ? scale.mnistInstances() : scale.quadInstances(), 0, false, null,
            isMnist ? MNIST_MS : QUAD_MS);
        moSteps.addAll(ev);
        (isMnist ? moMnist : moQuad).addAll(sources(ev, "l2l meta-" + e.getKey(), false));
      }
    }
    moc.add(new Comparison("meta-optimizer-quadratic", "Meta-optimizers, quadratics, " + h
        + " steps", "l2l meta-sgd", h, "not-below-rmsprop", "the text this project grew from: "
        + "with SGD as the meta-optimizer the LSTM did worse than RMSprop", moQuad));
    if (scale.studyMnistEpochs() > 0) {
      moc.add(new Comparison("meta-optimizer-mnist", "Meta-optimizers, MNIST, " + h + " steps",
          "l2l meta-sgd", h, "not-below-rmsprop", "as above", moMnist));
    }
    experiments.add(new Experiment("meta-optimizer", "Meta-optimizer study", moSteps, moc));

    // Forget-bias study.
    List<Step> fSteps = new ArrayList<>(qSteps);
    List<Comparison> fc = new ArrayList<>();
    for (String problem : scale.studyMnistEpochs() > 0 ? List.of("quadratic", "mnist")
        : List.of("quadratic")) {
      boolean isMnist = problem.equals("mnist");
      if (isMnist) {
        fSteps.addAll(mSteps);
      }
      List<Source> kept = new ArrayList<>();
      for (Step s : isMnist ? mEvals : qEvals) {
        kept.add(new Source(s.id(), null, true)); // the baselines only (l2lName null)
      }
      for (double fb : FORGET_BIASES) {
        String id = "forget-" + problem + "-" + num(fb);
        Step t = isMnist
            ? train(id, MNIST_EPOCH_S, scale.studyMnistEpochs(), MNIST_START_S, "--problem",
                "mnist", "--eval-every", "50", "--eval-instances", "20", "--forget-bias",
                num(fb))
            : train(id, QUAD_EPOCH_S, scale.studyEpochs(), START_S, "--problem", "quadratic",
                "--forget-bias", num(fb));
        fSteps.add(t);
        List<Step> ev = evals(id + "-eval", isMnist ? mnist : quad, "@step:" + id, h,
            isMnist ? scale.mnistInstances() : scale.quadInstances(), 0, false, null,
            isMnist ? MNIST_MS : QUAD_MS);
        fSteps.addAll(ev);
        kept.addAll(sources(ev, "l2l forget bias " + num(fb), false));
      }
      fc.add(new Comparison("forget-bias-" + problem, "Forget-gate bias, " + problem + ", " + h
          + " steps", "l2l forget bias 1", h, "info", "Sonnet's LSTM, as the official code: 1",
          kept));
    }
    experiments.add(new Experiment("forget-bias", "Forget-gate bias study", fSteps, fc));

    // Horizon study: trained on 100 steps, evaluated to 200 and 400.
    List<Step> hSteps = new ArrayList<>(mSteps.subList(0, scale.mnistEpochs() > 0 ? 1 : 0));
    List<Comparison> hc = new ArrayList<>();
    for (int factor : new int[] {2, 4}) {
      int n = h * factor;
      List<Step> e = evals("horizon-" + n + "-eval", mnist, paperOpt, n,
          scale.horizonInstances(), scale.horizonTuning(), true, null, MNIST_MS);
      List<Step> ft = evals("horizon-" + n + "-finetuned-eval", mnist, fineTuned, n,
          scale.horizonInstances(), 0, false, null, MNIST_MS);
      hSteps.addAll(e);
      hSteps.addAll(ft);
      hc.add(new Comparison("horizon-" + n, "MNIST, trained on " + h + " steps, run for " + n,
          "l2l", n, factor == 2 ? "lowest" : "info", factor == 2
              ? "trained for 100 steps, the LSTM still wins over steps 100-200" : "not in the "
              + "paper", concat(sources(e, "l2l", true),
                  sources(ft, "l2l fine-tuned (200 steps; log loss)", false))));
    }
    experiments.add(new Experiment("horizon", "Horizon study", hSteps, hc));
  }

  /** The forget-gate biases of the study. */
  public static final double[] FORGET_BIASES = {0, 1, 2, 5};

  /** The conv baselines' learning rates tuned in docs/experiments.md (quick scale). */
  public static final String CONV_RATES = "sgd=0.5,nag=0.05,rmsprop=0.01,adam=0.01";
}
