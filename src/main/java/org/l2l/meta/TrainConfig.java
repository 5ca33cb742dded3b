package org.l2l.meta;

import java.util.List;
import org.l2l.UserError;
import org.l2l.config.Check;
import org.l2l.config.Flag;

/**
 * The meta-training settings of a run, each a flag of {@code train} and a key of config.json's
 * {@code "training"} object.
 *
 * @param epochs meta-training epochs, one new instance each
 * @param numSteps optimization steps per instance, the horizon
 * @param unrollLength steps per unroll, one meta-step each
 * @param metaLearningRate the meta-optimizer's learning rate
 * @param metaOptimizer the meta-optimizer: adam (the paper's), sgd, rmsprop or nag
 * @param clipNorm clip the meta-gradient to this global norm; 0 = no clipping
 * @param secondDerivatives keep the gradient-of-gradient terms
 * @param includeInitialLoss add f(theta_0) of each unroll to the meta-loss
 * @param metaLoss sum (the paper) or log
 * @param evalEvery evaluate on held-out instances every N epochs
 * @param evalInstances held-out instances per evaluation
 * @param checkpointEvery write a full checkpoint every N epochs
 * @param seed seed of instances and initial weights
 * @param threads TensorFlow threads; 0 = TensorFlow's choice
 * @param maxBadSteps stop after this many skipped (non-finite) meta-steps in a row
 * @param lstmKernel how the unroll computes the LSTM: step, xla, fused or stock (set from
 *     {@code --lstm-kernel}, resolved)
 */
public record TrainConfig(
    @Flag(name = "--epochs", label = "N", identity = false,
        help = "meta-training epochs, one new instance each (the official code 10,000)")
    int epochs,
    @Flag(name = "--num-steps", label = "N", help = "optimization steps per instance, the horizon")
    int numSteps,
    @Flag(name = "--unroll-length", label = "N",
        help = "steps per unroll, one meta-step each; must divide --num-steps") int unrollLength,
    @Flag(name = "--meta-learning-rate", label = "X",
        help = "the meta-optimizer's learning rate") double metaLearningRate,
    @Flag(name = "--meta-optimizer", label = "NAME",
        help = "the meta-optimizer that updates the LSTM's weights after every unroll: adam (the "
            + "paper's), sgd, rmsprop or nag (the baselines' Torch7 forms), with "
            + "--meta-learning-rate as its rate") String metaOptimizer,
    @Flag(name = "--clip-norm", label = "X",
        help = "clip the meta-gradient to this global norm; 0 = no clipping") double clipNorm,
    @Flag(name = "--second-derivatives",
        help = "keep the gradient-of-gradient terms (paper and official default: off)")
    boolean secondDerivatives,
    @Flag(name = "--include-initial-loss",
        help = "add f(theta_0) of each unroll to the meta-loss, as the official code does (the "
            + "paper sums t = 1..T; the gradient is the same)") boolean includeInitialLoss,
    @Flag(name = "--meta-loss", label = "FORM",
        help = "the meta-loss: sum, the paper's, the sum of f(theta_t) over the unroll; or log, "
            + "the sum of log f(theta_t) (Metz et al. 2019), so late, small losses weigh as much "
            + "as early ones; needs positive losses") String metaLoss,
    @Flag(name = "--eval-every", label = "N",
        help = "evaluate on held-out instances every N epochs") int evalEvery,
    @Flag(name = "--eval-instances", label = "N", help = "held-out instances per evaluation")
    int evalInstances,
    @Flag(name = "--checkpoint-every", label = "N",
        help = "write a full checkpoint to RUN/latest every N epochs, and at the end")
    int checkpointEvery,
    @Flag(name = "--seed", label = "S", help = "seed of instances and initial weights") long seed,
    @Flag(name = "--threads", label = "N", help = "TensorFlow threads; 0 = TensorFlow's choice")
    int threads,
    @Flag(name = "--max-bad-steps", label = "N", identity = false,
        help = "a meta-step whose meta-loss or meta-gradient is not finite is skipped (phi and "
            + "Adam untouched, counted in bad_steps.csv); stop with an error after N in a row")
    int maxBadSteps,
    String lstmKernel) {

  /** Epochs of the reference run (the official code's default is 10,000). */
  public static final int EPOCHS_DEFAULT = 2000;
  /** The paper's horizon. */
  public static final int NUM_STEPS_DEFAULT = 100;
  /** The paper's unroll. */
  public static final int UNROLL_LENGTH_DEFAULT = 20;
  /** The official code's meta learning rate. */
  public static final double META_LEARNING_RATE_DEFAULT = 0.001;
  /** Skipped meta-steps in a row before meta-training gives up. */
  public static final int MAX_BAD_STEPS_DEFAULT = 3;
  /** The values of {@link #metaLoss}. */
  public static final List<String> META_LOSSES = List.of("sum", "log");
  /** The resolved values of {@link #lstmKernel}. */
  public static final List<String> KERNELS = List.of("step", "xla", "fused", "stock");

  /** Every default; the kernel stock (the command line resolves --lstm-kernel). */
  public static final TrainConfig DEFAULTS = new TrainConfig(EPOCHS_DEFAULT, NUM_STEPS_DEFAULT,
      UNROLL_LENGTH_DEFAULT, META_LEARNING_RATE_DEFAULT, MetaOptimizer.DEFAULT, 0, false, false,
      "sum", 100, 50, 100, 1, 0, MAX_BAD_STEPS_DEFAULT, "stock");

  /** Validates every setting, naming the flag. */
  public TrainConfig {
    Check.positive("--epochs", epochs);
    Check.positive("--num-steps", numSteps);
    Check.positive("--unroll-length", unrollLength);
    Check.unrollFits(unrollLength, numSteps);
    Check.positive("--meta-learning-rate", metaLearningRate);
    Check.oneOf("--meta-optimizer", metaOptimizer, MetaOptimizer.NAMES);
    Check.nonNegative("--clip-norm", clipNorm);
    Check.oneOf("--meta-loss", metaLoss, META_LOSSES);
    Check.positive("--eval-every", evalEvery);
    Check.positive("--eval-instances", evalInstances);
    Check.positive("--checkpoint-every", checkpointEvery);
    Check.nonNegative("--threads", threads);
    Check.positive("--max-bad-steps", maxBadSteps);
    if (!KERNELS.contains(lstmKernel)) {
      throw UserError.flag("--lstm-kernel", lstmKernel, "allowed: " + String.join(", ",
          KERNELS));
    }
  }

  /** The same settings with another epoch count. */
  public TrainConfig withEpochs(int newEpochs) {
    return new TrainConfig(newEpochs, numSteps, unrollLength, metaLearningRate, metaOptimizer,
        clipNorm, secondDerivatives, includeInitialLoss, metaLoss, evalEvery, evalInstances,
        checkpointEvery, seed, threads, maxBadSteps, lstmKernel);
  }

  /** The same settings with another kernel. */
  public TrainConfig withKernel(String kernel) {
    return new TrainConfig(epochs, numSteps, unrollLength, metaLearningRate, metaOptimizer,
        clipNorm, secondDerivatives, includeInitialLoss, metaLoss, evalEvery, evalInstances,
        checkpointEvery, seed, threads, maxBadSteps, kernel);
  }

  /** How the unroll is built for meta-training with these settings. */
  public Unroll.Options unrollOptions() {
    return new Unroll.Options(unrollLength, secondDerivatives, includeInitialLoss,
        metaLearningRate, clipNorm, seed, threads, metaLoss.equals("log"), metaOptimizer);
  }

  /** The trainer's settings. */
  public MetaTrainer.Settings settings() {
    return new MetaTrainer.Settings(epochs, numSteps, unrollLength, evalEvery, evalInstances, seed,
        unrollOptions(), maxBadSteps);
  }
}
