package org.l2l.rule;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * RMSprop in Torch7's form (optim.rmsprop): m = alpha m + (1 - alpha) grad^2;
 * g_t = -lr grad / (sqrt(m) + eps).
 */
public final class RmsProp extends Baseline {

  /** A default learning rate, used when none is given or tuned. */
  public static final double LEARNING_RATE_DEFAULT = 0.01;
  /** Torch7's default decay alpha. */
  public static final double DECAY_DEFAULT = 0.99;
  /** Torch7's default epsilon. */
  public static final double EPSILON_DEFAULT = 1e-8;

  private final double decay;
  private final double epsilon;

  /** RMSprop with the given learning rate, decay and epsilon. */
  public RmsProp(double learningRate, double decay, double epsilon) {
    super("rmsprop", learningRate);
    this.decay = decay;
    this.epsilon = epsilon;
  }

  @Override
  int vectorStates() {
    return 1;
  }

  @Override
  RuleGraph.Step step(Ops tf, Operand<TFloat32> lr, Operand<TFloat32> grad,
      List<Operand<TFloat32>> state) {
    Operand<TFloat32> m = tf.math.add(tf.math.mul(c(tf, decay), state.get(0)),
        tf.math.mul(c(tf, 1 - decay), tf.math.square(grad)));
    Operand<TFloat32> denom = tf.math.add(tf.math.sqrt(m), c(tf, epsilon));
    Operand<TFloat32> update = tf.math.neg(tf.math.div(tf.math.mul(lr, grad), denom));
    return new RuleGraph.Step(update, List.of(m));
  }
}
