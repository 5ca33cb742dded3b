package org.l2l.meta;

import org.l2l.problem.Instance;
import org.l2l.problem.Problem;
import org.l2l.rule.UpdateRule;

/**
 * Meta-training by truncated backpropagation through time: each epoch samples a new instance,
 * optimizes it for {@code numSteps} steps in unrolls of {@code unrollLength}, and takes one
 * meta-step (Adam on phi) after every unroll. Every {@code evalEvery} epochs the current optimizer
 * is evaluated on fixed validation instances; the listener keeps the best (early stopping).
 *
 * <p>Logging, metrics files and checkpoints are the listener's business, not the loop's.
 */
public final class MetaTrainer {

  /** Settings of one meta-training run. */
  public record Settings(int epochs, int numSteps, int unrollLength, int evalEvery,
      int evalInstances, long seed, Unroll.Options unrollOptions) {}

  /** Receives the results of meta-training as they come. */
  public interface Listener {
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

  /**
   * Runs epochs {@code firstEpoch}..{@code settings.epochs()} on an already built unroll (whose
   * meta-parameters hold the starting point).
   *
   * @param bestSoFar best validation loss of earlier epochs (+infinity at the start)
   * @return the last epoch completed (less than {@code settings.epochs()} if stopped)
   */
  public static int train(Unroll unroll, Settings settings, int firstEpoch, double bestSoFar,
      Listener listener) {
    Problem problem = unroll.problem();
    int unrolls = settings.numSteps() / settings.unrollLength();
    double best = bestSoFar;
    for (int epoch = firstEpoch; epoch <= settings.epochs(); epoch++) {
      Instance instance = problem.sample(Seeds.random(settings.seed(), Seeds.Stream.TRAIN, epoch));
      unroll.reset(instance);
      double metaLoss = 0;
      double norm = 0;
      double finalLoss = Double.NaN;
      for (int k = 0; k < unrolls; k++) {
        Unroll.Result r = unroll.train(instance, k);
        metaLoss += r.metaLoss();
        norm += r.metaGradientNorm();
        finalLoss = r.finalLoss();
      }
      double validation = Double.NaN;
      boolean evaluate = epoch % settings.evalEvery() == 0 || epoch == settings.epochs();
      if (evaluate) {
        float[][] losses = Evaluator.run(unroll, settings.seed(), Seeds.Stream.VALIDATION,
            settings.evalInstances(), settings.numSteps(), null);
        validation = Evaluator.mean(losses, settings.numSteps());
      }
      EpochStats stats = new EpochStats(epoch, metaLoss / unrolls, finalLoss, norm / unrolls,
          validation);
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

  /** Builds the unroll for meta-training {@code rule} on {@code problem}. */
  public static Unroll build(Problem problem, UpdateRule rule, Settings settings) {
    return new Unroll(problem, rule, settings.unrollOptions());
  }
}
