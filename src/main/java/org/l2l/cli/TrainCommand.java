package org.l2l.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.l2l.UserError;
import org.l2l.config.Check;
import org.l2l.dist.ClusterSpec;
import org.l2l.dist.Collectives;
import org.l2l.io.AtomicFiles;
import org.l2l.io.FormatException;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Checkpoint;
import org.l2l.meta.Configs;
import org.l2l.meta.MetaTrainer;
import org.l2l.meta.Parallel;
import org.l2l.meta.ProblemConfig;
import org.l2l.meta.RunConfig;
import org.l2l.meta.TrainConfig;
import org.l2l.meta.Unroll;
import org.l2l.problem.Problem;
import org.l2l.problem.ProblemType;
import org.l2l.rule.CoordinatewiseLstm;
import org.l2l.rule.RuleMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * {@code l2l train}: meta-trains the learned rules of a run and writes checkpoints/RUN. The run's
 * settings are one {@link RunConfig}, built from the flags (each declared once, in its record) or,
 * with {@code --resume}, read from the run's config.json with the flags laid over it.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Meta-train a coordinatewise LSTM optimizer on a problem family.",
        "Writes checkpoints/RUN/: config.json, metrics.csv (one row per epoch), "
            + "best/optimizer.l2lw (best by evaluation) and latest/ (a full checkpoint); and "
            + "tensorboard/RUN/: the graph, scalars and histograms.",
        "With --cluster FILE --task I, one worker of synchronous data-parallel meta-training "
            + "(docs/usage.md#several-machines---cluster).",
        "Exit codes: 0 done or stopped cleanly, 2 bad input, 3 meta-training diverged, 4 a "
            + "worker of --cluster was lost."})
final class TrainCommand implements Callable<Integer> {

  /** Exit code when meta-training diverged (--max-bad-steps skipped meta-steps in a row). */
  static final int EXIT_DIVERGED = 3;

  @Mixin ProblemMixin problem;
  @Mixin KernelMixin kernel;

  @Option(names = "--run", paramLabel = "NAME",
      description = "Run name: output in CHECKPOINT_DIR/NAME (default: the problem's name).")
  String run;

  @Option(names = "--checkpoint-dir", paramLabel = "DIR", defaultValue = "checkpoints",
      description = "Folder of the runs (default: ${DEFAULT-VALUE}).")
  Path checkpointDir;

  @Option(names = "--force", defaultValue = "false",
      description = "Replace an existing run folder of the same name.")
  boolean force;

  @Option(names = "--resume", paramLabel = "DIR",
      description = "Continue the run in DIR (checkpoints/NAME) from its latest checkpoint, "
          + "bit-identically; its config.json decides every setting (--epochs may be raised, "
          + "--data-dir and --max-bad-steps changed).")
  Path resume;

  @Option(names = "--init-from", paramLabel = "PATH",
      description = "Start from a trained optimizer (a run folder's best optimizer, or an "
          + ".l2lw file) instead of random LSTM weights: to fine-tune it, say with a lower "
          + "--meta-learning-rate, or on another problem. The LSTM settings and --rules are the "
          + "file's (flags, if given, must agree). If the file sits in a checkpoint of a run on "
          + "the same problem, Adam's moments and step counter carry over; otherwise they start "
          + "at zero.")
  Path initFrom;

  @Option(names = "--stop-after", paramLabel = "EPOCH",
      description = "Stop cleanly after this epoch, as Ctrl-C does: checkpoint, then exit.")
  Integer stopAfter;

  @Option(names = "--log-every", paramLabel = "N", defaultValue = "100",
      description = "Print progress every N epochs (default: ${DEFAULT-VALUE}).")
  int logEvery;

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

  @Option(names = "--instances-per-step", paramLabel = "K",
      description = "Instances unrolled per meta-step by this process, their meta-gradients "
          + "averaged before one meta-update (default: 1, or the run's with --resume); with "
          + "--cluster every worker unrolls K, so a meta-step averages K x workers instances.")
  Integer instancesPerStep;

  @Option(names = "--cluster", paramLabel = "FILE",
      description = "Meta-train on several workers with TensorFlow's gRPC runtime: FILE lists "
          + "host:port per worker, {\"workers\": [\"host0:2222\", \"host1:2222\"]}; start "
          + "every worker with the same FILE and its --task. Worker 0, the chief, takes the "
          + "other flags, evaluates and writes the run.")
  Path cluster;

  @Option(names = "--task", paramLabel = "I",
      description = "With --cluster: this worker's index in FILE (0 is the chief). The others "
          + "take every setting from the chief: give them only --cluster, --task and, if "
          + "wanted, --step-timeout, --log-every, --meta-gradient-log.")
  Integer task;

  @Option(names = "--step-timeout", paramLabel = "S", defaultValue = "60",
      description = "With --cluster: seconds a worker waits for the others in a meta-step before "
          + "it stops, naming the lost worker; the waits for the chief (start, evaluation, "
          + "checkpoint) last ten times as long (default: ${DEFAULT-VALUE}).")
  double stepTimeout;

  @Option(names = "--meta-gradient-log", paramLabel = "FILE",
      description = "Write every averaged meta-gradient applied to FILE, one line per meta-step "
          + "(then the mean meta-loss and final loss), to compare workers and runs; needs "
          + "--cluster or --instances-per-step above 1.")
  Path metaGradientLog;

  @Spec CommandSpec spec;

  /** Options that are neither settings of the run nor allowed with --resume. */
  private static final List<String> NOT_WITH_RESUME = List.of("--run", "--checkpoint-dir",
      "--force", "--init-from");

  @Override
  public Integer call() throws IOException {
    ParseResult given = spec.commandLine().getParseResult();
    Check.positive("--log-every", logEvery);
    Check.positive("--histogram-every", histogramEvery);
    if (stopAfter != null) {
      Check.positive("--stop-after", stopAfter);
    }
    ClusterSpec clusterSpec = null;
    if (cluster != null) {
      clusterSpec = ClusterSpec.read(cluster);
      int t = clusterSpec.checkTask(task);
      Check.positive("--step-timeout", stepTimeout);
      clusterSpec.checkPortFree(t);
      if (t > 0) {
        return worker(clusterSpec, t, given);
      }
    } else {
      for (String flag : List.of("--task", "--step-timeout")) {
        if (given.hasMatchedOption(flag)) {
          throw UserError.flag(flag, given.matchedOption(flag).getValue(), "needs --cluster "
              + "FILE (the workers of a distributed run)");
        }
      }
    }
    if (instancesPerStep != null) {
      Check.positive("--instances-per-step", instancesPerStep);
    }
    RunConfig config;
    Path dir;
    OptimizerFlag init = null;
    if (resume != null) {
      dir = resume;
      config = resumed(dir, given);
      if (instancesPerStep == null) {
        instancesPerStep = Parallel.recordedInstancesPerStep(dir.resolve("config.json"));
      }
    } else {
      if (initFrom != null) {
        init = OptimizerFlag.load("--init-from", initFrom);
      }
      config = fresh(given, init);
      dir = checkpointDir.resolve(config.run());
    }
    int k = instancesPerStep == null ? 1 : instancesPerStep;
    int workers = clusterSpec == null ? 1 : clusterSpec.size();
    if (metaGradientLog != null && k * workers == 1) {
      throw UserError.flag("--meta-gradient-log", metaGradientLog, "needs --cluster or "
          + "--instances-per-step above 1 (one instance per meta-step applies its own "
          + "meta-gradient inside the graph)");
    }
    Path tensorboard = tensorboardDir.resolve(config.run());
    if (!noTensorboard && resume == null) {
      Folders.checkWritable(tensorboard, "--tensorboard-dir");
    }
    Folders.checkWritable(dir, resume != null ? "--resume" : "--checkpoint-dir");

    TrainConfig training = config.training();
    Problem p = config.problem().create(new ProblemType.Context(false,
        line -> System.out.println(config.problem().name() + ": " + line)));
    CoordinatewiseLstm.Kernel lstmKernel = KernelMixin.resolve(training.lstmKernel());
    List<RuleMap.Binding> bindings = config.rules().bind(p.params(),
        scope -> new CoordinatewiseLstm(config.lstm(), lstmKernel, scope, training.threads()),
        "problem " + p.name());
    MetaTrainer.Settings settings = training.settings();
    try (Unroll unroll = MetaTrainer.build(p, bindings, settings)) {
      JsonObject identity = config.identity();
      Checkpoint.State state = null;
      RunConfig written = config;
      if (resume != null) {
        Path latest = dir.resolve(OptimizerFile.LATEST);
        AtomicFiles.recover(latest);
        try {
          state = Checkpoint.read(latest, identity);
          Checkpoint.restore(latest, unroll);
        } catch (FormatException e) {
          throw UserError.flag("--resume", dir, e.getMessage());
        }
        if (state.epoch() >= training.epochs()) {
          throw UserError.flag("--resume", dir, "the run has finished (" + state.epoch()
              + " of " + training.epochs() + " epochs); give a larger --epochs to continue it");
        }
        RunWriter.truncate(dir, state.epoch());
        System.out.printf(Locale.ROOT, "resuming %s from epoch %d of %d%n", dir, state.epoch(),
            training.epochs());
      } else {
        if (init != null) {
          written = config.withInitFrom(InitFrom.start(unroll, config, init.loaded()));
        }
        Folders.prepare(dir, "--checkpoint-dir");
        if (!noTensorboard) {
          Folders.prepare(tensorboard, "--tensorboard-dir");
        }
      }
      Parallel.writeConfig(written, k, workers, dir.resolve("config.json"));
      ClusterTraining clusterRun = null;
      if (clusterSpec != null) {
        clusterRun = ClusterTraining.join(clusterSpec, 0, stepTimeout);
        clusterRun.setOnLost("; continue from the last checkpoint with: ./l2l train --resume "
            + dir + " [--cluster FILE --task 0]");
        clusterRun.start(written.toJson(), state == null ? 1 : state.epoch() + 1, k);
        clusterRun.shareState(unroll);
      }
      return train(unroll, written, dir, tensorboard, state, k, clusterRun);
    }
  }

  /**
   * The run of a fresh start: the flags over the defaults of the chosen problem, and with
   * --init-from ({@code init}, else null) the file's LSTM settings and rules.
   */
  private RunConfig fresh(ParseResult given, OptimizerFlag init) {
    ProblemConfig problemConfig = problem.config();
    CoordinatewiseLstm.Config lstm = problem.lstm();
    RuleMap rules = problem.rules();
    TrainConfig training = RecordOptions.overlay(
        TrainConfig.DEFAULTS.withKernel(kernel.resolve().flag()), given);
    String name = run == null ? problemConfig.name() : run;
    Check.simpleName("--run", name);
    Path dir = checkpointDir.resolve(name);
    if (Files.exists(dir) && !force) {
      throw UserError.flag("--run", name, dir + " already exists; continue it with "
          + "--resume " + dir + ", choose another --run, or pass --force to replace it");
    }
    JsonObject initRecord = null;
    if (init != null) {
      OptimizerFile.Loaded loaded = init.loaded();
      CoordinatewiseLstm.Config fileLstm = (CoordinatewiseLstm.Config)
          loaded.learned().get(0).rule().config();
      List<String> differing = RecordOptions.differing(fileLstm, given);
      if (given.hasMatchedOption("--rules") && !rules.equals(loaded.rules())) {
        differing.add("--rules " + rules.flag() + " (the file's: " + loaded.rules().flag() + ")");
      }
      if (!differing.isEmpty()) {
        throw UserError.flag("--init-from", initFrom, "its settings differ from "
            + String.join(", ", differing) + "; leave those flags out (the file decides them)");
      }
      lstm = fileLstm;
      rules = loaded.rules();
      initRecord = InitFrom.record(init.file(), loaded);
    }
    return new RunConfig(name, problemConfig, lstm, rules, training, initRecord);
  }

  /**
   * Reads a run's config.json and lays the flags given over it: flags that are not settings are
   * refused; settings that would change what the run computes are refused, naming each differing
   * key; --epochs, --data-dir and --max-bad-steps may change.
   */
  private RunConfig resumed(Path dir, ParseResult given) {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw UserError.flag("--resume", dir, "not a run folder (no config.json)");
    }
    RunConfig saved;
    try {
      saved = RunConfig.read(file);
    } catch (FormatException e) {
      throw UserError.flag("--resume", dir, e.getMessage());
    }
    for (String flag : NOT_WITH_RESUME) {
      if (given.hasMatchedOption(flag)) {
        throw UserError.flag(flag, given.matchedOption(flag).getValue(), "cannot be given with "
            + "--resume (the run's config.json decides it)");
      }
    }
    if (given.hasMatchedOption("--problem") && !problem.problem.equals(saved.problem().name())) {
      throw UserError.flag("--resume", dir, "the run's config differs in problem.name (run: "
          + saved.problem().name() + ", given: " + problem.problem + "); resume without it or "
          + "start a new run");
    }
    ProblemType<?> type = saved.problem().type();
    RecordOptions.onlyOptionsOf(type, given);
    TrainConfig training = RecordOptions.overlay(saved.training(), given);
    if (given.hasMatchedOption("--lstm-kernel")) {
      training = training.withKernel(kernel.resolve().flag());
    }
    RunConfig merged = new RunConfig(saved.run(),
        new ProblemConfig(type, RecordOptions.overlay(saved.problem().options(), given)),
        RecordOptions.overlay(saved.lstm(), given),
        given.hasMatchedOption("--rules") ? RecordOptions.rules(given) : saved.rules(),
        training, saved.initFrom());
    String differing = Configs.differences(saved.identity(), merged.identity(), "run",
        "given");
    if (!differing.isEmpty()) {
      throw UserError.flag("--resume", dir, "the run's config differs in " + differing
          + "; resume without those flags or start a new run");
    }
    return merged;
  }

  private int train(Unroll unroll, RunConfig config, Path dir, Path tensorboard,
      Checkpoint.State resumed, int k, ClusterTraining clusterRun) throws IOException {
    TrainConfig t = config.training();
    Problem p = unroll.problem();
    int epochs = t.epochs();
    int first = resumed == null ? 1 : resumed.epoch() + 1;
    System.out.printf(Locale.ROOT, "training %s on %s (%d coordinates%s): %d epochs of %d steps, "
        + "unroll %d; writing %s%n", describe(unroll), p.name(), p.numCoordinates(),
        config.rules().assignments().isEmpty() ? "" : ", rules " + config.rules().flag(), epochs,
        t.numSteps(), t.unrollLength(), dir);
    int workers = clusterRun == null ? 1 : clusterRun.workers();
    if (k * workers > 1) {
      System.out.printf(Locale.ROOT, "%s%d instance%s per meta-step (%d per worker), "
          + "meta-gradients averaged%n", clusterRun == null ? "" : "worker 0 (chief) of "
          + workers + ": ", k * workers, k * workers == 1 ? "" : "s", k);
    }
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
    Progress progress = new Progress(epochs, logEvery, start, first);
    try (TrainingSummaries summaries = noTensorboard ? null
            : new TrainingSummaries(tensorboard, unroll, histogramEvery, t.seed(), first, epochs);
        RunWriter writer = new RunWriter(dir, config, resumed, summaries, progress,
            epoch -> interrupted.get() || (stopAfter != null && epoch >= stopAfter)
                || (clusterRun != null && clusterRun.stopAgreed()));
        ClusterTraining.GradientLog log = metaGradientLog == null ? null
            : new ClusterTraining.GradientLog(metaGradientLog)) {
      int last;
      try {
        Parallel parallel = new Parallel(k, 0, workers,
            clusterRun == null ? Parallel.Exchange.LOCAL : clusterRun, log);
        last = MetaTrainer.train(unroll, t.settings(), parallel, first, writer.best(), writer);
        if (clusterRun != null) {
          clusterRun.verifyWeights(unroll);
        }
        if (log != null) {
          log.finish();
        }
      } catch (Collectives.LostWorker e) {
        throw new Collectives.LostWorker(e.getMessage() + "; " + (writer.lastSaved() == 0
            ? "no checkpoint was written yet" : "continue from the last checkpoint (epoch "
            + writer.lastSaved() + ") with: ./l2l train --resume " + dir + " [--cluster FILE "
            + "--task 0]"), e);
      } catch (MetaTrainer.Diverged e) {
        spec.commandLine().getErr().printf(Locale.ROOT, "l2l: meta-training diverged: %s; "
            + "stopped without writing a checkpoint (%s); every skipped step is in %s; try a "
            + "lower --meta-learning-rate or --clip-norm%n", e.getMessage(),
            writer.lastSaved() == 0 ? "none was written before" : "the last good one is "
                + dir.resolve(OptimizerFile.LATEST) + ", epoch " + writer.lastSaved(),
            dir.resolve(RunWriter.BAD_STEPS));
        spec.commandLine().getErr().flush();
        return EXIT_DIVERGED;
      }
      if (last < epochs) {
        System.out.printf(Locale.ROOT, "stopped after epoch %d of %d; checkpoint in %s; "
            + "continue with: ./l2l train --resume %s%n", last, epochs,
            dir.resolve(OptimizerFile.LATEST), dir);
      } else {
        progress.finish(dir, writer.best(), writer.bestEpoch());
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

  /** The end of a non-chief worker's message about a lost worker. */
  private static final String WORKER_RESUME = "; the chief's last checkpoint continues the run "
      + "(./l2l train --resume RUN_DIR on the chief)";

  /** Flags a worker other than the chief takes; it receives every setting from the chief. */
  private static final List<String> WORKER_FLAGS = List.of("--cluster", "--task",
      "--step-timeout", "--log-every", "--meta-gradient-log");

  /**
   * A worker other than the chief: receives the run's settings, first epoch and state from the
   * chief, meta-trains its share of the instances and writes nothing but progress lines.
   */
  private int worker(ClusterSpec clusterSpec, int t, ParseResult given) throws IOException {
    for (picocli.CommandLine.Model.OptionSpec o : given.matchedOptions()) {
      if (!WORKER_FLAGS.contains(o.longestName())) {
        throw UserError.flag(o.longestName(), given.matchedOption(o.longestName()).getValue(),
            "not for worker " + t + ": the workers other than the chief (--task 0) take every "
            + "setting from it; give them only " + String.join(", ", WORKER_FLAGS));
      }
    }
    ClusterTraining c = ClusterTraining.join(clusterSpec, t, stepTimeout);
    c.setOnLost(WORKER_RESUME);
    ClusterTraining.Start start = c.start(null, 0, 0);
    RunConfig config = RunConfig.fromJson(start.config(), "the chief's config");
    TrainConfig training = config.training();
    Problem p = config.problem().create(new ProblemType.Context(false,
        line -> System.out.println(config.problem().name() + ": " + line)));
    CoordinatewiseLstm.Kernel lstmKernel = KernelMixin.resolve(training.lstmKernel());
    List<RuleMap.Binding> bindings = config.rules().bind(p.params(),
        scope -> new CoordinatewiseLstm(config.lstm(), lstmKernel, scope),
        "problem " + p.name());
    AtomicBoolean interrupted = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      interrupted.set(true);
      try {
        finished.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Runtime.getRuntime().addShutdownHook(hook);
    try (Unroll unroll = MetaTrainer.build(p, bindings, training.settings());
        ClusterTraining.GradientLog log = metaGradientLog == null ? null
            : new ClusterTraining.GradientLog(metaGradientLog)) {
      c.shareState(unroll);
      System.out.printf(Locale.ROOT, "worker %d of %d: run %s on %s from epoch %d of %d, %d "
          + "instance%s per meta-step on this worker%n", t, c.workers(), config.run(), p.name(),
          start.firstEpoch(), training.epochs(), start.instancesPerStep(),
          start.instancesPerStep() == 1 ? "" : "s");
      long began = System.nanoTime();
      MetaTrainer.Listener listener = new MetaTrainer.Listener() {
        @Override
        public void epochDone(org.l2l.meta.EpochStats s, Unroll u) {
          if (s.epoch() % logEvery == 0 || s.epoch() == training.epochs()) {
            System.out.printf(Locale.ROOT, "worker %d: epoch %d/%d  meta-loss %.4g  %.1f "
                + "epochs/s%n", t, s.epoch(), training.epochs(), s.metaLoss(),
                (s.epoch() - start.firstEpoch() + 1) / ((System.nanoTime() - began) / 1e9));
          }
        }

        @Override
        public boolean stopRequested(int epoch) {
          return interrupted.get();
        }
      };
      int last;
      try {
        last = MetaTrainer.train(unroll, training.settings(), new Parallel(
            start.instancesPerStep(), t, c.workers(), c, log), start.firstEpoch(),
            Double.POSITIVE_INFINITY, listener);
      } catch (Collectives.LostWorker e) {
        throw new Collectives.LostWorker(e.getMessage() + WORKER_RESUME, e);
      } catch (MetaTrainer.Diverged e) {
        spec.commandLine().getErr().printf(Locale.ROOT, "l2l: meta-training diverged: %s; the "
            + "chief's last checkpoint is the last good one%n", e.getMessage());
        spec.commandLine().getErr().flush();
        return EXIT_DIVERGED;
      }
      c.verifyWeights(unroll);
      if (log != null) {
        log.finish();
      }
      System.out.printf(Locale.ROOT, "worker %d: %s after epoch %d of %d%n", t,
          last < training.epochs() ? "stopped" : "done", last, training.epochs());
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

  /** "l2l" for one learned rule; otherwise the rules and their groups. */
  private static String describe(Unroll unroll) {
    if (unroll.bindings().size() == 1) {
      return unroll.rule().name();
    }
    List<String> parts = new ArrayList<>();
    for (RuleMap.Binding b : unroll.bindings()) {
      parts.add(b.label() + " (" + String.join(", ", b.groups()) + ")");
    }
    return String.join(" + ", parts);
  }

  /** How long a Ctrl-C waits for the current epoch and its checkpoint. */
  private static final long SHUTDOWN_WAIT_SECONDS = 600;
}
