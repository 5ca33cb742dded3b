package org.l2l.meta;

import java.util.Arrays;
import java.util.function.IntConsumer;
import org.l2l.problem.Instance;
import org.l2l.problem.Problem;

/**
 * Runs an optimizer (any rule, through its {@link Unroll}) on a set of held-out instances and
 * returns every step's loss. Training's validation, learning-rate tuning and the final comparison
 * all use this, so every optimizer is measured by the same code.
 */
public final class Evaluator {

  private Evaluator() {}

  /**
   * Optimizes {@code count} instances of stream {@code stream} for {@code numSteps} steps each.
   *
   * @return losses[instance][step] for steps 0..numSteps; after a divergence (NaN or infinite
   *     loss) the remaining steps are +infinity, so that a diverged run ranks last
   */
  public static float[][] run(Unroll unroll, long seed, Seeds.Stream stream, int count,
      int numSteps, IntConsumer progress) {
    Problem problem = unroll.problem();
    int length = unroll.unrollLength();
    if (numSteps % length != 0) {
      throw new IllegalArgumentException("numSteps must be a multiple of the unroll length");
    }
    float[][] losses = new float[count][numSteps + 1];
    for (int i = 0; i < count; i++) {
      Instance instance = problem.sample(Seeds.random(seed, stream, i));
      unroll.reset(instance);
      for (int k = 0; k < numSteps / length; k++) {
        float[] l = unroll.run(instance, k).losses();
        System.arraycopy(l, 0, losses[i], k * length, length + 1);
        if (!Float.isFinite(l[length])) {
          Arrays.fill(losses[i], k * length + 1, numSteps + 1, Float.POSITIVE_INFINITY);
          break;
        }
      }
      if (progress != null) {
        progress.accept(i + 1);
      }
    }
    return losses;
  }

  /** Mean over instances of the loss at {@code step}. */
  public static double mean(float[][] losses, int step) {
    double sum = 0;
    for (float[] l : losses) {
      sum += l[step];
    }
    return sum / losses.length;
  }

  /** Median over instances of the loss at {@code step}. */
  public static double median(float[][] losses, int step) {
    double[] v = new double[losses.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = losses[i][step];
    }
    Arrays.sort(v);
    int m = v.length / 2;
    return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
  }

  /** The largest divisor of {@code numSteps} that is at most {@code preferred}. */
  public static int unrollLengthFor(int numSteps, int preferred) {
    for (int u = Math.min(preferred, numSteps); u > 1; u--) {
      if (numSteps % u == 0) {
        return u;
      }
    }
    return 1;
  }
}
