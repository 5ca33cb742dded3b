package org.l2l.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.l2l.io.AtomicFiles;
import org.l2l.io.CsvAppender;
import org.l2l.io.FormatException;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Checkpoint;
import org.l2l.meta.Configs;
import org.l2l.meta.EpochStats;
import org.l2l.meta.MetaAdam;
import org.l2l.meta.MetaTrainer;
import org.l2l.meta.Unroll;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemOptions;
import org.l2l.rule.CoordinatewiseLstm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code l2l train}: meta-trains an LSTM optimizer and writes checkpoints/NAME. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Meta-train a coordinatewise LSTM optimizer on a problem family.",
        "Writes checkpoints/RUN/: config.json, metrics.csv (one row per epoch), "
            + "best/optimizer.l2lw (best by evaluation) and latest/optimizer.l2lw; and "
            + "tensorboard/RUN/: the graph, scalars and histograms."})
final class TrainCommand implements Callable<Integer> {

  /** Epochs of the reference run (the official code's default is 10,000). */
  static final int EPOCHS_DEFAULT = 2000;
  /** The paper's horizon. */
  static final int NUM_STEPS_DEFAULT = 100;
  /** The paper's unroll. */
  static final int UNROLL_LENGTH_DEFAULT = 20;

  @Mixin ProblemMixin problem;
  @Mixin LstmMixin lstm;
  @Mixin KernelMixin kernel;

  @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + EPOCHS_DEFAULT,
      description = "Meta-training epochs, one new instance each (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--num-steps", paramLabel = "N", defaultValue = "" + NUM_STEPS_DEFAULT,
      description = "Optimization steps per instance, the horizon (default: ${DEFAULT-VALUE}).")
  int numSteps;

  @Option(names = "--unroll-length", paramLabel = "N", defaultValue = "" + UNROLL_LENGTH_DEFAULT,
      description = "Steps per unroll, one meta-step each; must divide --num-steps "
          + "(default: ${DEFAULT-VALUE}).")
  int unrollLength;

  @Option(names = "--meta-learning-rate", paramLabel = "X",
      defaultValue = "" + MetaAdam.LEARNING_RATE_DEFAULT,
      description = "Adam's learning rate for the meta-step (default: ${DEFAULT-VALUE}).")
  double metaLearningRate;

  @Option(names = "--clip-norm", paramLabel = "X", defaultValue = "0",
      description = "Clip the meta-gradient to this global norm; 0 = no clipping "
          + "(default: ${DEFAULT-VALUE}).")
  double clipNorm;

  @Option(names = "--second-derivatives", defaultValue = "false",
      description = "Keep the gradient-of-gradient terms (paper and official default: off).")
  boolean secondDerivatives;

  @Option(names = "--include-initial-loss", defaultValue = "false",
      description = "Add f(theta_0) of each unroll to the meta-loss, as the official code does "
          + "(the paper sums t = 1..T; the gradient is the same).")
  boolean includeInitialLoss;

  @Option(names = "--meta-loss", paramLabel = "FORM", defaultValue = "sum",
      description = "sum: the paper's meta-loss, the sum of f(theta_t) over the unroll; log: the "
          + "sum of log f(theta_t) (Metz et al. 2019), so late, small losses weigh as much as "
          + "early ones; needs positive losses (default: ${DEFAULT-VALUE}).")
  String metaLoss;

  @Option(names = "--eval-every", paramLabel = "N", defaultValue = "100",
      description = "Evaluate on held-out instances every N epochs (default: ${DEFAULT-VALUE}).")
  int evalEvery;

  @Option(names = "--eval-instances", paramLabel = "N", defaultValue = "50",
      description = "Held-out instances per evaluation (default: ${DEFAULT-VALUE}).")
  int evalInstances;

  @Option(names = "--log-every", paramLabel = "N", defaultValue = "100",
      description = "Print progress every N epochs (default: ${DEFAULT-VALUE}).")
  int logEvery;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
      description = "Seed of instances and initial weights (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--run", paramLabel = "NAME",
      description = "Run name: output in CHECKPOINT_DIR/NAME (default: the problem's name).")
  String run;

  @Option(names = "--checkpoint-dir", paramLabel = "DIR", defaultValue = "checkpoints",
      description = "Folder of the runs (default: ${DEFAULT-VALUE}).")
  Path checkpointDir;

  @Option(names = "--force", defaultValue = "false",
      description = "Replace an existing run folder of the same name.")
  boolean force;

  @Option(names = "--tensorboard-dir", paramLabel = "DIR", defaultValue = "tensorboard",
      description = "Folder of the TensorBoard runs; this run writes DIR/RUN "
          + "(default: ${DEFAULT-VALUE}).")
  Path tensorboardDir;

  @Option(names = "--no-tensorboard", defaultValue = "false",
      description = "Write no TensorBoard events (to measure their cost).")
  boolean noTensorboard;

  @Option(names = "--histogram-every", paramLabel = "N", defaultValue = "100",
      description = "Write histograms (LSTM weights, updates g_t, preprocessed inputs, optimizee "
          + "gradients) every N epochs and at the last (default: ${DEFAULT-VALUE}).")
  int histogramEvery;

  @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "100",
      description = "Write a full checkpoint to RUN/latest every N epochs, and at the end "
          + "(default: ${DEFAULT-VALUE}).")
  int checkpointEvery;

  @Option(names = "--resume", paramLabel = "DIR",
      description = "Continue the run in DIR (checkpoints/NAME) from its latest checkpoint, "
          + "bit-identically; its config.json decides every setting (--epochs may be raised).")
  Path resume;

  @Option(names = "--init-from", paramLabel = "PATH",
      description = "Start from a trained optimizer (a run folder's best optimizer, or an "
          + ".l2lw file) instead of random LSTM weights: to fine-tune it, say with a lower "
          + "--meta-learning-rate, or on another problem. The LSTM settings are the file's "
          + "(LSTM flags, if given, must agree). If the file sits in a checkpoint of a run on the "
          + "same problem, Adam's moments and step counter carry over; otherwise they start at "
          + "zero.")
  Path initFrom;

  @Option(names = "--stop-after", paramLabel = "EPOCH",
      description = "Stop cleanly after this epoch, as Ctrl-C does: checkpoint, then exit.")
  Integer stopAfter;

  @Spec CommandSpec spec;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "TensorFlow threads; 0 = TensorFlow's choice (default: ${DEFAULT-VALUE}).")
  int threads;

  /** Flags that name a setting of config.json, and its dotted key there. */
  private static final Map<String, String> CONFIG_KEYS = Map.ofEntries(
      Map.entry("--problem", "problem.name"), Map.entry("--batch-size", "problem.batchSize"),
      Map.entry("--dims", "problem.dims"), Map.entry("--distribution", "problem.distribution"),
      Map.entry("--coefficients", "problem.coefficients"),
      Map.entry("--samples", "problem.samples"), Map.entry("--noise", "problem.noise"),
      Map.entry("--hidden-units", "problem.hiddenUnits"),
      Map.entry("--hidden-layers", "problem.hiddenLayers"),
      Map.entry("--activation", "problem.activation"),
      Map.entry("--layers", "lstm.layers"), Map.entry("--hidden-size", "lstm.hidden_size"),
      Map.entry("--forget-bias", "lstm.forget_bias"),
      Map.entry("--output-scale", "lstm.output_scale"),
      Map.entry("--preprocess", "lstm.preprocess"),
      Map.entry("--preprocess-p", "lstm.preprocess_p"), Map.entry("--num-steps", "num_steps"),
      Map.entry("--unroll-length", "unroll_length"),
      Map.entry("--meta-learning-rate", "meta_learning_rate"),
      Map.entry("--clip-norm", "clip_norm"),
      Map.entry("--second-derivatives", "second_derivatives"),
      Map.entry("--include-initial-loss", "include_initial_loss"),
      Map.entry("--meta-loss", "meta_loss"),
      Map.entry("--eval-every", "eval_every"), Map.entry("--eval-instances", "eval_instances"),
      Map.entry("--seed", "seed"), Map.entry("--threads", "threads"),
      Map.entry("--checkpoint-every", "checkpoint_every"),
      Map.entry("--lstm-kernel", "lstm_kernel"));
  /** Flags that change nothing the run computes, so may differ on resume. */
  private static final List<String> FREE_ON_RESUME = List.of("--resume", "--epochs",
      "--stop-after", "--log-every", "--tensorboard-dir", "--no-tensorboard",
      "--histogram-every", "--data-dir", "--help", "--version");
  /** config.json keys that are not part of a checkpoint's identity. */
  private static final List<String> NOT_IDENTITY = List.of("run", "epochs");

  @Override
  public Integer call() throws IOException {
    Path dir;
    JsonObject config;
    Checkpoint.State state = null;
    OptimizerFile.Loaded init = null;
    JsonObject initJson = null;
    if (resume != null) {
      dir = resume;
      config = resumedConfig(dir);
    } else {
      if (initFrom != null) {
        initJson = new JsonObject();
        init = initialOptimizer(initJson);
      }
      String name = validateFresh();
      dir = checkpointDir.resolve(name);
      ProblemOptions options = problem.options();
      config = config(options, lstm.config(options.name()), name);
      if (initJson != null) {
        config.add("init_from", initJson);
      }
    }
    ProblemOptions problemOptions = problem.options();
    CoordinatewiseLstm.Config lstmConfig = lstm.config(problemOptions.name());
    String name = config.get("run").getAsString();
    Path tensorboard = tensorboardDir.resolve(name);
    JsonObject identity = config.deepCopy();
    NOT_IDENTITY.forEach(identity::remove);
    // Where the data lives does not change what is computed.
    identity.getAsJsonObject("problem").remove("dataDir");
    // Whether Adam's state was carried over is learnt after the graph is built; the file is the
    // identity.
    if (identity.has("init_from")) {
      identity.getAsJsonObject("init_from").remove("adam");
      identity.getAsJsonObject("init_from").remove("adam_step");
    }
    if (stopAfter != null) {
      Check.positive("--stop-after", stopAfter);
    }

    MetaTrainer.Settings settings = new MetaTrainer.Settings(epochs, numSteps, unrollLength,
        evalEvery, evalInstances, seed, new Unroll.Options(unrollLength, secondDerivatives,
            includeInitialLoss, metaLearningRate, clipNorm, seed, threads,
            "log".equals(metaLoss)));
    Problem p = problemOptions.create();
    // Runs from before --lstm-kernel used stock ops: resuming them keeps them bit-identical.
    CoordinatewiseLstm.Kernel lstmKernel = KernelMixin.resolve(config.has("lstm_kernel")
        ? config.get("lstm_kernel").getAsString() : "stock");
    CoordinatewiseLstm rule = new CoordinatewiseLstm(lstmConfig, lstmKernel);
    try (Unroll unroll = MetaTrainer.build(p, rule, settings)) {
      if (resume != null) {
        Path latest = dir.resolve(OptimizerFile.LATEST);
        AtomicFiles.recover(latest);
        try {
          state = Checkpoint.read(latest, identity);
          Checkpoint.restore(latest, unroll);
        } catch (FormatException e) {
          throw UsageException.flag("--resume", dir, e.getMessage());
        }
        if (state.epoch() >= epochs) {
          throw UsageException.flag("--resume", dir, "the run has finished (" + state.epoch()
              + " of " + epochs + " epochs); give a larger --epochs to continue it");
        }
        CsvAppender.truncateRows(dir.resolve("metrics.csv"), state.epoch());
        config.addProperty("epochs", epochs);
        System.out.printf(Locale.ROOT, "resuming %s from epoch %d of %d%n", dir, state.epoch(),
            epochs);
      } else {
        if (init != null) {
          carryAdam(unroll, identity, initJson);
          unroll.setMetaParamValues(init.values());
        }
        prepareFolder(dir, "--checkpoint-dir");
      }
      if (!noTensorboard) {
        if (resume == null) {
          prepareFolder(tensorboard, "--tensorboard-dir");
        }
      }
      AtomicFiles.writeString(dir.resolve("config.json"),
          new GsonBuilder().setPrettyPrinting().create().toJson(config) + "\n");
      return train(unroll, rule, settings, dir, tensorboard, identity, state);
    }
  }

  /**
   * Reads the optimizer of --init-from, takes its LSTM settings (refusing LSTM flags that
   * disagree) and records its file and SHA-256 in {@code record}.
   */
  private OptimizerFile.Loaded initialOptimizer(JsonObject record) throws IOException {
    OptimizerFlag named = OptimizerFlag.load("--init-from", initFrom);
    Path file = named.file();
    OptimizerFile.Loaded loaded = named.loaded();
    CoordinatewiseLstm.Config c = loaded.config();
    List<String> differing = new java.util.ArrayList<>();
    disagree(differing, "--layers", lstm.layers, c.layers());
    disagree(differing, "--hidden-size", lstm.hiddenSize, c.hiddenSize());
    disagree(differing, "--forget-bias", lstm.forgetBias, c.forgetBias());
    disagree(differing, "--output-scale", lstm.outputScale, c.outputScale());
    disagree(differing, "--preprocess", lstm.preprocess, c.preprocessing().flag());
    disagree(differing, "--preprocess-p", lstm.preprocessP, c.preprocessP());
    if (!differing.isEmpty()) {
      throw UsageException.flag("--init-from", initFrom, "its LSTM settings differ from "
          + String.join(", ", differing) + "; leave those flags out (the file decides them)");
    }
    lstm.layers = c.layers();
    lstm.hiddenSize = c.hiddenSize();
    lstm.forgetBias = c.forgetBias();
    lstm.outputScale = c.outputScale();
    lstm.preprocess = c.preprocessing().flag();
    lstm.preprocessP = c.preprocessP();
    record.addProperty("file", file.toString());
    record.addProperty("sha256", sha256(file));
    if (loaded.metadata().has("epoch")) {
      record.add("epoch", loaded.metadata().get("epoch"));
    }
    return loaded;
  }

  /**
   * Restores the meta-optimizer's state (Adam's moments and step counter) from the checkpoint
   * that holds the --init-from file, when there is one and it was written for the same problem
   * and LSTM (so the same variables); records what happened in {@code record} and says it.
   */
  private void carryAdam(Unroll unroll, JsonObject identity, JsonObject record) {
    Path folder = Path.of(record.get("file").getAsString()).getParent();
    String reason = null;
    if (folder == null || !Files.isRegularFile(folder.resolve(Checkpoint.INDEX))) {
      reason = "no checkpoint beside the file";
    } else {
      try {
        JsonObject saved = Checkpoint.readIdentity(folder);
        JsonObject problem = identity.getAsJsonObject("problem");
        if (!problem.equals(saved.get("problem")) || !identity.get("lstm").equals(
            saved.get("lstm"))) {
          reason = "its checkpoint was written for another problem or LSTM";
        } else {
          Checkpoint.restore(folder, unroll);
        }
      } catch (FormatException e) {
        reason = e.getMessage();
      }
    }
    List<float[]> slots = unroll.metaOptimizerValues();
    float step = slots.isEmpty() ? 0 : slots.get(slots.size() - 1)[0];
    if (reason == null) {
      record.addProperty("adam", "carried over");
      record.addProperty("adam_step", (long) step);
      System.out.printf(Locale.ROOT, "--init-from: Adam's moments and step counter (%d) carried "
          + "over from %s%n", (long) step, folder);
    } else {
      record.addProperty("adam", "zero (" + reason + ")");
      System.out.printf(Locale.ROOT, "--init-from: Adam's moments start at zero (%s)%n", reason);
    }
  }

  /** Adds "FLAG GIVEN (the file's: VALUE)" to {@code out} if FLAG was given and differs. */
  private void disagree(List<String> out, String flag, Object given, Object file) {
    if (spec.commandLine().getParseResult().hasMatchedOption(flag) && !given.equals(file)) {
      out.add(flag + " " + given + " (the file's: " + file + ")");
    }
  }

  private static String sha256(Path file) throws IOException {
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(Files.readAllBytes(file));
      return java.util.HexFormat.of().formatHex(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Validates the flags of a new run and returns its name. */
  private String validateFresh() {
    ProblemOptions problemOptions = problem.options();
    lstm.config(problemOptions.name());
    Check.positive("--epochs", epochs);
    Check.positive("--num-steps", numSteps);
    Check.positive("--unroll-length", unrollLength);
    Check.unrollFits(unrollLength, numSteps);
    Check.positive("--meta-learning-rate", metaLearningRate);
    Check.nonNegative("--clip-norm", clipNorm);
    Check.oneOf("--meta-loss", metaLoss, List.of("sum", "log"));
    Check.positive("--eval-every", evalEvery);
    Check.positive("--eval-instances", evalInstances);
    Check.positive("--log-every", logEvery);
    Check.positive("--histogram-every", histogramEvery);
    Check.positive("--checkpoint-every", checkpointEvery);
    Check.nonNegative("--threads", threads);
    String name = run == null ? problemOptions.name() : run;
    Check.simpleName("--run", name);
    Path dir = checkpointDir.resolve(name);
    if (Files.exists(dir) && !force) {
      throw UsageException.flag("--run", name, dir + " already exists; continue it with "
          + "--resume " + dir + ", choose another --run, or pass --force to replace it");
    }
    return name;
  }

  /**
   * Reads a run's config.json, refuses flags that would change it, and sets every field from it
   * (--epochs may be raised).
   */
  private JsonObject resumedConfig(Path dir) {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw UsageException.flag("--resume", dir, "not a run folder (no config.json)");
    }
    JsonObject saved;
    try {
      saved = com.google.gson.JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    } catch (IOException | RuntimeException e) {
      throw UsageException.flag("--resume", dir, "config.json is unreadable (" + e.getMessage()
          + ")");
    }
    Map<String, com.google.gson.JsonElement> flatSaved = Configs.flatten(saved);
    ProblemOptions givenProblem = problem.options();
    Map<String, com.google.gson.JsonElement> flatGiven = Configs.flatten(
        config(givenProblem, lstm.config(givenProblem.name()), "-"));
    List<String> differing = new java.util.ArrayList<>();
    for (var option : spec.commandLine().getParseResult().matchedOptions()) {
      String flag = option.longestName();
      if (FREE_ON_RESUME.contains(flag)) {
        continue;
      }
      String key = CONFIG_KEYS.get(flag);
      if (key == null) {
        throw UsageException.flag(flag, option.getValue(), "cannot be given with --resume "
            + "(the run's config.json decides it)");
      }
      if (!java.util.Objects.equals(flatSaved.get(key), flatGiven.get(key))) {
        differing.add(key + " (run: " + flatSaved.get(key) + ", given: " + flatGiven.get(key)
            + ")");
      }
    }
    if (!differing.isEmpty()) {
      throw UsageException.flag("--resume", dir, "the run's config differs in "
          + String.join(", ", differing) + "; resume without those flags or start a new run");
    }
    try {
      applyConfig(saved);
    } catch (RuntimeException e) {
      throw UsageException.flag("--resume", dir, "config.json is incomplete or invalid ("
          + e.getMessage() + ")");
    }
    if (!spec.commandLine().getParseResult().hasMatchedOption("--epochs")) {
      epochs = saved.get("epochs").getAsInt();
    }
    Check.positive("--epochs", epochs);
    JsonObject config = saved.deepCopy();
    return config;
  }

  /** Sets this command's settings from a saved config.json. */
  private void applyConfig(JsonObject c) {
    JsonObject pr = c.getAsJsonObject("problem");
    ProblemOptions po = new com.google.gson.Gson().fromJson(pr, ProblemOptions.class);
    problem.problem = po.name();
    problem.batchSize = po.batchSize();
    problem.dims = po.dims();
    problem.distribution = po.distribution();
    problem.coefficients = po.coefficients();
    problem.samples = po.samples();
    problem.noise = po.noise();
    problem.hiddenUnits = po.hiddenUnits();
    problem.hiddenLayers = po.hiddenLayers();
    problem.activation = po.activation();
    if (!spec.commandLine().getParseResult().hasMatchedOption("--data-dir")) {
      problem.dataDir = po.dataDir();
    }
    CoordinatewiseLstm.Config l = OptimizerFile.config(c.getAsJsonObject("lstm"), "config.json");
    lstm.layers = l.layers();
    lstm.hiddenSize = l.hiddenSize();
    lstm.forgetBias = l.forgetBias();
    lstm.outputScale = l.outputScale();
    lstm.preprocess = l.preprocessing().flag();
    lstm.preprocessP = l.preprocessP();
    numSteps = c.get("num_steps").getAsInt();
    unrollLength = c.get("unroll_length").getAsInt();
    metaLearningRate = c.get("meta_learning_rate").getAsDouble();
    clipNorm = c.get("clip_norm").getAsDouble();
    secondDerivatives = c.get("second_derivatives").getAsBoolean();
    includeInitialLoss = c.get("include_initial_loss").getAsBoolean();
    metaLoss = c.has("meta_loss") ? c.get("meta_loss").getAsString() : "sum";
    evalEvery = c.get("eval_every").getAsInt();
    evalInstances = c.get("eval_instances").getAsInt();
    seed = c.get("seed").getAsLong();
    threads = c.get("threads").getAsInt();
    checkpointEvery = c.get("checkpoint_every").getAsInt();
  }

  private int train(Unroll unroll, CoordinatewiseLstm rule, MetaTrainer.Settings settings,
      Path dir, Path tensorboard, JsonObject identity, Checkpoint.State resumed)
      throws IOException {
    Problem p = unroll.problem();
    int first = resumed == null ? 1 : resumed.epoch() + 1;
    double[] best = {resumed == null ? Double.POSITIVE_INFINITY : resumed.bestValidationLoss()};
    int[] bestEpoch = {resumed == null ? 0 : resumed.bestEpoch()};
    System.out.printf(Locale.ROOT, "training %s on %s (%d coordinates): %d epochs of %d steps, "
        + "unroll %d; writing %s%n", rule.name(), p.name(), p.numCoordinates(), epochs, numSteps,
        unrollLength, dir);
    AtomicBoolean interrupted = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    // Ctrl-C or SIGTERM: finish the epoch, write the checkpoint, then let the JVM exit.
    Thread hook = new Thread(() -> {
      interrupted.set(true);
      try {
        finished.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Runtime.getRuntime().addShutdownHook(hook);
    long start = System.nanoTime();
    int last;
    try (CsvAppender metrics = CsvAppender.open(dir.resolve("metrics.csv"), "epoch",
            "meta_loss", "final_loss", "meta_gradient_norm", "validation_loss");
        TrainingSummaries summaries = noTensorboard ? null
            : new TrainingSummaries(tensorboard, unroll, histogramEvery, seed, first, epochs)) {
      Progress progress = new Progress(epochs, logEvery, start, first);
      last = MetaTrainer.train(unroll, settings, first, best[0], new MetaTrainer.Listener() {
        @Override
        public void epochDone(EpochStats s, Unroll u) {
          try {
            metrics.append(s.epoch(), (float) s.metaLoss(), (float) s.finalLoss(),
                (float) s.metaGradientNorm(),
                Double.isNaN(s.validationLoss()) ? "" : (Object) (float) s.validationLoss());
            if (s.epoch() == epochs || s.epoch() % checkpointEvery == 0
                || stopRequested(s.epoch())) {
              save(dir.resolve(OptimizerFile.LATEST), rule, u, s, identity, best[0],
                  bestEpoch[0]);
            }
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          if (summaries != null) {
            summaries.epoch(s, u);
          }
          progress.epoch(s);
        }

        @Override
        public void newBest(EpochStats s, Unroll u) {
          best[0] = s.validationLoss();
          bestEpoch[0] = s.epoch();
          try {
            save(dir.resolve(OptimizerFile.BEST), rule, u, s, identity, best[0], bestEpoch[0]);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          progress.best(s);
        }

        @Override
        public boolean stopRequested(int epoch) {
          return interrupted.get() || (stopAfter != null && epoch >= stopAfter);
        }
      });
      if (last < epochs) {
        System.out.printf(Locale.ROOT, "stopped after epoch %d of %d; checkpoint in %s; "
            + "continue with: ./l2l train --resume %s%n", last, epochs,
            dir.resolve(OptimizerFile.LATEST), dir);
      } else {
        progress.finish(dir, best[0], bestEpoch[0]);
      }
      if (summaries != null) {
        double total = (System.nanoTime() - start) / 1e9;
        double once = summaries.firstHistogramSeconds();
        System.out.printf(Locale.ROOT, "TensorBoard: %s (tensorboard --logdir %s); summaries took "
            + "%.2f s: %.2f s once to prepare the histogram probe, then %.1f%% of the "
            + "remaining run time%n", tensorboard, tensorboardDir, summaries.seconds(), once,
            100 * (summaries.seconds() - once) / Math.max(total - once, 1e-9));
      }
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // the JVM is already shutting down: the hook is running and now released
      }
    }
    return 0;
  }

  /** How long a Ctrl-C waits for the current epoch and its checkpoint. */
  private static final long SHUTDOWN_WAIT_SECONDS = 600;

  private static void prepareFolder(Path dir, String flag) throws IOException {
    try {
      if (Files.exists(dir)) {
        AtomicFiles.deleteRecursively(dir);
      }
      Files.createDirectories(dir);
      if (!Files.isWritable(dir)) {
        throw new IOException("not writable");
      }
    } catch (IOException e) {
      throw UsageException.flag(flag, dir.getParent(),
          "cannot write there (" + e.getMessage() + ")");
    }
  }

  private void save(Path folder, CoordinatewiseLstm rule, Unroll unroll, EpochStats s,
      JsonObject identity, double best, int bestEpoch) throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("epoch", s.epoch());
    meta.addProperty("problem", problem.problem);
    if (!Double.isNaN(s.validationLoss())) {
      meta.addProperty("validation_loss", s.validationLoss());
    }
    Checkpoint.save(folder, unroll, rule, new Checkpoint.State(s.epoch(), best, bestEpoch,
        identity), meta);
  }

  private JsonObject config(ProblemOptions p, CoordinatewiseLstm.Config l, String name) {
    JsonObject o = new JsonObject();
    o.addProperty("run", name);
    o.add("problem", new com.google.gson.Gson().toJsonTree(p));
    o.add("lstm", OptimizerFile.configJson(l));
    o.addProperty("epochs", epochs);
    o.addProperty("num_steps", numSteps);
    o.addProperty("unroll_length", unrollLength);
    o.addProperty("meta_learning_rate", metaLearningRate);
    o.addProperty("clip_norm", clipNorm);
    o.addProperty("second_derivatives", secondDerivatives);
    o.addProperty("include_initial_loss", includeInitialLoss);
    o.addProperty("meta_loss", metaLoss);
    o.addProperty("eval_every", evalEvery);
    o.addProperty("eval_instances", evalInstances);
    o.addProperty("checkpoint_every", checkpointEvery);
    o.addProperty("seed", seed);
    o.addProperty("threads", threads);
    o.addProperty("lstm_kernel", kernel.resolve().flag());
    return o;
  }
}
