package org.l2l.meta;

import java.util.ArrayList;
import java.util.List;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;

/**
 * Meta-training by truncated backpropagation through time: each epoch samples a new instance,
 * optimizes it for {@code numSteps} steps in unrolls of {@code unrollLength}, and takes one
 * meta-step (Adam on phi) after every unroll. Every {@code evalEvery} epochs the current optimizer
 * is evaluated on fixed validation instances; the listener keeps the best (early stopping).
 *
 * <p>Logging, metrics files and checkpoints are the listener's business, not the loop's.
 */
public final class MetaTrainer {

  /**
   * Settings of one meta-training run.
   *
   * @param maxBadSteps stop after this many meta-steps in a row were skipped for a non-finite
   *     meta-loss or meta-gradient
   */
  public record Settings(int epochs, int numSteps, int unrollLength, int evalEvery,
      int evalInstances, long seed, Unroll.Options unrollOptions, int maxBadSteps) {}

  /**
   * Meta-training diverged: {@code count} meta-steps in a row had a non-finite meta-loss or
   * meta-gradient, the last in unroll {@code unroll} of epoch {@code epoch}. Every skipped step
   * left phi and the meta-optimizer untouched.
   */
  public static final class Diverged extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int epoch;

    Diverged(int epoch, int unroll, int count) {
      super(count + " meta-steps in a row had a non-finite meta-loss or meta-gradient (the last "
          + "in epoch " + epoch + ", unroll " + (unroll + 1) + ")");
      this.epoch = epoch;
    }

    /** The epoch in which training stopped (not completed). */
    public int epoch() {
      return epoch;
    }
  }

  /** Receives the results of meta-training as they come. */
  public interface Listener {
    /** Called when a meta-step was skipped (phi untouched), before the epoch ends. */
    default void metaStepSkipped(int epoch, int unroll, Unroll.Result result) {}

    /** Called after every epoch, evaluated or not. */
    void epochDone(EpochStats stats, Unroll unroll);

    /** Called after an evaluation that improved on every earlier one. */
    default void newBest(EpochStats stats, Unroll unroll) {}

    /** Asked after every epoch (after {@link #epochDone}): stop training now? */
    default boolean stopRequested(int epoch) {
      return false;
    }
  }

  private MetaTrainer() {}

  /** Skipped meta-steps: those of the current epoch, and the run of them in a row. */
  private static final class Skips {
    private final int max;
    private final Listener listener;
    private int inARow;
    int inEpoch;

    Skips(int max, Listener listener) {
      this.max = max;
      this.listener = listener;
    }

    void newEpoch() {
      inEpoch = 0;
    }

    /** Counts a meta-step; throws Diverged after {@code max} skipped ones in a row. */
    void record(int epoch, int unroll, Unroll.Result r) {
      if (!r.skipped()) {
        inARow = 0;
        return;
      }
      inEpoch++;
      inARow++;
      listener.metaStepSkipped(epoch, unroll, r);
      if (inARow >= max) {
        throw new Diverged(epoch, unroll, inARow);
      }
    }
  }

  /**
   * Runs epochs {@code firstEpoch}..{@code settings.epochs()} on an already built unroll (whose
   * meta-parameters hold the starting point).
   *
   * @param bestSoFar best validation loss of earlier epochs (+infinity at the start)
   * @return the last epoch completed (less than {@code settings.epochs()} if stopped)
   * @throws Diverged after {@code settings.maxBadSteps()} skipped meta-steps in a row
   */
  public static int train(Unroll unroll, Settings settings, int firstEpoch, double bestSoFar,
      Listener listener) {
    Problem problem = unroll.problem();
    int unrolls = settings.numSteps() / settings.unrollLength();
    double best = bestSoFar;
    Skips skips = new Skips(settings.maxBadSteps(), listener);
    for (int epoch = firstEpoch; epoch <= settings.epochs(); epoch++) {
      Instance instance = problem.sample(Seeds.random(settings.seed(), Seeds.Stream.TRAIN, epoch));
      unroll.reset(instance);
      double metaLoss = 0;
      double norm = 0;
      double finalLoss = Double.NaN;
      skips.newEpoch();
      for (int k = 0; k < unrolls; k++) {
        Unroll.Result r = unroll.train(instance, k);
        skips.record(epoch, k, r);
        metaLoss += r.metaLoss();
        norm += r.metaGradientNorm();
        finalLoss = r.finalLoss();
      }
      boolean evaluate = evaluates(settings, epoch);
      double validation = evaluate ? validation(unroll, settings) : Double.NaN;
      EpochStats stats = new EpochStats(epoch, metaLoss / unrolls, finalLoss, norm / unrolls,
          validation, skips.inEpoch);
      if (evaluate && validation < best) {
        best = validation;
        listener.newBest(stats, unroll);
      }
      listener.epochDone(stats, unroll);
      if (epoch < settings.epochs() && listener.stopRequested(epoch)) {
        return epoch;
      }
    }
    return settings.epochs();
  }

  /**
   * As {@link #train(Unroll, Settings, int, double, Listener)}, with every meta-step averaging the
   * meta-gradients of {@code parallel.instancesPerStep()} instances on this process and, through
   * {@code parallel.exchange()}, of every worker, before one meta-update ({@link
   * Unroll#applyMetaGradient}) that every worker applies alike. Only the chief evaluates; the
   * listener of the others should write nothing. With one instance on one process this is
   * exactly the other method. Per epoch, the figures reported are means over all instances: the
   * meta-loss, the final loss, and the norm of the averaged meta-gradient.
   */
  public static int train(Unroll unroll, Settings settings, Parallel parallel, int firstEpoch,
      double bestSoFar, Listener listener) {
    if (parallel.instancesPerMetaStep() == 1) {
      return train(unroll, settings, firstEpoch, bestSoFar, listener);
    }
    Problem problem = unroll.problem();
    int unrolls = settings.numSteps() / settings.unrollLength();
    int k = parallel.instancesPerStep();
    Parallel.Exchange exchange = parallel.exchange();
    List<float[]> phi = unroll.metaParamValues();
    int size = 0;
    for (float[] p : phi) {
      size += p.length;
    }
    double best = bestSoFar;
    Skips skips = new Skips(settings.maxBadSteps(), listener);
    for (int epoch = firstEpoch; epoch <= settings.epochs(); epoch++) {
      Instance[] instances = new Instance[k];
      List<List<float[]>> parked = new ArrayList<>();
      for (int j = 0; j < k; j++) {
        instances[j] = problem.sample(Parallel.instanceRandom(settings.seed(), epoch,
            parallel.task() * k + j));
        unroll.reset(instances[j]);
        parked.add(k > 1 ? unroll.carriedValues() : null);
      }
      double metaLoss = 0;
      double norm = 0;
      double finalLoss = Double.NaN;
      skips.newEpoch();
      for (int u = 0; u < unrolls; u++) {
        exchange.context("in epoch " + epoch + ", meta-step " + (u + 1) + " of " + unrolls);
        // Sum in float, instance by instance, then divide: the same arithmetic as the
        // all-reduce's, so that 2 workers x 1 instance repeat 1 process x 2 instances bit for bit.
        float[] local = new float[size + 2];
        for (int j = 0; j < k; j++) {
          if (k > 1) {
            unroll.setCarriedValues(parked.get(j));
          }
          Unroll.Gradients g = unroll.gradients(instances[j], u);
          if (k > 1) {
            parked.set(j, unroll.carriedValues());
          }
          int at = 0;
          for (float[] part : g.metaGradient()) {
            for (float x : part) {
              local[at++] += x;
            }
          }
          local[size] += g.result().metaLoss();
          local[size + 1] += g.result().finalLoss();
        }
        for (int i = 0; i < local.length; i++) {
          local[i] /= k;
        }
        float[] mean = exchange.mean(local);
        if (parallel.appliedGradients() != null) {
          parallel.appliedGradients().accept(mean);
        }
        List<float[]> grads = new ArrayList<>();
        int at = 0;
        for (float[] p : phi) {
          grads.add(java.util.Arrays.copyOfRange(mean, at, at + p.length));
          at += p.length;
        }
        Unroll.Result r = unroll.applyMetaGradient(grads, mean[size]);
        skips.record(epoch, u, r);
        metaLoss += r.metaLoss();
        norm += r.metaGradientNorm();
        finalLoss = mean[size + 1];
      }
      double validation = Double.NaN;
      boolean evaluate = evaluates(settings, epoch);
      if (evaluate && parallel.chief()) {
        exchange.context("in epoch " + epoch + ", evaluation");
        validation = validation(unroll, settings);
      }
      EpochStats stats = new EpochStats(epoch, metaLoss / unrolls, finalLoss, norm / unrolls,
          validation, skips.inEpoch);
      if (evaluate && validation < best) {
        best = validation;
        listener.newBest(stats, unroll);
      }
      exchange.context("at the end of epoch " + epoch);
      boolean stop = exchange.anyStop(listener.stopRequested(epoch));
      listener.epochDone(stats, unroll);
      if (epoch < settings.epochs() && stop) {
        return epoch;
      }
    }
    return settings.epochs();
  }

  /** Whether {@code epoch} ends with an evaluation: every evalEvery epochs, and the last. */
  private static boolean evaluates(Settings settings, int epoch) {
    return epoch % settings.evalEvery() == 0 || epoch == settings.epochs();
  }

  /** Mean loss at the last step over the held-out (validation) instances. */
  private static double validation(Unroll unroll, Settings settings) {
    float[][] losses = Evaluator.run(unroll, settings.seed(), Seeds.Stream.VALIDATION,
        settings.evalInstances(), settings.numSteps(), null);
    return Evaluator.mean(losses, settings.numSteps());
  }

  /** Builds the unroll for meta-training the rules of {@code bindings} on {@code problem}. */
  public static Unroll build(Problem problem, java.util.List<org.l2l.rule.RuleMap.Binding>
      bindings, Settings settings) {
    return new Unroll(problem, bindings, settings.unrollOptions());
  }
}
