package org.l2l.rule;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Nesterov's accelerated gradient in Torch7's form (optim.sgd with nesterov, dampening 0):
 * v = mu v + grad; g_t = -lr (grad + mu v).
 */
public final class Nag extends Baseline {

  /** A default learning rate, used when none is given or tuned. */
  public static final double LEARNING_RATE_DEFAULT = 0.01;
  /** Momentum mu; Torch7 has no default for Nesterov, 0.9 is the customary value. */
  public static final double MOMENTUM_DEFAULT = 0.9;

  private final double momentum;

  /** NAG with the given learning rate and momentum. */
  public Nag(double learningRate, double momentum) {
    super("nag", learningRate);
    this.momentum = momentum;
  }

  @Override
  int vectorStates() {
    return 1;
  }

  @Override
  RuleGraph.Step step(Ops tf, Operand<TFloat32> lr, Operand<TFloat32> grad,
      List<Operand<TFloat32>> state) {
    Operand<TFloat32> mu = c(tf, momentum);
    Operand<TFloat32> v = tf.math.add(tf.math.mul(mu, state.get(0)), grad);
    Operand<TFloat32> update =
        tf.math.neg(tf.math.mul(lr, tf.math.add(grad, tf.math.mul(mu, v))));
    return new RuleGraph.Step(update, List.of(v));
  }
}
