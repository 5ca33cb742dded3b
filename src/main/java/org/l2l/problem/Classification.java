package org.l2l.problem;

import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** What the image classification problems (mnist, conv) share: minibatches and their loss. */
final class Classification {

  private Classification() {}

  /**
   * The image indices of the minibatch of global step {@code step} of an instance whose batch
   * seed is {@code batchSeed}: drawn from a stream derived from the seed and the step only, so
   * the same seed gives the same minibatches, and the last step of one unroll and the first of
   * the next (the same parameters) see the same minibatch.
   *
   * @param mix the problem's constant that mixes the step into the seed
   */
  static int[] batchIndices(long batchSeed, long step, long mix, int batchSize, int count) {
    // SplittableRandom(seed + GOLDEN) is SplittableRandom(seed) shifted by one draw, so the step
    // is mixed in through a different constant and a first nextLong (a 64-bit mix).
    SplittableRandom r = new SplittableRandom(new SplittableRandom(batchSeed + step * mix)
        .nextLong());
    int[] idx = new int[batchSize];
    for (int i = 0; i < batchSize; i++) {
      idx[i] = r.nextInt(count);
    }
    return idx;
  }

  /** The mean softmax cross-entropy of {@code logits} [batch, classes] against one-hot labels. */
  static Operand<TFloat32> crossEntropy(Ops tf, Operand<TFloat32> logits,
      Operand<TFloat32> oneHot, int batchSize) {
    return meanCrossEntropy(tf, tf.nn.logSoftmax(logits), oneHot, batchSize);
  }

  /** The mean cross-entropy from log-probabilities [batch, classes] and one-hot labels. */
  static Operand<TFloat32> meanCrossEntropy(Ops tf, Operand<TFloat32> logProbabilities,
      Operand<TFloat32> oneHot, int batchSize) {
    Operand<TFloat32> picked = tf.reduceSum(tf.math.mul(oneHot, logProbabilities),
        tf.constant(new int[] {0, 1}));
    return tf.withName("loss").math.mul(picked, tf.constant(-1f / batchSize));
  }
}
