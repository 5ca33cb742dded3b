package org.l2l.examples;

import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import org.l2l.optim.LearnedOptimizer;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * The README's example: a logistic regression on generated 2-D data, trained by a learned
 * optimizer through {@link LearnedOptimizer}, the way one would train it with Adam.
 *
 * <p>Run: {@code java -cp target/l2l.jar org.l2l.examples.LogisticRegression checkpoints/NAME
 * [steps]}. It prints the loss every 10 steps.
 */
public final class LogisticRegression {

  /** Number of data points (half per class). */
  public static final int POINTS = 100;
  /** Default number of optimization steps (the paper's horizon). */
  public static final int STEPS = 100;
  /** Seed of the generated data. */
  public static final long DATA_SEED = 2016;

  private LogisticRegression() {}

  /** The data set: points x [POINTS, 2] (row-major) and labels y [POINTS] in {0, 1}. */
  public record Data(float[] x, float[] y) {}

  /** Two overlapping Gaussian clouds, around (1, 0.5) (label 1) and (-1, -0.5) (label 0). */
  public static Data data(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[2 * POINTS];
    float[] y = new float[POINTS];
    for (int i = 0; i < POINTS; i++) {
      float label = i % 2;
      float sign = label == 1 ? 1f : -1f;
      x[2 * i] = (float) (sign * 1.0 + rng.nextGaussian());
      x[2 * i + 1] = (float) (sign * 0.5 + rng.nextGaussian());
      y[i] = label;
    }
    return new Data(x, y);
  }

  /** The model's loss: mean binary cross-entropy of p = sigmoid(x w + b). */
  public static Operand<TFloat32> loss(Ops tf, Operand<TFloat32> x, Operand<TFloat32> y,
      Operand<TFloat32> w, Operand<TFloat32> b) {
    Operand<TFloat32> logits = tf.math.add(
        tf.reshape(tf.linalg.matMul(x, tf.reshape(w, tf.constant(new long[] {2, 1}))),
            tf.constant(new long[] {-1})), b);
    Operand<TFloat32> p = tf.math.sigmoid(logits);
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> logLikelihood = tf.math.add(
        tf.math.mul(y, tf.math.log(p)),
        tf.math.mul(tf.math.sub(one, y), tf.math.log(tf.math.sub(one, p))));
    return tf.withName("loss").math.neg(tf.math.mean(logLikelihood, tf.constant(0)));
  }

  /**
   * Trains the model from w = 0, b = 0 for {@code steps} steps with the learned optimizer at
   * {@code optimizer} (a run folder or an .l2lw file).
   *
   * @return the loss before each step and after the last ({@code steps + 1} values)
   */
  public static float[] train(Path optimizer, Data data, int steps) {
    float[] losses = new float[steps + 1];
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Operand<TFloat32> x = tf.constant(Shape.of(POINTS, 2), DataBuffers.of(data.x()));
      Operand<TFloat32> y = tf.constant(Shape.of(POINTS), DataBuffers.of(data.y()));
      Variable<TFloat32> w = tf.withName("w").variable(tf.constant(new float[] {0f, 0f}));
      Variable<TFloat32> b = tf.withName("b").variable(tf.constant(0f));
      Operand<TFloat32> loss = loss(tf, x, y, w, b);

      LearnedOptimizer learned = LearnedOptimizer.load(graph, optimizer);
      Op minimize = learned.minimize(loss);

      try (Session session = new Session(graph)) {
        for (int t = 0; t <= steps; t++) {
          // The loss is fetched in its own run: a run that also updates the variables could
          // read them after the update.
          try (Result r = session.runner().fetch(loss).run()) {
            losses[t] = ((TFloat32) r.get(0)).getFloat();
          }
          if (t < steps) {
            session.run(minimize);
          }
        }
      }
    }
    return losses;
  }

  /** Trains the example and prints its loss: {@code LogisticRegression OPTIMIZER [STEPS]}. */
  public static void main(String[] args) {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: LogisticRegression OPTIMIZER [STEPS]   (OPTIMIZER: "
          + "checkpoints/NAME or an .l2lw file)");
      System.exit(2);
    }
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : STEPS;
    float[] losses = train(Path.of(args[0]), data(DATA_SEED), steps);
    for (int t = 0; t <= steps; t += 10) {
      System.out.printf(Locale.ROOT, "step %3d  loss %.6f%n", t, losses[t]);
    }
    System.out.printf(Locale.ROOT, "loss %.6f -> %.6f%n", losses[0], losses[steps]);
  }
}
