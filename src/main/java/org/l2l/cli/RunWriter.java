package org.l2l.cli;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.IntPredicate;
import org.l2l.io.AtomicFiles;
import org.l2l.io.CsvAppender;
import org.l2l.io.OptimizerFile;
import org.l2l.meta.Checkpoint;
import org.l2l.meta.EpochStats;
import org.l2l.meta.MetaTrainer;
import org.l2l.meta.RunConfig;
import org.l2l.meta.Unroll;

/**
 * Writes a run's folder as meta-training goes, so that the training loop knows nothing of files:
 * metrics.csv (a row per epoch), bad_steps.csv (a row per skipped meta-step), the latest
 * checkpoint every --checkpoint-every epochs and at a stop, the best optimizer at every new best,
 * TensorBoard summaries and progress lines.
 */
final class RunWriter implements MetaTrainer.Listener, AutoCloseable {

  /** The file of skipped meta-steps in a run folder. */
  static final String BAD_STEPS = "bad_steps.csv";
  /** The file of per-epoch figures in a run folder. */
  static final String METRICS = "metrics.csv";

  private final Path dir;
  private final RunConfig config;
  private final JsonObject identity;
  private final CsvAppender metrics;
  private final TrainingSummaries summaries;
  private final Progress progress;
  private final IntPredicate stop;
  private CsvAppender badSteps;
  private double best;
  private int bestEpoch;
  private int lastSaved;

  /**
   * @param resumed the checkpoint resumed from (null for a fresh run)
   * @param summaries TensorBoard summaries, or null
   * @param stop asked after every epoch: stop now (Ctrl-C, --stop-after)?
   */
  RunWriter(Path dir, RunConfig config, Checkpoint.State resumed, TrainingSummaries summaries,
      Progress progress, IntPredicate stop) throws IOException {
    this.dir = dir;
    this.config = config;
    this.identity = config.identity();
    this.summaries = summaries;
    this.progress = progress;
    this.stop = stop;
    this.best = resumed == null ? Double.POSITIVE_INFINITY : resumed.bestValidationLoss();
    this.bestEpoch = resumed == null ? 0 : resumed.bestEpoch();
    this.lastSaved = resumed == null ? 0 : resumed.epoch();
    this.metrics = CsvAppender.open(dir.resolve(METRICS), "epoch", "meta_loss", "final_loss",
        "meta_gradient_norm", "validation_loss");
  }

  /** Cuts metrics.csv and bad_steps.csv back to {@code epoch}, the checkpoint resumed from. */
  static void truncate(Path dir, int epoch) throws IOException {
    CsvAppender.truncateRows(dir.resolve(METRICS), epoch);
    Path file = dir.resolve(BAD_STEPS);
    if (!Files.isRegularFile(file)) {
      return;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    StringBuilder kept = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int comma = line.indexOf(',');
      if (i == 0 || (comma > 0 && Integer.parseInt(line.substring(0, comma)) <= epoch)) {
        kept.append(line).append('\n');
      }
    }
    AtomicFiles.writeString(file, kept.toString());
  }

  /** The best validation loss so far (+infinity before any evaluation). */
  double best() {
    return best;
  }

  /** The epoch of {@link #best()} (0 before any evaluation). */
  int bestEpoch() {
    return bestEpoch;
  }

  /** The epoch of the latest checkpoint written (or resumed from); 0 if none. */
  int lastSaved() {
    return lastSaved;
  }

  @Override
  public void metaStepSkipped(int epoch, int unrollIndex, Unroll.Result r) {
    try {
      if (badSteps == null) {
        badSteps = CsvAppender.open(dir.resolve(BAD_STEPS), "epoch", "unroll", "meta_loss",
            "meta_gradient_norm");
      }
      badSteps.append(epoch, unrollIndex + 1, r.metaLoss(), r.metaGradientNorm());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.printf(Locale.ROOT, "epoch %d, unroll %d: meta-loss %s, meta-gradient norm %s: "
        + "meta-step skipped, the optimizer unchanged%n", epoch, unrollIndex + 1, r.metaLoss(),
        r.metaGradientNorm());
  }

  @Override
  public void epochDone(EpochStats s, Unroll u) {
    try {
      metrics.append(s.epoch(), (float) s.metaLoss(), (float) s.finalLoss(),
          (float) s.metaGradientNorm(),
          Double.isNaN(s.validationLoss()) ? "" : (Object) (float) s.validationLoss());
      if (s.epoch() == config.training().epochs()
          || s.epoch() % config.training().checkpointEvery() == 0 || stopRequested(s.epoch())) {
        save(OptimizerFile.LATEST, u, s);
        lastSaved = s.epoch();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (summaries != null) {
      summaries.epoch(s, u);
    }
    progress.epoch(s);
  }

  @Override
  public void newBest(EpochStats s, Unroll u) {
    best = s.validationLoss();
    bestEpoch = s.epoch();
    try {
      save(OptimizerFile.BEST, u, s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    progress.best(s);
  }

  @Override
  public boolean stopRequested(int epoch) {
    return stop.test(epoch);
  }

  private void save(String sub, Unroll unroll, EpochStats s) throws IOException {
    JsonObject meta = new JsonObject();
    meta.addProperty("epoch", s.epoch());
    meta.addProperty("problem", config.problem().name());
    if (!Double.isNaN(s.validationLoss())) {
      meta.addProperty("validation_loss", s.validationLoss());
    }
    Checkpoint.save(dir.resolve(sub), unroll, config.rules(), new Checkpoint.State(s.epoch(),
        best, bestEpoch, identity), meta);
  }

  @Override
  public void close() throws IOException {
    try {
      metrics.close();
    } finally {
      if (badSteps != null) {
        badSteps.close();
      }
    }
  }
}
