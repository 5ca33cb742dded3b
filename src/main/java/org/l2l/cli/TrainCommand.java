package org.l2l.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.l2l.io.AtomicFiles;
import org.l2l.io.CsvAppender;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.EpochStats;
import org.l2l.meta.MetaAdam;
import org.l2l.meta.MetaTrainer;
import org.l2l.meta.Unroll;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemOptions;
import org.l2l.rule.CoordinatewiseLstm;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code l2l train}: meta-trains an LSTM optimizer and writes checkpoints/NAME. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Meta-train a coordinatewise LSTM optimizer on a problem family.",
        "Writes checkpoints/RUN/: config.json, metrics.csv (one row per epoch), "
            + "best/optimizer.l2lw (best by evaluation) and latest/optimizer.l2lw."})
final class TrainCommand implements Callable<Integer> {

  /** Epochs of the reference run (the official code's default is 10,000). */
  static final int EPOCHS_DEFAULT = 2000;
  /** The paper's horizon. */
  static final int NUM_STEPS_DEFAULT = 100;
  /** The paper's unroll. */
  static final int UNROLL_LENGTH_DEFAULT = 20;

  @Mixin ProblemMixin problem;
  @Mixin LstmMixin lstm;

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

  @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
      description = "TensorFlow threads; 0 = TensorFlow's choice (default: ${DEFAULT-VALUE}).")
  int threads;

  @Override
  public Integer call() throws IOException {
    ProblemOptions problemOptions = problem.options();
    CoordinatewiseLstm.Config lstmConfig = lstm.config(problemOptions.name());
    Check.positive("--epochs", epochs);
    Check.positive("--num-steps", numSteps);
    Check.positive("--unroll-length", unrollLength);
    Check.unrollFits(unrollLength, numSteps);
    Check.positive("--meta-learning-rate", metaLearningRate);
    Check.nonNegative("--clip-norm", clipNorm);
    Check.positive("--eval-every", evalEvery);
    Check.positive("--eval-instances", evalInstances);
    Check.positive("--log-every", logEvery);
    Check.nonNegative("--threads", threads);
    String name = run == null ? problemOptions.name() : run;
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw UsageException.flag("--run", name,
          "must be a simple name (letters, digits, '_', '.', '-')");
    }
    Path dir = checkpointDir.resolve(name);
    if (Files.exists(dir) && !force) {
      throw UsageException.flag("--run", name, dir + " already exists; choose another --run "
          + "or pass --force to replace it");
    }
    prepareFolder(dir);

    MetaTrainer.Settings settings = new MetaTrainer.Settings(epochs, numSteps, unrollLength,
        evalEvery, evalInstances, seed, new Unroll.Options(unrollLength, secondDerivatives,
            includeInitialLoss, metaLearningRate, clipNorm, seed, threads));
    JsonObject config = config(problemOptions, lstmConfig, name);
    AtomicFiles.writeString(dir.resolve("config.json"),
        new GsonBuilder().setPrettyPrinting().create().toJson(config) + "\n");

    Problem p = problemOptions.create();
    CoordinatewiseLstm rule = new CoordinatewiseLstm(lstmConfig);
    System.out.printf(Locale.ROOT, "training %s on %s (%d coordinates): %d epochs of %d steps, "
        + "unroll %d; writing %s%n", rule.name(), p.name(), p.numCoordinates(), epochs, numSteps,
        unrollLength, dir);
    long start = System.nanoTime();
    try (Unroll unroll = MetaTrainer.build(p, rule, settings);
        CsvAppender metrics = CsvAppender.open(dir.resolve("metrics.csv"), "epoch", "meta_loss",
            "final_loss", "meta_gradient_norm", "validation_loss")) {
      Progress progress = new Progress(epochs, logEvery, start);
      MetaTrainer.train(unroll, settings, 1, Double.POSITIVE_INFINITY, new MetaTrainer.Listener() {
        @Override
        public void epochDone(EpochStats s, Unroll u) {
          try {
            metrics.append(s.epoch(), (float) s.metaLoss(), (float) s.finalLoss(),
                (float) s.metaGradientNorm(),
                Double.isNaN(s.validationLoss()) ? "" : (Object) (float) s.validationLoss());
            if (s.epoch() == epochs || s.epoch() % evalEvery == 0) {
              save(dir.resolve(OptimizerFile.LATEST), rule, u, s);
            }
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          progress.epoch(s);
        }

        @Override
        public void newBest(EpochStats s, Unroll u) {
          try {
            save(dir.resolve(OptimizerFile.BEST), rule, u, s);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          progress.best(s);
        }
      });
      progress.finish(dir);
    }
    return 0;
  }

  private static void prepareFolder(Path dir) throws IOException {
    try {
      if (Files.exists(dir)) {
        AtomicFiles.deleteRecursively(dir);
      }
      Files.createDirectories(dir);
      if (!Files.isWritable(dir)) {
        throw new IOException("not writable");
      }
    } catch (IOException e) {
      throw UsageException.flag("--checkpoint-dir", dir.getParent(),
          "cannot write there (" + e.getMessage() + ")");
    }
  }

  private void save(Path folder, CoordinatewiseLstm rule, Unroll unroll, EpochStats s)
      throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("epoch", s.epoch());
    meta.addProperty("problem", problem.problem);
    if (!Double.isNaN(s.validationLoss())) {
      meta.addProperty("validation_loss", s.validationLoss());
    }
    List<float[]> values = unroll.metaParamValues();
    AtomicFiles.replaceDirectory(folder,
        tmp -> OptimizerFile.write(tmp.resolve(OptimizerFile.FILE_NAME), rule, values, meta));
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
    o.addProperty("eval_every", evalEvery);
    o.addProperty("eval_instances", evalInstances);
    o.addProperty("seed", seed);
    o.addProperty("threads", threads);
    return o;
  }
}
