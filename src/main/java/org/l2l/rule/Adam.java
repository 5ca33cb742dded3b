package org.l2l.rule;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Adam in Torch7's form (optim.adam): m = b1 m + (1 - b1) grad; v = b2 v + (1 - b2) grad^2;
 * g_t = -lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps).
 */
public final class Adam extends Baseline {

  /** A default learning rate, used when none is given or tuned. */
  public static final double LEARNING_RATE_DEFAULT = 0.001;
  /** Torch7's default beta1. */
  public static final double BETA1_DEFAULT = 0.9;
  /** Torch7's default beta2. */
  public static final double BETA2_DEFAULT = 0.999;
  /** Torch7's default epsilon. */
  public static final double EPSILON_DEFAULT = 1e-8;

  private final double beta1;
  private final double beta2;
  private final double epsilon;

  /** Adam with the given learning rate, betas and epsilon. */
  public Adam(double learningRate, double beta1, double beta2, double epsilon) {
    super("adam", learningRate);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
  }

  @Override
  int vectorStates() {
    return 2;
  }

  @Override
  boolean countsSteps() {
    return true;
  }

  @Override
  RuleGraph.Step step(Ops tf, Operand<TFloat32> lr, Operand<TFloat32> grad,
      List<Operand<TFloat32>> state) {
    Operand<TFloat32> t = tf.math.add(state.get(2), c(tf, 1));
    Operand<TFloat32> m = tf.math.add(tf.math.mul(c(tf, beta1), state.get(0)),
        tf.math.mul(c(tf, 1 - beta1), grad));
    Operand<TFloat32> v = tf.math.add(tf.math.mul(c(tf, beta2), state.get(1)),
        tf.math.mul(c(tf, 1 - beta2), tf.math.square(grad)));
    Operand<TFloat32> correction1 = tf.math.sub(c(tf, 1), tf.math.pow(c(tf, beta1), t));
    Operand<TFloat32> correction2 = tf.math.sub(c(tf, 1), tf.math.pow(c(tf, beta2), t));
    Operand<TFloat32> stepSize = tf.math.div(tf.math.mul(lr, tf.math.sqrt(correction2)),
        correction1);
    Operand<TFloat32> denom = tf.math.add(tf.math.sqrt(v), c(tf, epsilon));
    Operand<TFloat32> update = tf.math.neg(tf.math.mul(stepSize, tf.math.div(m, denom)));
    return new RuleGraph.Step(update, List.of(m, v, t));
  }
}
