package org.l2l.problem;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.l2l.tf.Tensors;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.FloatDataBuffer;
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

  /**
   * Feeds an unroll's minibatches: to {@code images} the images [steps, batchSize, imageDims...],
   * each copied from {@code pixels} (one image after another, each the product of imageDims
   * values) straight into the tensor's memory, and to {@code labels} their one-hot labels
   * [steps, batchSize, classes]. The tensors go into {@code owned}.
   *
   * @param indicesOfStep the images of step t's minibatch (batchSize indices)
   */
  static void feedMinibatches(Session.Runner runner, List<Tensor> owned,
      Operand<TFloat32> images, Operand<TFloat32> labels, float[] pixels, int[] classOf,
      int classes, int steps, int batchSize, IntFunction<int[]> indicesOfStep,
      long... imageDims) {
    int imageSize = (int) java.util.Arrays.stream(imageDims).reduce(1, (a, b) -> a * b);
    int[][] idx = new int[steps][];
    float[] y = new float[steps * batchSize * classes];
    for (int t = 0; t < steps; t++) {
      idx[t] = indicesOfStep.apply(t);
      for (int i = 0; i < batchSize; i++) {
        y[(t * batchSize + i) * classes + classOf[idx[t][i]]] = 1f;
      }
    }
    long[] shape = new long[2 + imageDims.length];
    shape[0] = steps;
    shape[1] = batchSize;
    System.arraycopy(imageDims, 0, shape, 2, imageDims.length);
    // Written in place: an intermediate Java array would cost an 8 MB allocation and a copy per
    // MNIST unroll (about 3.5 of 5.5 ms).
    Tensor xt = TFloat32.tensorOf(Shape.of(shape), x -> {
      FloatDataBuffer buf = x.asRawTensor().data().asFloats();
      for (int t = 0; t < steps; t++) {
        for (int i = 0; i < batchSize; i++) {
          buf.slice((long) (t * batchSize + i) * imageSize, imageSize)
              .write(pixels, idx[t][i] * imageSize, imageSize);
        }
      }
    });
    owned.add(xt);
    Tensor yt = Tensors.floats(y, steps, batchSize, classes);
    owned.add(yt);
    runner.feed(images, xt).feed(labels, yt);
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
