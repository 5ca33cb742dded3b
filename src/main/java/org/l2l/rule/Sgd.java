package org.l2l.rule;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** Plain gradient descent: g_t = -lr * grad. */
public final class Sgd extends Baseline {

  /** A default learning rate, used when none is given or tuned. */
  public static final double LEARNING_RATE_DEFAULT = 0.01;

  /** SGD with the given learning rate. */
  public Sgd(double learningRate) {
    super("sgd", learningRate);
  }

  @Override
  int vectorStates() {
    return 0;
  }

  @Override
  RuleGraph.Step step(Ops tf, Operand<TFloat32> lr, Operand<TFloat32> grad,
      List<Operand<TFloat32>> state) {
    return new RuleGraph.Step(tf.math.neg(tf.math.mul(lr, grad)), List.of());
  }
}
