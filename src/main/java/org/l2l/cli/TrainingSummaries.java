package org.l2l.cli;

import java.nio.file.Path;
import java.util.List;
import org.l2l.io.tensorboard.EventWriter;
import org.l2l.meta.EpochStats;
import org.l2l.meta.Seeds;
import org.l2l.meta.Unroll;
import org.l2l.problem.Instance;

/**
 * TensorBoard summaries of a meta-training run: the graph once, scalars every epoch, histograms of
 * the LSTM weights, the updates g_t, the preprocessed inputs and the optimizee gradients every
 * {@code histogramEvery} epochs.
 */
final class TrainingSummaries implements AutoCloseable {

  private final EventWriter writer;
  private final int histogramEvery;
  private final int finalEpoch;
  private final long seed;
  private long lastNanos = System.nanoTime();
  private int lastEpoch;
  private long spentNanos;
  private long firstHistogramNanos = -1;
  private boolean sawSkipped;

  TrainingSummaries(Path dir, Unroll unroll, int histogramEvery, long seed, int firstEpoch,
      int finalEpoch) {
    this.writer = new EventWriter(dir);
    this.histogramEvery = histogramEvery;
    this.finalEpoch = finalEpoch;
    this.seed = seed;
    this.lastEpoch = firstEpoch - 1;
    writer.writeGraph(unroll.graph().toGraphDef());
    writer.flush();
  }

  /** Scalars of one epoch, and histograms when the period says so. */
  void epoch(EpochStats s, Unroll unroll) {
    long start = System.nanoTime();
    write(s, unroll);
    spentNanos += System.nanoTime() - start;
  }

  /** Time spent writing summaries so far, in seconds. */
  double seconds() {
    return spentNanos / 1e9;
  }

  /**
   * Time of the first histograms, in seconds: mostly TensorFlow preparing the probe's subgraph,
   * a cost paid once per run (0 before the first histograms).
   */
  double firstHistogramSeconds() {
    return Math.max(firstHistogramNanos, 0) / 1e9;
  }

  private void write(EpochStats s, Unroll unroll) {
    long step = s.epoch();
    writer.scalar("meta_loss", step, s.metaLoss());
    writer.scalar("final_loss", step, s.finalLoss());
    writer.scalar("meta_gradient_norm", step, s.metaGradientNorm());
    if (s.skippedSteps() > 0 || sawSkipped) { // only runs that skipped meta-steps get the tag
      sawSkipped = true;
      writer.scalar("skipped_meta_steps", step, s.skippedSteps());
    }
    if (!Double.isNaN(s.validationLoss())) {
      writer.scalar("evaluation/l2l", step, s.validationLoss());
    }
    // Also at the last epoch, so that every run has histograms, however short.
    if (s.epoch() % histogramEvery == 0 || s.epoch() == finalEpoch) {
      long now = System.nanoTime();
      boolean first = firstHistogramNanos < 0;
      writer.scalar("epochs_per_second", step, (s.epoch() - lastEpoch) / ((now - lastNanos) / 1e9));
      lastNanos = now;
      lastEpoch = s.epoch();
      histograms(step, unroll);
      writer.flush();
      if (first) {
        firstHistogramNanos = System.nanoTime() - now;
      }
    }
  }

  private void histograms(long step, Unroll unroll) {
    List<String> names = unroll.metaParamNames();
    List<float[]> values = unroll.metaParamValues();
    for (int i = 0; i < names.size(); i++) {
      writer.histogram(names.get(i), step, values.get(i));
    }
    // One held-out instance's first unroll: what the optimizer sees and does. The next epoch
    // resets theta and the LSTM state, so this probe leaves training untouched.
    Instance instance = unroll.problem().sample(Seeds.random(seed, Seeds.Stream.VALIDATION, 0));
    unroll.reset(instance);
    // One set per rule, under its label when there are several (lstm_conv, adam_x1, ...).
    List<Unroll.Probe> probes = unroll.probes(instance, 0);
    for (int b = 0; b < probes.size(); b++) {
      Unroll.Probe probe = probes.get(b);
      String suffix = probes.size() == 1 ? "" : "/" + unroll.bindings().get(b).label();
      writer.histogram("updates_g_t" + suffix, step, concat(probe.updates()));
      writer.histogram("optimizee_gradients" + suffix, step, concat(probe.gradients()));
      if (!probe.inputs().isEmpty()) {
        writer.histogram("preprocessed_inputs" + suffix, step, concat(probe.inputs()));
      }
    }
  }

  private static float[] concat(List<float[]> parts) {
    int n = parts.stream().mapToInt(p -> p.length).sum();
    float[] all = new float[n];
    int at = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }

  @Override
  public void close() {
    writer.close();
  }
}
